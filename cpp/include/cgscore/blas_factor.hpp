// Recursive Cholesky and triangular inverse on a run-time BLAS (blas_library.hpp).
// Halving the matrix puts nearly all flops into a few large level-3 operations, run as
// fixed blocks (blas_blocks.hpp) at close to dgemm speed; LAPACK's dpotrf/dtrtri use
// narrow panels and run at about half. The small diagonal leaves use the Eigen code,
// which checks and reports every pivot.
#pragma once

#include <algorithm>

#include <Eigen/Core>

#include "blas_blocks.hpp"
#include "blas_library.hpp"
#include "cholesky.hpp"
#include "triangular_inverse.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kBlasLeaf = 128;

using StridedBlock = Eigen::Map<ColMatrix, 0, Eigen::OuterStride<>>;

// Splits near the middle, on a multiple of the leaf so the blocks stay aligned.
inline Index split_point(Index n) { return std::max(kBlasLeaf, (n / 2 + kBlasLeaf / 2) / kBlasLeaf * kBlasLeaf); }

// In place: the lower triangle of the n×n block at A (leading dimension lda) becomes L.
// `offset` is the block's first row in the whole matrix, for the pivot report.
inline void blas_cholesky_in_place(const BlasLibrary& blas, double* A, blas_int lda, Index n, Index offset,
                                   double tolerance, PivotReport& report, const Workers& workers) {
  workers.throw_if_stopped();
  if (n <= kBlasLeaf) {
    StridedBlock leaf(A, n, n, Eigen::OuterStride<>(lda));
    factor_diagonal_block(leaf, offset, tolerance, report);
    return;
  }
  const blas_int n1 = split_point(n), n2 = n - n1;
  double* A21 = A + n1;
  double* A22 = A + n1 + n1 * lda;
  blas_cholesky_in_place(blas, A, lda, n1, offset, tolerance, report, workers);
  blocked_right_lower(blas.dtrsm, "T", n2, n1, 1.0, A, lda, A21, lda, workers);  // A21 L11⁻ᵀ
  blocked_syrk_lower(blas, n2, n1, -1.0, A21, lda, A22, lda, workers);           // A22 − A21 A21ᵀ
  blas_cholesky_in_place(blas, A22, lda, n2, offset + n1, tolerance, report, workers);
}

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
