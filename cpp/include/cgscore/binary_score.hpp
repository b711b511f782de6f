// Exact CG-scores of one binary problem from one factorization (SPEC §1), Eigen backend:
//   Gram → H → L → L⁻¹ in one n×n buffer; α = H⁻¹Y by two triangular solves;
//   D_i = (H⁻¹)_ii = ‖L⁻¹ e_i‖²;  CG_i = α_i² / D_i.
#pragma once

#include <Eigen/Core>

#include "cholesky.hpp"
#include "condition_estimate.hpp"
#include "ntk_gram.hpp"
#include "score_terms.hpp"
#include "triangular_inverse.hpp"
#include "types.hpp"

namespace cgscore {

// X: n × d rows, scale: 1/‖x_i‖ (ones for unit rows). Y: n × k labels (±1 for the CG-score; any reals work).
inline BinaryScores score_binary(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                                      const Eigen::Ref<const ColMatrix>& Y,
                                 const BinaryScoreOptions& options) {
  const Index n = X.rows();
  const Index first = first_scored_row(options, n);
  BinaryScores out;
  if (n == 0) return out;

  Stopwatch clock;
  ColMatrix H(n, n);  // the one n×n buffer: Gram → H → L → L⁻¹
  const double h_norm = build_ntk_gram(X, scale, H, options.ridge, options.n_threads);
  out.seconds.gram = clock.lap();

  const PivotReport pivots = cholesky_in_place(H, pivot_tolerance_for(options, n), options.n_threads);
  out.seconds.factor = clock.lap();
  out.min_pivot = pivots.min_pivot;
  out.min_pivot_index = pivots.min_pivot_index;

  // α = L⁻ᵀ L⁻¹ Y, solved against L before it is inverted, in one pass with the condition
  // estimator's first vectors.
  auto solve = [&](Eigen::Ref<ColMatrix> V) {
    H.triangularView<Eigen::Lower>().solveInPlace(V);
    H.triangularView<Eigen::Lower>().adjoint().solveInPlace(V);
  };
  InverseNormEstimator estimator(n);
  ColMatrix rhs(n, Y.cols() + estimator.start().cols());
  rhs << Y, estimator.start();
  solve(rhs);
  const auto alpha = rhs.leftCols(Y.cols());
  out.seconds.solve = clock.lap();
  out.condition_estimate = h_norm * estimator.finish(rhs.rightCols(estimator.start().cols()), solve);
  out.seconds.condition = clock.lap();

  // The scored rows i >= s need only the inverse of L's trailing block (blas_score.hpp).
  const Index p = n - first;
  invert_lower_in_place(H.bottomRightCorner(p, p), options.n_threads);
  out.inverse_diagonal = inverse_column_norms(H.bottomRightCorner(p, p), options.n_threads);
  out.seconds.inverse = clock.lap();
  finish_scores(alpha.bottomRows(p), Y.bottomRows(p), options.subterms, out);
  out.seconds.finish = clock.lap();
  return out;
}

}  // namespace cgscore
