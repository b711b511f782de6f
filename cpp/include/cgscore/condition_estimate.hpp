// An estimate of ‖H⁻¹‖₁ for cond₁(H) = ‖H‖₁ ‖H⁻¹‖₁ from products H⁻¹V (two triangular solves
// against the Cholesky factor), so no inverse is formed: the scores may need only a corner
// of L⁻¹. Each solve pass reads all of L (memory-bound: ~30 ms at n = 5000), so the vectors
// go in blocks: the first block rides along with the kernel's own solve for α, then two more
// passes. Every candidate is a lower bound of ‖H⁻¹‖₁; the largest is returned:
// - LAPACK's method (dpocon/dlacn2: Hager's algorithm with Higham's alternating vector),
//   cut to its usual two iterations; almost always within a factor of 3 (Higham, "Accuracy
//   and Stability of Numerical Algorithms", §15.3);
// - power steps on fixed pseudo-random vectors (‖H⁻¹‖₂ ≤ ‖H⁻¹‖₁ for a symmetric H). Hager's
//   start vector is orthogonal to e_i − e_j, the very direction in which a near-copy pair
//   makes H singular: measured, Hager alone then fell short 150×.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <Eigen/Core>

#include "splitmix.hpp"
#include "types.hpp"

namespace cgscore {

class InverseNormEstimator {
 public:
  static constexpr Index kRandom = 4;  // power-step vectors

  explicit InverseNormEstimator(Index n) : n_(n), start_(n, kRandom + 1) {
    for (Index j = 0; j < kRandom; ++j)
      for (Index i = 0; i < n; ++i) start_(i, j) = fixed_random(static_cast<std::uint64_t>(i * kRandom + j));
    start_.col(kRandom).setConstant(n > 0 ? 1.0 / static_cast<double>(n) : 0.0);  // Hager's start
  }

  // Solve these together with the kernel's right-hand sides (one pass over L).
  const ColMatrix& start() const { return start_; }

  // solved = H⁻¹·start(); solve(V) overwrites an n×k block V with H⁻¹V (two more calls).
  template <class Solve>
  double finish(const Eigen::Ref<const ColMatrix>& solved, Solve&& solve) {
    if (n_ == 0) return 0.0;
    double estimate = solved.col(kRandom).lpNorm<1>();  // ‖x₀‖₁ = 1
    for (Index j = 0; j < kRandom; ++j) estimate = std::max(estimate, solved.col(j).norm() / start_.col(j).norm());
    if (n_ == 1) return estimate;

    // Pass 2: power step 2, Hager's sign vector, Higham's alternating vector.
    ColMatrix V(n_, kRandom + 2);
    for (Index j = 0; j < kRandom; ++j) V.col(j) = unit(solved.col(j));
    V.col(kRandom) = solved.col(kRandom).unaryExpr([](double x) { return x >= 0.0 ? 1.0 : -1.0; });
    for (Index i = 0; i < n_; ++i)
      V(i, kRandom + 1) = (i % 2 ? -1.0 : 1.0) * (1.0 + static_cast<double>(i) / static_cast<double>(n_ - 1));
    solve(V);
    for (Index j = 0; j < kRandom; ++j) estimate = std::max(estimate, V.col(j).norm());
    estimate = std::max(estimate, 2.0 * V.col(kRandom + 1).lpNorm<1>() / (3.0 * static_cast<double>(n_)));

    // Pass 3: power step 3, and Hager's next vertex e_j at the largest entry of H⁻¹·sign.
    Index vertex = 0;
    V.col(kRandom).cwiseAbs().maxCoeff(&vertex);
    ColMatrix W(n_, kRandom + 1);
    for (Index j = 0; j < kRandom; ++j) W.col(j) = unit(V.col(j));
    W.col(kRandom) = Vector::Unit(n_, vertex);
    solve(W);
    for (Index j = 0; j < kRandom; ++j) estimate = std::max(estimate, W.col(j).norm());
    return std::max(estimate, W.col(kRandom).lpNorm<1>());
  }

 private:
  static Vector unit(const Eigen::Ref<const Vector>& v) {
    const double norm = v.norm();
    return norm > 0.0 ? Vector(v / norm) : Vector(v);
  }
  // Uniform in [−1, 1) from the index alone: the same on every platform.
  static double fixed_random(std::uint64_t i) { return static_cast<double>(splitmix64(i) >> 11) * 0x1p-52 - 1.0; }

  Index n_;
  ColMatrix start_;
};

}  // namespace cgscore
