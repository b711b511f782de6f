// The elementwise NTK transform H = u (π − arccos u) / (2π) (SPEC §1), vectorized.
// π − arccos u = π/2 + asin u, and asin is evaluated branch-free with fdlibm's rational
// approximation (error ≲ 2e-16 absolute), so the loop vectorizes; on x86-64 with glibc the
// compiler also emits an AVX2 clone chosen at load time (no -march flag needed).
//
// The same on every CPU: the target is compiled with -ffp-contract=off, so no clone fuses a
// multiply-add the other rounds twice, and every operation here is a correctly rounded IEEE
// one (tests/test_kernel_tiles.py checks the result bit for bit against NumPy). The C
// library's acos/asin would not do: glibc 2.36 picks an FMA variant on FMA CPUs, and it
// differs by 1 ulp from the baseline one for about 1 input in 3000 (measured over 4·10⁶).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "feature_rows.hpp"
#include "types.hpp"

namespace cgscore {

constexpr double kPi = 3.14159265358979323846;

// GCC ≥ 12 resolves "arch=x86-64-v3" (AVX2, FMA, BMI) by CPU features, not by CPU model.
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define CGSCORE_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CGSCORE_CPU_CLONES
#endif
#if defined(__GNUC__)
#define CGSCORE_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CGSCORE_ALWAYS_INLINE inline
#endif

// fdlibm's asin kernel: asin(x) ≈ x + x·R(x²) on |x| ≤ 0.5, with R = z·P(z)/Q(z).
CGSCORE_ALWAYS_INLINE double asin_rational(double z) {
  const double p = z * (1.66666666666666657415e-01 +
                        z * (-3.25565818622400915405e-01 +
                             z * (2.01212532134862925881e-01 +
                                  z * (-4.00555345006794114027e-02 +
                                       z * (7.91534994289814532176e-04 + z * 3.47933107596021167570e-05)))));
  const double q = 1.0 + z * (-2.40339491173441421878e+00 +
                              z * (2.02094576023350569471e+00 +
                                   z * (-6.88283971605453293030e-01 + z * 7.70381505559019352791e-02)));
  return p / q;
}

// Branch-free asin on [−1, 1]: |x| ≥ 1/2 goes through asin|x| = π/2 − 2 asin√((1−|x|)/2),
// where (1−|x|)/2 is exact, so both halves keep ~1 ulp of π/2.
CGSCORE_ALWAYS_INLINE double asin_branchfree(double x) {
  const double a = std::fabs(x);
  const bool small = a < 0.5;
  const double z = small ? x * x : 0.5 * (1.0 - a);
  const double root = std::sqrt(z);  // both halves computed, then selected: no branch
  const double s = small ? a : root;
  const double r = s + s * asin_rational(z);
  const double big = 0.5 * kPi - 2.0 * r;
  return std::copysign(small ? r : big, x);
}

CGSCORE_ALWAYS_INLINE double ntk_from_cosine(double u) {
  u = u < -1.0 ? -1.0 : (u > 1.0 ? 1.0 : u);
  return u * (0.5 * kPi + asin_branchfree(u)) * (0.5 / kPi);
}

// Transforms `count` contiguous dot products x_i·x_j of one column j in place: the cosine
// is (x_i·x_j · s_i) · s_j, with s the rows' unit-length factors (row_scale[i], col_scale).
CGSCORE_CPU_CLONES inline void ntk_transform(double* values, const double* row_scale, double col_scale,
                                             Index count) {
#pragma omp simd
  for (Index i = 0; i < count; ++i) values[i] = ntk_from_cosine(values[i] * row_scale[i] * col_scale);
}

// Near u = ±1 arccos has an infinite slope: a cosine rounded in its last bit (1e-16) moves θ
// by 1e-8, so an exact copy that slipped past the duplicate hash gave an H entry 2e-9 below ½
// and a pivot of 5e-9 instead of 0. Pairs whose |cosine| exceeds this are redone from the rows.
constexpr double kNearParallel = 1.0 - 1.0 / 1024;

// H for the rows a = x_i s_i and b = x_j s_j from their difference (or sum, near u = −1):
// θ = 2 asin(‖a − b‖/2) and u = 1 − ‖a − b‖²/2 are accurate to a few ulps wherever θ is small.
inline double ntk_from_rows(const double* xi, double si, const double* xj, double sj, Index d) {
  double minus = 0.0, plus = 0.0;
  for (Index k = 0; k < d; ++k) {
    const double a = xi[k] * si, b = xj[k] * sj;
    minus += (a - b) * (a - b);
    plus += (a + b) * (a + b);
  }
  double u, theta;
  if (minus <= plus) {  // asin_branchfree, not std::asin: the same on every CPU (see the top)
    theta = 2.0 * asin_branchfree(std::min(1.0, 0.5 * std::sqrt(minus)));
    u = 1.0 - 0.5 * minus;
  } else {
    theta = kPi - 2.0 * asin_branchfree(std::min(1.0, 0.5 * std::sqrt(plus)));
    u = 0.5 * plus - 1.0;
  }
  return u * (kPi - theta) * (0.5 / kPi);
}

CGSCORE_CPU_CLONES inline Index count_near_parallel(const double* values, const double* row_scale, double col_scale,
                                                    Index count) {
  Index near = 0;
#pragma omp simd reduction(+ : near)
  for (Index i = 0; i < count; ++i) near += std::fabs(values[i] * row_scale[i] * col_scale) > kNearParallel;
  return near;
}

// One column segment of a Gram tile: `count` dot products x_i·x_j for rows i = row0 … and
// column j = col, transformed in place (ntk_transform), with near-parallel pairs redone from
// the rows of X. The diagonal entry is left to the caller.
template <class T>
void ntk_transform_column(double* values, Index count, Index row0, Index col, const FeatureRows<T>& X,
                          const double* scale) {
  const double* row_scale = scale + row0;
  std::vector<Index> near;
  if (count_near_parallel(values, row_scale, scale[col], count) > 0) {
    for (Index i = 0; i < count; ++i) {
      if (row0 + i != col && std::fabs(values[i] * row_scale[i] * scale[col]) > kNearParallel) near.push_back(i);
    }
  }
  ntk_transform(values, row_scale, scale[col], count);
  if (near.empty()) return;
  RowReader<T> read_row(X), read_col(X);
  const double* xj = read_col(col);
  for (const Index i : near) values[i] = ntk_from_rows(read_row(row0 + i), row_scale[i], xj, scale[col], X.cols);
}

}  // namespace cgscore
