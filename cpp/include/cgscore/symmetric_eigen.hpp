// The eigendecomposition K = V diag(s) Vᵀ of a symmetric matrix, for the kernel choice
// (SPEC §8: one decomposition serves every ridge λ). LAPACK's dsyevd on the package's
// OpenBLAS, single-threaded (BlasThreadScope), when it is loaded; else Eigen's
// SelfAdjointEigenSolver. Either runs on one thread over a fixed order of operations, so the
// result does not depend on the caller's thread count.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Eigenvalues>

#include "blas_library.hpp"
#include "types.hpp"

namespace cgscore {

// A holds the lower triangle of K on entry and the eigenvectors (columns) on exit; returns the
// eigenvalues in ascending order.
inline Vector symmetric_eigen_in_place(ColMatrix& A) {
  const Index n = A.rows();
  if (A.cols() != n) throw std::invalid_argument("the matrix must be square");
  Vector w(n);
  if (n == 0) return w;
  const BlasLibrary& blas = blas_library();
  if (blas.loaded() && blas.dsyevd != nullptr) {
    const BlasThreadScope single(blas, 1);
    const blas_int size = n, lda = A.outerStride();
    blas_int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0.0;
    blas.dsyevd("V", "L", &size, A.data(), &lda, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
    if (info != 0) throw std::runtime_error("dsyevd workspace query failed (info " + std::to_string(info) + ")");
    lwork = static_cast<blas_int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<blas_int> iwork(static_cast<std::size_t>(liwork));
    blas.dsyevd("V", "L", &size, A.data(), &lda, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    if (info != 0) throw std::runtime_error("the symmetric eigensolver did not converge (dsyevd info " +
                                            std::to_string(info) + ")");
    return w;
  }
  Eigen::SelfAdjointEigenSolver<ColMatrix> solver(A, Eigen::ComputeEigenvectors);  // reads the lower triangle
  if (solver.info() != Eigen::Success) throw std::runtime_error("the symmetric eigensolver did not converge");
  A = solver.eigenvectors();
  return solver.eigenvalues();
}

}  // namespace cgscore
