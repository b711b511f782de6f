// BLAS backend (twin of eigen_gram.hpp): the NTK Gram matrix H∞ (lower triangle) on a run-time BLAS: one single-threaded
// dsyrk/dgemm per tile, then, while the tile is still in cache, the rows' unit-length
// scaling, the NTK transform and the tile's share of ‖H‖₁.
#pragma once

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "blas_blocks.hpp"
#include "blas_library.hpp"
#include "centred_tile.hpp"
#include "ntk_transform.hpp"
#include "tiled_l1_norm.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

// Writes the lower triangle of H for the rows of X scaled by `scale` (1/‖x_i‖) and returns ‖H‖₁.
inline double build_ntk_gram_blas(const BlasLibrary& blas, const Eigen::Ref<const RowMatrix>& X,
                                  const Eigen::Ref<const Vector>& scale, Eigen::Ref<ColMatrix> H, double ridge,
                                  const Workers& workers) {
  const blas_int d = X.cols(), ldx = std::max<Index>(X.outerStride(), 1), ldh = H.outerStride();
  const double one = 1.0, zero = 0.0;
  const Index width = panel_width(X.rows());  // tiles depend on n only, not on the thread count
  const std::vector<Tile> tiles = lower_panels(X.rows(), width, 2 * width);
  const std::vector<Index> order = largest_first(tiles);
  TiledL1Norm norm(tiles);
  // Row-major X (n×d) is column-major Xᵀ (d×n): a tile of X Xᵀ is (Xᵀ_rows)ᵀ Xᵀ_cols, trans "T".
  run_blocks(static_cast<Index>(tiles.size()), workers, [&](Index next) {
    const Index t = order[next];
    const Tile& tile = tiles[t];
    const blas_int rows = tile.rows, cols = tile.cols;
    const double* Xr = X.data() + tile.row * ldx;
    double* out = &H(tile.row, tile.col);
    // Concentrated tiles: the same products on the rows shifted to their centre (centred_tile.hpp).
    const auto shifted_product = [&](const double* Zr, const double* Zc, Index width, bool first) {
      const blas_int w = width;
      const double beta = first ? 0.0 : 1.0;
      if (tile.row == tile.col) {
        blas.dsyrk("L", "T", &rows, &w, &one, Zr, &w, &beta, out, &ldh, 1, 1);
      } else {
        blas.dgemm("T", "N", &rows, &cols, &w, &one, Zr, &w, Zc, &w, &beta, out, &ldh, 1, 1);
      }
    };
    if (!centred_tile(X.data(), ldx, d, scale.data(), tile, out, ldh, shifted_product)) {
      if (tile.row == tile.col) {
        blas.dsyrk("L", "T", &rows, &d, &one, Xr, &ldx, &zero, out, &ldh, 1, 1);
      } else {
        blas.dgemm("T", "N", &rows, &cols, &d, &one, Xr, &ldx, X.data() + tile.col * ldx, &ldx, &zero, out, &ldh, 1,
                   1);
      }
      for (Index j = 0; j < tile.cols; ++j) {
        const Index first = tile.row == tile.col ? j : 0;  // the lower triangle only
        ntk_transform_column(out + first + j * ldh, tile.rows - first, tile.row + first, tile.col + j, X.data(), ldx,
                             d, scale.data());
      }
    }
    if (tile.row == tile.col) {
      for (Index j = 0; j < tile.cols; ++j) out[j + j * ldh] = 0.5 + ridge;  // the NTK diagonal is exactly 1/2
    }
    norm.add(t, out, ldh);
  });
  return norm.value(X.rows());
}

}  // namespace cgscore
