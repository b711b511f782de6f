// The ReLU NTK of an L-hidden-layer network on unit rows (SPEC §8; Jacot et al. 2018, Arora
// et al. 2019), beside the paper's kernel (depth 0, ntk_transform.hpp). From u = x·x′:
//   Σ⁰ = Θ⁰ = u;  for h = 1 … L:  θ = arccos Σʰ⁻¹,  Σʰ = (sin θ + (π − θ) cos θ)/π,
//   Σ̇ʰ = (π − θ)/π,  Θʰ = Θʰ⁻¹·Σ̇ʰ + Σʰ;   K = Θᴸ, and K(x, x) = L + 1.
//
// Accuracy. Near θ = 0 the kernel has a square-root slope in u (θ ≈ √(2(1 − u))), so each
// level carries its angle as (cos θ, 1 − cos θ, 1 + cos θ, θ), each to a few ulps:
//   sin θ = √((1 − cos θ)(1 + cos θ)),   1 − Σʰ = ((π − θ)(1 − cos θ) + (θ − sin θ))/π,
//   next θ = 2 asin √((1 − Σʰ)/2)                    (Σʰ ∈ [0, 1] for h ≥ 1),
// so no level forms 1 − Σ by cancellation. Level 0 takes its angle from the cosine, or for
// near-parallel pairs from the rows' chord (the same redo as the paper's kernel). Only IEEE
// operations and the branch-free asin of ntk_transform.hpp: the same bits on every CPU.
//
// Vectorization: a column segment is done in blocks of kAngleBlock entries, one level at a
// time over the block (the inner loops have no branch and no dependence between entries).
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "feature_rows.hpp"
#include "ntk_transform.hpp"
#include "types.hpp"

namespace cgscore {

constexpr int kMaxKernelDepth = 64;  // deeper kernels are all but diagonal; refused as a likely typo
constexpr Index kAngleBlock = 64;
constexpr double kInvPi = 1.0 / kPi;

// K(x, x): 1/2 for the paper's kernel, L + 1 for the depth-L NTK.
inline double kernel_diagonal(int depth) { return depth == 0 ? 0.5 : depth + 1.0; }

inline void check_kernel_depth(int depth) {
  if (depth < 0 || depth > kMaxKernelDepth)
    throw std::invalid_argument("kernel_depth must be 0 (the paper's kernel) or a depth 1 ... " +
                                std::to_string(kMaxKernelDepth) + ", not " + std::to_string(depth));
}

// One level of the recursion for `count` entries in place: (c, omc, opc, theta) is the angle
// of level h−1 and K holds Θʰ⁻¹; afterwards the angle of level h and Θʰ.
CGSCORE_CPU_CLONES inline void relu_ntk_level(double* __restrict c, double* __restrict omc, double* __restrict opc,
                                              double* __restrict theta, double* __restrict K, Index count) {
#pragma omp simd
  for (Index i = 0; i < count; ++i) {
    const double t = theta[i];
    const double s = std::sqrt(omc[i] * opc[i]);  // sin θ
    const double rest = kPi - t;
    const double sigma = (s + rest * c[i]) * kInvPi;
    K[i] = K[i] * (rest * kInvPi) + sigma;
    const double lost = (rest * omc[i] + (t - s)) * kInvPi;  // 1 − Σʰ
    const double m = lost > 0.0 ? lost : 0.0;
    c[i] = sigma;
    omc[i] = m;
    opc[i] = 1.0 + sigma;
    const double half = std::sqrt(0.5 * m);
    theta[i] = 2.0 * asin_branchfree(half < 1.0 ? half : 1.0);
  }
}

// A block of at most kAngleBlock entries: their level-0 angles in, Θᴸ out (into K).
struct AngleBlock {
  double c[kAngleBlock], omc[kAngleBlock], opc[kAngleBlock], theta[kAngleBlock], K[kAngleBlock];

