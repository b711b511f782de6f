// Exact CG-scores of one binary problem from one factorization (SPEC §1), the steps every
// backend shares:
//   Gram → H → L in one n×n buffer; α = H⁻¹Y by triangular solves (with the condition
//   estimator's first vectors); L⁻¹ only for the scored rows' trailing block;
//   D_i = (H⁻¹)_ii = ‖L⁻¹ e_i‖²;  CG_i = α_i² / D_i.
// A backend provides the heavy steps:
//   double gram(Eigen::Ref<ColMatrix> H)                      lower triangle of H, returns ‖H‖₁
//   PivotReport factor(Eigen::Ref<ColMatrix> H, double tol)   H → L in place
//   void solve(const ColMatrix& L, Eigen::Ref<ColMatrix> V)   V → H⁻¹V
//   void invert(Eigen::Ref<ColMatrix> L22)                    a trailing block of L → its inverse
#pragma once

#include <Eigen/Core>

#include "binary_scores.hpp"
#include "condition_estimate.hpp"
#include "diagonal_factor.hpp"
#include "score_finish.hpp"
#include "score_options.hpp"
#include "stopwatch.hpp"
#include "types.hpp"

namespace cgscore {

template <class Backend>
BinaryScores score_with(Backend& backend, Index n, const Eigen::Ref<const ColMatrix>& Y,
                        const BinaryScoreOptions& options) {
  const Index first = first_scored_row(options, n);
  BinaryScores out;
  if (n == 0) return out;

  Stopwatch clock;
  ColMatrix H(n, n);  // the one n×n buffer: Gram → H → L → L⁻¹
  const double h_norm = backend.gram(H);
  out.seconds.gram = clock.lap();

  const PivotReport pivots = backend.factor(H, pivot_tolerance_for(options, n));
  out.seconds.factor = clock.lap();
  out.min_pivot = pivots.min_pivot;
  out.min_pivot_index = pivots.min_pivot_index;

  // α = L⁻ᵀ L⁻¹ Y, solved against L before it is inverted, in one pass with the condition
  // estimator's first vectors (each pass reads all of L).
  auto solve = [&](Eigen::Ref<ColMatrix> V) { backend.solve(H, V); };
  InverseNormEstimator estimator(n);
  const Index extra = options.condition_estimate ? estimator.start().cols() : 0;
  ColMatrix rhs(n, Y.cols() + extra);
  rhs.leftCols(Y.cols()) = Y;
  if (extra > 0) rhs.rightCols(extra) = estimator.start();
  solve(rhs);
  const auto alpha = rhs.leftCols(Y.cols());
  out.seconds.solve = clock.lap();
  if (extra > 0) out.condition_estimate = h_norm * estimator.finish(rhs.rightCols(extra), solve);
  out.seconds.condition = clock.lap();

  // D_i for the scored rows i >= first needs only rows and columns >= first of L⁻¹: the
  // inverse of L's trailing block. Scoring the last half of the rows saves 7/8 of the inverse.
  const Index p = n - first;
  backend.invert(H.bottomRightCorner(p, p));
  out.seconds.inverse = clock.lap();
  out.inverse_diagonal = inverse_column_norms(H.bottomRightCorner(p, p), options.workers());
  finish_scores(alpha.bottomRows(p), Y.bottomRows(p), options.subterms, out);
  out.alpha = alpha;  // every row: rows outside the scored block are predicted from all of α
  out.seconds.finish = clock.lap();
  return out;
}

}  // namespace cgscore
