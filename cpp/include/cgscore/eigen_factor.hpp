// Eigen backend: in-place blocked Cholesky H = L Lᵀ (lower), right-looking, parallel over
// row blocks and tiles. Twin of blas_factor.hpp.
#pragma once

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "diagonal_factor.hpp"
#include "parallel.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kFactorBlock = 128;

// Overwrites the lower triangle of A with L. A pivot at or below `tolerance`
// (numerically zero) raises FactorizationError naming it.
inline PivotReport cholesky_in_place(Eigen::Ref<ColMatrix> A, double tolerance, const Workers& workers) {
  const Index n = A.rows();
  PivotReport report;
  for (Index k = 0; k < n; k += kFactorBlock) {
    workers.throw_if_stopped();
    const Index kb = std::min(kFactorBlock, n - k);
    factor_diagonal_block(A.block(k, k, kb, kb), k, tolerance, report);
    const Index below = n - k - kb;
    if (below == 0) break;
    const auto L11 = A.block(k, k, kb, kb);
    auto A21 = A.block(k + kb, k, below, kb);

    // A21 := A21 L11⁻ᵀ, rows independent.
    const Index row_chunks = (below + kFactorBlock - 1) / kFactorBlock;
    parallel_for(row_chunks, workers, [&](Index c) {
      const Index r0 = c * kFactorBlock, rows = std::min(kFactorBlock, below - r0);
      auto part = A21.middleRows(r0, rows);
      L11.triangularView<Eigen::Lower>().transpose().template solveInPlace<Eigen::OnTheRight>(part);
    });

    // A22 := A22 − A21 A21ᵀ on the lower triangle, one GEMM per tile.
    const std::vector<Tile> tiles = lower_tiles(below, kFactorBlock);
    parallel_for(static_cast<Index>(tiles.size()), workers, [&](Index t) {
      const Tile& tile = tiles[t];
      A.block(k + kb + tile.row, k + kb + tile.col, tile.rows, tile.cols).noalias() -=
          A21.middleRows(tile.row, tile.rows) * A21.middleRows(tile.col, tile.cols).transpose();
    });
  }
  return report;
}

}  // namespace cgscore
