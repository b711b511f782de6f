// The result of one binary problem: scores, sub-terms, the pivot report, the condition
// estimate and the time of each step.
#pragma once

#include <limits>

#include <Eigen/Core>

#include "types.hpp"

namespace cgscore {

// Wall-clock seconds spent in each step of one binary problem.
struct PhaseTimes {
  double gram = 0, factor = 0, solve = 0, condition = 0, inverse = 0, finish = 0;
};

// Rows first_scored … n−1 only (all rows by default), except alpha.
struct BinaryScores {
  ColMatrix scores;     // one column per label vector
  ColMatrix a2, b2, ab; // when subterms were requested, else empty
  Vector inverse_diagonal;  // D_i = (H⁻¹)_ii
  ColMatrix alpha;          // α = H⁻¹Y of EVERY row (one column per label vector)
  double min_pivot = std::numeric_limits<double>::infinity();
  Index min_pivot_index = -1;
  double condition_estimate = std::numeric_limits<double>::infinity();  // of cond₁(H), condition_estimate.hpp
  PhaseTimes seconds;  // wall time of each step, for benchmarks and profiling
};

}  // namespace cgscore
