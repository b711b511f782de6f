// Exact CG-scores of one binary problem from one factorization (SPEC §1):
//   Gram → H → L → L⁻¹ in one n×n buffer; α = H⁻¹Y by two triangular solves;
//   D_i = (H⁻¹)_ii = ‖L⁻¹ e_i‖²;  CG_i = α_i² / D_i.
#pragma once

#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "cholesky.hpp"
#include "ntk_gram.hpp"
#include "parallel.hpp"
#include "triangular_inverse.hpp"
#include "types.hpp"

namespace cgscore {

struct BinaryScoreOptions {
  double ridge = 0.0;          // added to the diagonal of H before factoring
  double pivot_tolerance = -1; // < 0: n · ε · max diagonal (a pivot below it is numerical noise)
  bool subterms = false;       // also return a2, b2, ab
  int n_threads = 0;           // <= 0: OpenMP default
};

struct BinaryScores {
  ColMatrix scores;     // n × k, one column per label vector
  ColMatrix a2, b2, ab; // n × k when subterms were requested, else empty
  Vector inverse_diagonal;  // D_i = (H⁻¹)_ii
  double min_pivot = std::numeric_limits<double>::infinity();
  Index min_pivot_index = -1;
  double condition_bound = std::numeric_limits<double>::infinity();  // ≥ cond₂(H)
};

// ‖H‖₁ from the lower triangle (H symmetric): the largest absolute column sum.
inline double symmetric_l1_norm(const Eigen::Ref<const ColMatrix>& H) {
  const Index n = H.rows();
  Vector sums = Vector::Zero(n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = j; i < n; ++i) {
      const double v = std::abs(H(i, j));
      sums[j] += v;
      if (i != j) sums[i] += v;
    }
  }
  return n ? sums.maxCoeff() : 0.0;
}

// X: n × d unit-norm rows. Y: n × k labels (±1 for the CG-score; any reals work).
inline BinaryScores score_binary(const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const ColMatrix>& Y,
                                 const BinaryScoreOptions& options) {
  const Index n = X.rows(), k = Y.cols();
  BinaryScores out;
  if (n == 0) return out;

  ColMatrix H(n, n);  // the one n×n buffer: Gram → H → L → L⁻¹
  build_ntk_gram(X, H, options.ridge, options.n_threads);
  const double h_norm = symmetric_l1_norm(H);
  const double max_diagonal = 0.5 + options.ridge;
  const double tolerance = options.pivot_tolerance >= 0
                               ? options.pivot_tolerance
                               : static_cast<double>(n) * std::numeric_limits<double>::epsilon() * max_diagonal;

  const PivotReport pivots = cholesky_in_place(H, tolerance, options.n_threads);
  out.min_pivot = pivots.min_pivot;
  out.min_pivot_index = pivots.min_pivot_index;

  // α = L⁻ᵀ L⁻¹ Y, solved against L before it is inverted.
  ColMatrix alpha = Y;
  H.triangularView<Eigen::Lower>().solveInPlace(alpha);
  H.triangularView<Eigen::Lower>().adjoint().solveInPlace(alpha);

  invert_lower_in_place(H, options.n_threads);
  out.inverse_diagonal.resize(n);
#pragma omp parallel for schedule(static) num_threads(resolve_threads(options.n_threads))
  for (Index i = 0; i < n; ++i) out.inverse_diagonal[i] = H.col(i).tail(n - i).squaredNorm();
  out.condition_bound = h_norm * out.inverse_diagonal.sum();  // λmax(H) ≤ ‖H‖₁, λmax(H⁻¹) ≤ tr H⁻¹

  const auto& D = out.inverse_diagonal;
  out.scores = alpha.array().square().colwise() / D.array();
  if (options.subterms) {
    // β_i = α_i − D_i y_i: the part of α_i that comes from the other instances.
    const ColMatrix beta = alpha - (Y.array().colwise() * D.array()).matrix();
    out.ab = (Y.array() * beta.array()).matrix();
    out.a2 = (beta.array().square().colwise() / D.array()).matrix();
    out.b2 = (Y.array().square().colwise() * D.array()).matrix();
  }
  return out;
}

}  // namespace cgscore
