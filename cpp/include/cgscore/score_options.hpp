// What one binary-problem call is asked for, and the checks and defaults derived from it.
#pragma once

#include <limits>
#include <stdexcept>

#include "relu_ntk.hpp"
#include "stop_token.hpp"
#include "types.hpp"
#include "workers.hpp"

namespace cgscore {

// The options of one call of score_with (score_pipeline.hpp).
struct BinaryScoreOptions {
  double ridge = 0.0;          // added to the diagonal of H before factoring
  double pivot_tolerance = -1; // < 0: n · ε · max diagonal (a pivot below it is numerical noise)
  bool subterms = false;       // also return a2, b2, ab
  Index first_scored = 0;      // rows before it are not scored: L⁻¹ is formed only from there on
  int n_threads = 0;           // <= 0: OpenMP default
  const StopToken* stop = nullptr;  // when set, the call ends early with Cancelled (stop_token.hpp)
  bool condition_estimate = true;   // false: skip the estimate (condition_estimate stays +inf)
  int kernel_depth = 0;             // 0: the paper's kernel; L ≥ 1: the depth-L ReLU NTK (relu_ntk.hpp)

  Workers workers() const { return Workers(n_threads, stop); }
};

inline double pivot_tolerance_for(const BinaryScoreOptions& options, Index n) {
  const double max_diagonal = kernel_diagonal(options.kernel_depth) + options.ridge;
  return options.pivot_tolerance >= 0
             ? options.pivot_tolerance
             : static_cast<double>(n) * std::numeric_limits<double>::epsilon() * max_diagonal;
}

// The first row scored, checked against n.
inline Index first_scored_row(const BinaryScoreOptions& options, Index n) {
  if (options.first_scored < 0 || options.first_scored > n)
    throw std::invalid_argument("first_scored must be between 0 and the number of rows");
  return options.first_scored;
}

}  // namespace cgscore