  void run(Index count, int depth) {
    for (Index i = 0; i < count; ++i) K[i] = c[i];  // Θ⁰ = u
    for (int h = 1; h <= depth; ++h) relu_ntk_level(c, omc, opc, theta, K, count);
  }
};

// Level 0 from the cosine (|u| ≤ kNearParallel: the angle is well conditioned there).
CGSCORE_CPU_CLONES inline void angles_from_cosine(AngleBlock& b, const double* values, const double* row_scale,
                                                  double col_scale, Index count) {
#pragma omp simd
  for (Index i = 0; i < count; ++i) {
    double u = values[i] * row_scale[i] * col_scale;
    u = u < -1.0 ? -1.0 : (u > 1.0 ? 1.0 : u);
    b.c[i] = u;
    b.omc[i] = 1.0 - u;
    b.opc[i] = 1.0 + u;
    b.theta[i] = 0.5 * kPi - asin_branchfree(u);
  }
}

// Level 0 from the squared chord c² = ‖a − b‖² of unit rows (centred_tile.hpp).
CGSCORE_CPU_CLONES inline void angles_from_chord(AngleBlock& b, const double* g, const double* row_n2, double col_n2,
                                                 Index count) {
#pragma omp simd
  for (Index i = 0; i < count; ++i) {
    const double raw = (row_n2[i] + col_n2) - 2.0 * g[i];
    const double c2 = raw > 0.0 ? (raw < 4.0 ? raw : 4.0) : 0.0;
    const double half = 0.5 * std::sqrt(c2);
    b.c[i] = 1.0 - 0.5 * c2;
    b.omc[i] = 0.5 * c2;
    b.opc[i] = 2.0 - 0.5 * c2;
    b.theta[i] = 2.0 * asin_branchfree(half < 1.0 ? half : 1.0);
  }
}

// Θᴸ of `count` contiguous dot products of one column, in place (the cosine path).
inline void relu_ntk_transform(double* values, const double* row_scale, double col_scale, Index count, int depth) {
  AngleBlock b;
  for (Index start = 0; start < count; start += kAngleBlock) {
    const Index m = std::min(kAngleBlock, count - start);
    angles_from_cosine(b, values + start, row_scale + start, col_scale, m);
    b.run(m, depth);
    std::copy(b.K, b.K + m, values + start);
  }
}

// Θᴸ from squared chords, in place: g = z_i·z_j of shifted rows becomes K_ij (centred_tile.hpp).
inline void relu_ntk_transform_centred(double* g, const double* row_n2, double col_n2, Index count, int depth) {
  AngleBlock b;
  for (Index start = 0; start < count; start += kAngleBlock) {
    const Index m = std::min(kAngleBlock, count - start);
    angles_from_chord(b, g + start, row_n2 + start, col_n2, m);
    b.run(m, depth);
    std::copy(b.K, b.K + m, g + start);
  }
}

// One near-parallel (or antiparallel) pair from its rows a = x_i s_i, b = x_j s_j: the angle
// from ‖a − b‖ (θ small) or ‖a + b‖ (θ near π), as ntk_from_rows does for the paper's kernel.
inline double relu_ntk_from_rows(const double* xi, double si, const double* xj, double sj, Index d, int depth) {
  double minus = 0.0, plus = 0.0;
  for (Index k = 0; k < d; ++k) {
    const double a = xi[k] * si, b = xj[k] * sj;
    minus += (a - b) * (a - b);
    plus += (a + b) * (a + b);
  }
  AngleBlock b;
  if (minus <= plus) {
    const double c2 = std::min(minus, 4.0);
    b.c[0] = 1.0 - 0.5 * c2;
    b.omc[0] = 0.5 * c2;
    b.opc[0] = 2.0 - 0.5 * c2;
    b.theta[0] = 2.0 * asin_branchfree(std::min(1.0, 0.5 * std::sqrt(c2)));
  } else {
    const double p2 = std::min(plus, 4.0);
    b.c[0] = 0.5 * p2 - 1.0;
    b.omc[0] = 2.0 - 0.5 * p2;
    b.opc[0] = 0.5 * p2;
    b.theta[0] = kPi - 2.0 * asin_branchfree(std::min(1.0, 0.5 * std::sqrt(p2)));
  }
  b.run(1, depth);
  return b.K[0];
}

// The kernel of `depth` for one pair from its rows, near ±1 or not (kernel_from_pair's twin
// for the paper's kernel is ntk_from_rows).
inline double kernel_from_rows(const double* xi, double si, const double* xj, double sj, Index d, int depth) {
  return depth == 0 ? ntk_from_rows(xi, si, xj, sj, d) : relu_ntk_from_rows(xi, si, xj, sj, d, depth);
}

// ntk_transform_column for any depth: one column segment of a Gram tile in place, with
// near-parallel pairs redone from the rows. Depth 0 is the paper's kernel, bit for bit.
template <class T>
void kernel_transform_column(double* values, Index count, Index row0, Index col, const FeatureRows<T>& X,
                             const double* scale, int depth) {
  if (depth == 0) {
    ntk_transform_column(values, count, row0, col, X, scale);
    return;
  }
  const double* row_scale = scale + row0;
  std::vector<Index> near;
  if (count_near_parallel(values, row_scale, scale[col], count) > 0) {
    for (Index i = 0; i < count; ++i) {
      if (row0 + i != col && std::fabs(values[i] * row_scale[i] * scale[col]) > kNearParallel) near.push_back(i);
    }
  }
  relu_ntk_transform(values, row_scale, scale[col], count, depth);
  if (near.empty()) return;
  RowReader<T> read_row(X), read_col(X);
  const double* xj = read_col(col);
  for (const Index i : near)
    values[i] = relu_ntk_from_rows(read_row(row0 + i), row_scale[i], xj, scale[col], X.cols, depth);
}

}  // namespace cgscore
