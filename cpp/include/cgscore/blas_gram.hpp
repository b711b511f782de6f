// BLAS backend (twin of eigen_gram.hpp): the NTK Gram matrix H∞ (lower triangle) on a run-time BLAS: single-threaded
// dsyrk/dgemm per tile and feature panel (tile_panels.hpp), then, while the tile is still in
// cache, the rows' unit-length scaling, the NTK transform and the tile's share of ‖H‖₁.
#pragma once

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "blas_blocks.hpp"
#include "blas_library.hpp"
#include "centred_tile.hpp"
#include "feature_rows.hpp"
#include "ntk_transform.hpp"
#include "relu_ntk.hpp"
#include "tile_panels.hpp"
#include "tiled_l1_norm.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

// Writes the lower triangle of H for the rows of X scaled by `scale` (1/‖x_i‖) and returns ‖H‖₁.
template <class T>
double build_ntk_gram_blas(const BlasLibrary& blas, const FeatureRows<T>& X, const Eigen::Ref<const Vector>& scale,
                           Eigen::Ref<ColMatrix> H, double ridge, const Workers& workers, int depth = 0) {
  check_kernel_depth(depth);
  const double diagonal = kernel_diagonal(depth) + ridge;
  const blas_int ldh = H.outerStride();
  const double one = 1.0;
  const Index width = panel_width(X.rows);  // tiles depend on n only, not on the thread count
  const std::vector<Tile> tiles = lower_panels(X.rows, width, 2 * width);
  const std::vector<Index> order = largest_first(tiles);
  TiledL1Norm norm(tiles);
  PanelPool panels;  // freed when the Gram matrix is done
  run_blocks(static_cast<Index>(tiles.size()), workers, [&](Index next) {
    const Index t = order[next];
    const Tile& tile = tiles[t];
    const blas_int rows = tile.rows, cols = tile.cols;
    double* out = &H(tile.row, tile.col);
    // Row-major panels are column-major transposes: a tile of A Bᵀ is dgemm("T", "N") of them.
    const auto multiply = [&](const double* A, Index lda, const double* B, Index ldb, Index panel, bool first) {
      const blas_int w = panel, la = lda, lb = ldb;
      const double beta = first ? 0.0 : 1.0;
      if (tile.row == tile.col) {
        blas.dsyrk("L", "T", &rows, &w, &one, A, &la, &beta, out, &ldh, 1, 1);
      } else {
        blas.dgemm("T", "N", &rows, &cols, &w, &one, A, &la, B, &lb, &beta, out, &ldh, 1, 1);
      }
    };
    TileScratch scratch(tile, X.cols, panels);
    // Concentrated tiles: the same products on the rows shifted to their centre (centred_tile.hpp).
    if (!centred_tile(X, scale.data(), tile, out, ldh, scratch, multiply, depth)) {
      tile_product(X, tile, scratch, multiply);
      for (Index j = 0; j < tile.cols; ++j) {
        const Index first = tile.row == tile.col ? j : 0;  // the lower triangle only
        kernel_transform_column(out + first + j * ldh, tile.rows - first, tile.row + first, tile.col + j, X,
                                scale.data(), depth);
      }
    }
    if (tile.row == tile.col) {
      for (Index j = 0; j < tile.cols; ++j) out[j + j * ldh] = diagonal;  // exactly 1/2 (paper), L + 1 (depth L)
    }
    norm.add(t, out, ldh);
  });
  return norm.value(X.rows);
}

inline double build_ntk_gram_blas(const BlasLibrary& blas, const Eigen::Ref<const RowMatrix>& X,
                                  const Eigen::Ref<const Vector>& scale, Eigen::Ref<ColMatrix> H, double ridge,
                                  const Workers& workers, int depth = 0) {
  return build_ntk_gram_blas(blas, feature_rows(X), scale, H, ridge, workers, depth);
}

}  // namespace cgscore
