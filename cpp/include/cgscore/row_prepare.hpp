// One pass over the raw features before any scoring (SPEC §3): which rows are unusable
// (NaN/±Inf or all zeros), the factor that scales each row to unit length, and a 64-bit
// hash of each normalized row rounded to a grid, for the duplicate check.
//
// The rows (float64, float32 or uint8) are never copied: the Gram matrix scales x_i·x_j by s_i s_j itself. That is
// safe when every row's largest magnitude lies in [2^-250, 2^250] (no product of two
// entries, and no squared norm, can overflow or lose precision to underflow); outside it
// the caller normalizes a copy first (`in_range`).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <Eigen/Core>

#include "feature_rows.hpp"
#include "parallel.hpp"
#include "splitmix.hpp"
#include "types.hpp"

namespace cgscore {

enum RowStatus : std::int8_t { kRowOk = 0, kRowNonFinite = 1, kRowZero = 2 };

// Normalized entries are compared after rounding to multiples of 2^-30: rows closer than
// that make H singular to working precision anyway, so they are duplicates in effect.
constexpr double kDuplicateGrid = 1073741824.0;  // 2^30
constexpr double kSafeMagnitudeLow = 0x1p-250, kSafeMagnitudeHigh = 0x1p+250;

struct PreparedRows {
  Vector scale;  // 1/‖x_i‖ (0 for an unusable row)
  Eigen::Matrix<std::uint64_t, Eigen::Dynamic, 1> hash;
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> status;
  bool in_range = true;  // every usable row's largest magnitude is in the safe range
};

// The grid key of one normalized entry, exactly as numpy computes np.rint(x * s * 2**30).
inline std::int64_t grid_key(double x, double s) {
  return static_cast<std::int64_t>(std::nearbyint((x * s) * kDuplicateGrid));
}

// A fixed odd multiplier per column, so that the hash depends on positions.
inline std::uint64_t column_multiplier(std::uint64_t k) { return splitmix64(k) | 1ull; }

template <class T>
PreparedRows prepare_rows(const FeatureRows<T>& X, const Workers& workers) {
  const Index n = X.rows, d = X.cols;
  PreparedRows out;
  out.scale.setZero(n);
  out.hash.setZero(n);
  out.status.setZero(n);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> outside = Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1>::Zero(n);
  Eigen::Matrix<std::uint64_t, Eigen::Dynamic, 1> multipliers(d);
  for (Index k = 0; k < d; ++k) multipliers[k] = column_multiplier(static_cast<std::uint64_t>(k));
  parallel_for(n, workers, [&](Index i) {
    const T* row = X.row(i);
    double largest = 0.0, sum_squares = 0.0;
    bool finite = true;
    for (Index k = 0; k < d; ++k) {
      const double x = static_cast<double>(row[k]);  // exact for every input type
      finite &= std::isfinite(x);
      largest = std::max(largest, std::fabs(x));
      sum_squares += x * x;
    }
    if (!finite) {
      out.status[i] = kRowNonFinite;
      return;
    }
    if (largest == 0.0) {
      out.status[i] = kRowZero;
      return;
    }
    if (largest < kSafeMagnitudeLow || largest > kSafeMagnitudeHigh) {
      outside[i] = 1;
      return;
    }
    const double s = 1.0 / std::sqrt(sum_squares);
    std::uint64_t h = 0;
    for (Index k = 0; k < d; ++k)
      h += static_cast<std::uint64_t>(grid_key(static_cast<double>(row[k]), s)) * multipliers[k];
    out.scale[i] = s;
    out.hash[i] = h;
  });
  out.in_range = n == 0 || outside.maxCoeff() == 0;
  return out;
}

inline PreparedRows prepare_rows(const Eigen::Ref<const RowMatrix>& X, const Workers& workers) {
  return prepare_rows(feature_rows(X), workers);
}

}  // namespace cgscore
