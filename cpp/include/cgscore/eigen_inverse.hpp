// Eigen backend: in-place blocked inverse of a lower-triangular L (LAPACK dtrtri, lower,
// non-unit). Twin of blas_inverse.hpp.
#pragma once

#include <algorithm>

#include <Eigen/Core>

#include "parallel.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kInverseBlock = 128;

// Overwrites the lower triangle of A (= L) with L⁻¹. Works from the last diagonal
// block back to the first, so the trailing part is already inverted when needed:
//   A21 := −(L22⁻¹ A21) L11⁻¹,   A11 := L11⁻¹.
inline void invert_lower_in_place(Eigen::Ref<ColMatrix> A, const Workers& workers) {
  const Index n = A.rows();
  if (n == 0) return;
  ColMatrix scratch;
  const Index last = ((n - 1) / kInverseBlock) * kInverseBlock;
  for (Index j = last; j >= 0; j -= kInverseBlock) {
    workers.throw_if_stopped();
    const Index jb = std::min(kInverseBlock, n - j);
    const Index below = n - j - jb;
    auto A11 = A.block(j, j, jb, jb);
    if (below > 0) {
      const auto L22inv = A.block(j + jb, j + jb, below, below);
      auto A21 = A.block(j + jb, j, below, jb);
      scratch.resize(below, jb);
      const Index chunks = (below + kInverseBlock - 1) / kInverseBlock;
      parallel_for(chunks, workers, [&](Index c) {
        const Index r0 = c * kInverseBlock, rows = std::min(kInverseBlock, below - r0);
        auto out = scratch.middleRows(r0, rows);
        // Row block of L22⁻¹ A21: the full part left of the diagonal, then the triangle.
        out.noalias() = L22inv.block(r0, r0, rows, rows).triangularView<Eigen::Lower>() *
                        A21.middleRows(r0, rows);
        if (r0 > 0) out.noalias() += L22inv.block(r0, 0, rows, r0) * A21.topRows(r0);
        A11.triangularView<Eigen::Lower>().template solveInPlace<Eigen::OnTheRight>(out);
      });
      A21 = -scratch;
    }
    // Small diagonal block: column by column, L11⁻¹ e_c by forward substitution.
    ColMatrix inv = ColMatrix::Identity(jb, jb);
    A11.triangularView<Eigen::Lower>().solveInPlace(inv);
    A11.triangularView<Eigen::Lower>() = inv;
  }
}

}  // namespace cgscore
