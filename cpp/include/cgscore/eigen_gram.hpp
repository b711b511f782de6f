// Eigen backend: the NTK Gram matrix H∞ (SPEC §1) of the rows x_i·s_i, lower triangle, built
// tile by tile. Twin of blas_gram.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "centred_tile.hpp"
#include "ntk_transform.hpp"
#include "parallel.hpp"
#include "tiled_l1_norm.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kGramTile = 256;

// Writes the lower triangle (diagonal included) of H for the rows of X scaled by `scale`
// (1/‖x_i‖, from row_prepare.hpp; ones for rows already of unit length) into H; returns ‖H‖₁.
// Entries above the diagonal inside diagonal tiles are scratch; nothing reads them.
// ridge is added to the diagonal (the documented duplicate policy), whose NTK value is exactly 1/2.
inline double build_ntk_gram(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                           Eigen::Ref<ColMatrix> H, double ridge, const Workers& workers) {
  const Index n = X.rows();
  const std::vector<Tile> tiles = lower_tiles(n, kGramTile);
  TiledL1Norm norm(tiles);
  parallel_for(static_cast<Index>(tiles.size()), workers, [&](Index t) {
    const Tile& tile = tiles[t];
    auto block = H.block(tile.row, tile.col, tile.rows, tile.cols);
    const auto shifted_product = [&](const double* Zr, const double* Zc, Index width, bool first) {
      const Eigen::Map<const RowMatrix> rows(Zr, tile.rows, width), cols(Zc, tile.cols, width);
      if (first) {
        block.noalias() = rows * cols.transpose();
      } else {
        block.noalias() += rows * cols.transpose();
      }
    };
    if (!centred_tile(X.data(), X.outerStride(), X.cols(), scale.data(), tile, block.data(), H.outerStride(),
                      shifted_product)) {
      block.noalias() = X.middleRows(tile.row, tile.rows) * X.middleRows(tile.col, tile.cols).transpose();
      for (Index j = 0; j < tile.cols; ++j) {  // while the tile is hot
        ntk_transform_column(&block(0, j), tile.rows, tile.row, tile.col + j, X.data(), X.outerStride(), X.cols(),
                             scale.data());
      }
    }
    if (tile.row == tile.col) {
      for (Index k = 0; k < tile.rows; ++k) block(k, k) = 0.5 + ridge;
    }
    norm.add(t, block.data(), H.outerStride());
  });
  return norm.value(n);
}

}  // namespace cgscore
