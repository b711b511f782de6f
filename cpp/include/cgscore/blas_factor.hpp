// BLAS backend: recursive Cholesky on a run-time BLAS (blas_library.hpp). Twin of
// eigen_factor.hpp. Halving the matrix puts nearly all flops into a few large level-3
// operations, run as fixed blocks (blas_blocks.hpp) at close to dgemm speed; LAPACK's dpotrf
// uses narrow panels and runs at about half. The small diagonal leaves use the unblocked
// factor (diagonal_factor.hpp), which checks and reports every pivot.
#pragma once

#include "blas_blocks.hpp"
#include "blas_library.hpp"
#include "diagonal_factor.hpp"
#include "types.hpp"
#include "workers.hpp"

namespace cgscore {

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

}  // namespace cgscore
