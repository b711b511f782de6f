// Eigen backend: the NTK Gram matrix H∞ (SPEC §1) of the rows x_i·s_i, lower triangle, built
// tile by tile and feature panel by panel (tile_panels.hpp). Twin of blas_gram.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "centred_tile.hpp"
#include "feature_rows.hpp"
#include "ntk_transform.hpp"
#include "relu_ntk.hpp"
#include "parallel.hpp"
#include "tile_panels.hpp"
#include "tiled_l1_norm.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kGramTile = 256;

// Writes the lower triangle (diagonal included) of H for the rows of X scaled by `scale`
// (1/‖x_i‖, from row_prepare.hpp; ones for rows already of unit length) into H; returns ‖H‖₁.
// Entries above the diagonal inside diagonal tiles are scratch; nothing reads them.
// ridge is added to the diagonal (the documented duplicate policy), whose value is exactly 1/2
// for the paper's kernel (depth 0) and L + 1 for the depth-L NTK (relu_ntk.hpp).
template <class T>
double build_ntk_gram(const FeatureRows<T>& X, const Eigen::Ref<const Vector>& scale, Eigen::Ref<ColMatrix> H,
                      double ridge, const Workers& workers, int depth = 0) {
  check_kernel_depth(depth);
  const double diagonal = kernel_diagonal(depth) + ridge;
  using Panel = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
  const Index n = X.rows;
  const std::vector<Tile> tiles = lower_tiles(n, kGramTile);
  TiledL1Norm norm(tiles);
  PanelPool panels;  // freed when the Gram matrix is done
  parallel_for(static_cast<Index>(tiles.size()), workers, [&](Index t) {
    const Tile& tile = tiles[t];
    auto block = H.block(tile.row, tile.col, tile.rows, tile.cols);
    const auto multiply = [&](const double* A, Index lda, const double* B, Index ldb, Index width, bool first) {
      const Panel rows(A, tile.rows, width, Eigen::OuterStride<>(lda)), cols(B, tile.cols, width, Eigen::OuterStride<>(ldb));
      if (first) {
        block.noalias() = rows * cols.transpose();
      } else {
        block.noalias() += rows * cols.transpose();
      }
    };
    TileScratch scratch(tile, X.cols, panels);
    if (!centred_tile(X, scale.data(), tile, block.data(), H.outerStride(), scratch, multiply, depth)) {
      tile_product(X, tile, scratch, multiply);
      for (Index j = 0; j < tile.cols; ++j) {  // while the tile is hot
        kernel_transform_column(&block(0, j), tile.rows, tile.row, tile.col + j, X, scale.data(), depth);
      }
    }
    if (tile.row == tile.col) {
      for (Index k = 0; k < tile.rows; ++k) block(k, k) = diagonal;
    }
    norm.add(t, block.data(), H.outerStride());
  });
  return norm.value(n);
}

inline double build_ntk_gram(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                             Eigen::Ref<ColMatrix> H, double ridge, const Workers& workers, int depth = 0) {
  return build_ntk_gram(feature_rows(X), scale, H, ridge, workers, depth);
}

}  // namespace cgscore
