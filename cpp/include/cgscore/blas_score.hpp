// Exact CG-scores of one binary problem (SPEC §1), BLAS backend: the same pipeline as
// binary_score.hpp, with the Gram matrix from blas_gram.hpp and the factor and inverse from
// blas_factor.hpp. OpenBLAS runs single-threaded for the call (restored after it); the
// threads are ours, over fixed blocks, so the result is the same for any thread count.
#pragma once

#include <stdexcept>

#include <Eigen/Core>

#include "blas_factor.hpp"
#include "blas_gram.hpp"
#include "blas_library.hpp"
#include "blas_solve.hpp"
#include "condition_estimate.hpp"
#include "score_terms.hpp"
#include "types.hpp"

namespace cgscore {

inline BinaryScores score_binary_blas(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const Vector>& scale,
                                      const Eigen::Ref<const ColMatrix>& Y,
                                      const BinaryScoreOptions& options) {
  const BlasLibrary& blas = blas_library();
  if (!blas.loaded()) throw std::runtime_error("the BLAS backend was requested but no BLAS library is loaded");
  const Index n = X.rows();
  const Index first = first_scored_row(options, n);
  BinaryScores out;
  if (n == 0) return out;
  const BlasThreadScope single(blas, 1);

  Stopwatch clock;
  ColMatrix H(n, n);  // the one n×n buffer: Gram → H → L → L⁻¹
  const double h_norm = build_ntk_gram_blas(blas, X, scale, H, options.ridge, options.n_threads);
  out.seconds.gram = clock.lap();

  PivotReport pivots;
  blas_cholesky_in_place(blas, H.data(), n, n, 0, pivot_tolerance_for(options, n), pivots, options.n_threads);
  out.seconds.factor = clock.lap();
  out.min_pivot = pivots.min_pivot;
  out.min_pivot_index = pivots.min_pivot_index;

  // α = L⁻ᵀ L⁻¹ Y, solved against L before it is inverted, in one pass with the condition
  // estimator's first vectors (each pass reads all of L).
  const blas_int nn = n;
  auto solve = [&](Eigen::Ref<ColMatrix> V) { blas_cholesky_solve(blas, H.data(), nn, V, options.n_threads); };
  InverseNormEstimator estimator(n);
  ColMatrix rhs(n, Y.cols() + estimator.start().cols());
  rhs << Y, estimator.start();
  solve(rhs);
  const auto alpha = rhs.leftCols(Y.cols());
  out.seconds.solve = clock.lap();
  out.condition_estimate = h_norm * estimator.finish(rhs.rightCols(estimator.start().cols()), solve);
  out.seconds.condition = clock.lap();

  // D_i for the scored rows i >= s needs only rows and columns >= s of L⁻¹: the inverse of
  // L's trailing block. Scoring the last half of the rows saves 7/8 of the inverse.
  const Index s = first, p = n - s;
  blas_invert_lower_in_place(blas, H.data() + s + s * n, nn, p, options.n_threads);
  out.seconds.inverse = clock.lap();
  out.inverse_diagonal = inverse_column_norms(H.bottomRightCorner(p, p), options.n_threads);
  finish_scores(alpha.bottomRows(p), Y.bottomRows(p), options.subterms, out);
  out.seconds.finish = clock.lap();
  return out;
}

}  // namespace cgscore
