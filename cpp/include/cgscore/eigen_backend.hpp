// Exact CG-scores of one binary problem, Eigen backend: the steps of score_pipeline.hpp with
// the Gram matrix from eigen_gram.hpp, a blocked Cholesky (eigen_factor.hpp) and triangular
// inverse (eigen_inverse.hpp), parallel over fixed tiles. Twin of blas_backend.hpp.
#pragma once

#include <Eigen/Core>

#include "eigen_factor.hpp"
#include "eigen_gram.hpp"
#include "feature_rows.hpp"
#include "eigen_inverse.hpp"
#include "score_pipeline.hpp"
#include "types.hpp"

namespace cgscore {

template <class T>
struct EigenSteps {
  const FeatureRows<T>& X;
  const Eigen::Ref<const Vector>& scale;
  const BinaryScoreOptions& options;

  double gram(Eigen::Ref<ColMatrix> H) {
    return build_ntk_gram(X, scale, H, options.ridge, options.workers(), options.kernel_depth);
  }
  PivotReport factor(Eigen::Ref<ColMatrix> H, double tolerance) {
    return cholesky_in_place(H, tolerance, options.workers());
  }
  void solve(const ColMatrix& L, Eigen::Ref<ColMatrix> V) {
    L.triangularView<Eigen::Lower>().solveInPlace(V);
    L.triangularView<Eigen::Lower>().adjoint().solveInPlace(V);
  }
  void invert(Eigen::Ref<ColMatrix> block) { invert_lower_in_place(block, options.workers()); }
};

// X: n × d rows, scale: 1/‖x_i‖ (ones for unit rows). Y: n × k labels (±1 for the CG-score; any reals work).
template <class T>
BinaryScores score_binary(const FeatureRows<T>& X, const Eigen::Ref<const Vector>& scale,
                          const Eigen::Ref<const ColMatrix>& Y, const BinaryScoreOptions& options) {
  EigenSteps<T> steps{X, scale, options};
  return score_with(steps, X.rows, Y, options);
}

inline BinaryScores score_binary(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                                 const Eigen::Ref<const ColMatrix>& Y, const BinaryScoreOptions& options) {
  return score_binary(feature_rows(X), scale, Y, options);
}

}  // namespace cgscore
