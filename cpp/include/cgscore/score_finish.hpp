// The last step, shared by every backend: from α = H⁻¹Y and L⁻¹ to the scores (SPEC §1).
#pragma once

#include <algorithm>

#include <Eigen/Core>

#include "binary_scores.hpp"
#include "parallel.hpp"
#include "types.hpp"

namespace cgscore {

// D_i = ‖L⁻¹ e_i‖²: column i of L⁻¹ is zero above row i. Each column is one thread's sum,
// in chunks of 64 columns dealt round-robin (the long first columns spread over the threads).
inline Vector inverse_column_norms(const Eigen::Ref<const ColMatrix>& Linv, const Workers& workers) {
  constexpr Index kChunk = 64;
  const Index n = Linv.rows();
  Vector D(n);
  parallel_for((n + kChunk - 1) / kChunk, workers, [&](Index c) {
    for (Index i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) D[i] = Linv.col(i).tail(n - i).squaredNorm();
  });
  return D;
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
