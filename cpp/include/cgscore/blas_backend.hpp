// Exact CG-scores of one binary problem, BLAS backend: the steps of score_pipeline.hpp with
// the Gram matrix from blas_gram.hpp, the factor from blas_factor.hpp, the inverse from
// blas_inverse.hpp and the solves from blas_solve.hpp. Twin of eigen_backend.hpp. OpenBLAS runs single-threaded for the call (restored after
// it); the threads are ours, over fixed blocks, so the result is the same for any thread count.
#pragma once

#include <stdexcept>

#include <Eigen/Core>

#include "blas_factor.hpp"
#include "blas_gram.hpp"
#include "blas_inverse.hpp"
#include "blas_library.hpp"
#include "blas_solve.hpp"
#include "feature_rows.hpp"
#include "score_pipeline.hpp"
#include "types.hpp"

namespace cgscore {

template <class T>
struct BlasSteps {
  const BlasLibrary& blas;
  const FeatureRows<T>& X;
  const Eigen::Ref<const Vector>& scale;
  const BinaryScoreOptions& options;

  double gram(Eigen::Ref<ColMatrix> H) {
    return build_ntk_gram_blas(blas, X, scale, H, options.ridge, options.workers(), options.kernel_depth);
  }
  PivotReport factor(Eigen::Ref<ColMatrix> H, double tolerance) {
    PivotReport pivots;
    blas_cholesky_in_place(blas, H.data(), H.outerStride(), H.rows(), 0, tolerance, pivots, options.workers());
    return pivots;
  }
  void solve(const ColMatrix& L, Eigen::Ref<ColMatrix> V) {
    blas_cholesky_solve(blas, L.data(), L.outerStride(), V, options.workers());
  }
  void invert(Eigen::Ref<ColMatrix> block) {
    blas_invert_lower_in_place(blas, block.data(), block.outerStride(), block.rows(), options.workers());
  }
};

template <class T>
BinaryScores score_binary_blas(const FeatureRows<T>& X, const Eigen::Ref<const Vector>& scale,
                               const Eigen::Ref<const ColMatrix>& Y, const BinaryScoreOptions& options) {
  const BlasLibrary& blas = blas_library();
  if (!blas.loaded()) throw std::runtime_error("the BLAS backend was requested but no BLAS library is loaded");
  const BlasThreadScope single(blas, 1);
  BlasSteps<T> steps{blas, X, scale, options};
  return score_with(steps, X.rows, Y, options);
}

inline BinaryScores score_binary_blas(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                                      const Eigen::Ref<const ColMatrix>& Y, const BinaryScoreOptions& options) {
  return score_binary_blas(feature_rows(X), scale, Y, options);
}

}  // namespace cgscore
