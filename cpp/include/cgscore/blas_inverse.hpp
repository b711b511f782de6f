// BLAS backend: recursive inverse of a lower-triangular L on a run-time BLAS. Twin of
// eigen_inverse.hpp; the same halving as blas_factor.hpp (LAPACK's dtrtri runs at about half
// the speed), the small diagonal leaves inverted by the Eigen code.
#pragma once

#include "blas_blocks.hpp"
#include "blas_library.hpp"
#include "eigen_inverse.hpp"
#include "types.hpp"
#include "workers.hpp"

namespace cgscore {

// In place: the lower triangle L of the n×n block at A becomes L⁻¹, from
//   L⁻¹ = [L11⁻¹ 0; −L22⁻¹ L21 L11⁻¹  L22⁻¹]  (two dtrmm per level, n³/3 flops in all).
inline void blas_invert_lower_in_place(const BlasLibrary& blas, double* A, blas_int lda, Index n, const Workers& workers) {
  workers.throw_if_stopped();
  if (n <= kBlasLeaf) {
    StridedBlock leaf(A, n, n, Eigen::OuterStride<>(lda));
    invert_lower_in_place(leaf, 1);
    return;
  }
  const blas_int n1 = split_point(n), n2 = n - n1;
  double* A21 = A + n1;
  double* A22 = A + n1 + n1 * lda;
  blas_invert_lower_in_place(blas, A, lda, n1, workers);
  blas_invert_lower_in_place(blas, A22, lda, n2, workers);
  blocked_left_lower(blas.dtrmm, "N", n2, n1, -1.0, A22, lda, A21, lda, workers);  // −L22⁻¹ A21
  blocked_right_lower(blas.dtrmm, "N", n2, n1, 1.0, A, lda, A21, lda, workers);    // … L11⁻¹
}

}  // namespace cgscore
