// From α = H⁻¹Y and L⁻¹ to the scores (SPEC §1), shared by every backend.
#pragma once

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <Eigen/Core>

#include "parallel.hpp"
#include "types.hpp"

namespace cgscore {

// Wall-clock seconds spent in each step of one binary problem.
struct PhaseTimes {
  double gram = 0, factor = 0, solve = 0, condition = 0, inverse = 0, finish = 0;
};

// Seconds since construction, restarted by each lap().
class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    return elapsed;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct BinaryScoreOptions {
  double ridge = 0.0;          // added to the diagonal of H before factoring
  double pivot_tolerance = -1; // < 0: n · ε · max diagonal (a pivot below it is numerical noise)
  bool subterms = false;       // also return a2, b2, ab
  Index first_scored = 0;      // rows before it are not scored: L⁻¹ is formed only from there on
  int n_threads = 0;           // <= 0: OpenMP default
  bool condition_estimate = true;  // false: skip the estimate (condition_estimate stays +inf)
};

// Rows first_scored … n−1 only (all rows by default).
struct BinaryScores {
  ColMatrix scores;     // one column per label vector
  ColMatrix a2, b2, ab; // when subterms were requested, else empty
  Vector inverse_diagonal;  // D_i = (H⁻¹)_ii
  ColMatrix alpha;          // α = H⁻¹Y (one column per label vector)
  double min_pivot = std::numeric_limits<double>::infinity();
  Index min_pivot_index = -1;
  double condition_estimate = std::numeric_limits<double>::infinity();  // of cond₁(H), condition_estimate.hpp
  PhaseTimes seconds;  // wall time of each step, for benchmarks and profiling
};

inline double pivot_tolerance_for(const BinaryScoreOptions& options, Index n) {
  const double max_diagonal = 0.5 + options.ridge;
  return options.pivot_tolerance >= 0
             ? options.pivot_tolerance
             : static_cast<double>(n) * std::numeric_limits<double>::epsilon() * max_diagonal;
}

// D_i = ‖L⁻¹ e_i‖²: column i of L⁻¹ is zero above row i. Each column is one thread's sum.
inline Vector inverse_column_norms(const Eigen::Ref<const ColMatrix>& Linv, int n_threads) {
  const Index n = Linv.rows();
  Vector D(n);
#pragma omp parallel for schedule(dynamic, 16) num_threads(resolve_threads(n_threads))
  for (Index i = 0; i < n; ++i) D[i] = Linv.col(i).tail(n - i).squaredNorm();
  return D;
}

// The first row scored, checked against n.
inline Index first_scored_row(const BinaryScoreOptions& options, Index n) {
  if (options.first_scored < 0 || options.first_scored > n)
    throw std::invalid_argument("first_scored must be between 0 and the number of rows");
  return options.first_scored;
}

// Fills scores (and sub-terms) from α, Y and D = out.inverse_diagonal (the scored rows only).
inline void finish_scores(const Eigen::Ref<const ColMatrix>& alpha, const Eigen::Ref<const ColMatrix>& Y,
                          bool subterms, BinaryScores& out) {
  const auto& D = out.inverse_diagonal;
  out.scores = alpha.array().square().colwise() / D.array();
  if (subterms) {
    // β_i = α_i − D_i y_i: the part of α_i that comes from the other instances.
    const ColMatrix beta = alpha - (Y.array().colwise() * D.array()).matrix();
    out.ab = (Y.array() * beta.array()).matrix();
    out.a2 = (beta.array().square().colwise() / D.array()).matrix();
    out.b2 = (Y.array().square().colwise() * D.array()).matrix();
  }
}

}  // namespace cgscore
