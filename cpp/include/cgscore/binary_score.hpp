// Exact CG-scores of one binary problem from one factorization (SPEC §1), Eigen backend:
//   Gram → H → L → L⁻¹ in one n×n buffer; α = H⁻¹Y by two triangular solves;
//   D_i = (H⁻¹)_ii = ‖L⁻¹ e_i‖²;  CG_i = α_i² / D_i.
#pragma once

#include <Eigen/Core>

#include "cholesky.hpp"
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

  // α = L⁻ᵀ L⁻¹ Y, solved against L before it is inverted.
  ColMatrix alpha = Y;
  H.triangularView<Eigen::Lower>().solveInPlace(alpha);
  H.triangularView<Eigen::Lower>().adjoint().solveInPlace(alpha);
  out.seconds.solve = clock.lap();

  invert_lower_in_place(H, options.n_threads);
  out.seconds.inverse = clock.lap();
  out.inverse_diagonal = inverse_column_norms(H, options.n_threads);
  finish_scores(alpha, Y, h_norm, options.subterms, out);
  out.seconds.finish = clock.lap();
  return out;
}

}  // namespace cgscore
