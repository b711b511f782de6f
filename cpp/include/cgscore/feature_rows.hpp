// The features as the caller gave them: n rows of d entries of T (float64, float32 or uint8),
// row-major, `stride` entries apart. The kernel reads them in place and converts to float64
// only the panel or row it is working on, so no float64 copy of X is ever made. Every
// conversion is exact (float32 and uint8 values are float64 values), so the arithmetic after
// it is the same as for the same values given as float64.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>

#include <Eigen/Core>

#include "types.hpp"

namespace cgscore {

template <class T>
struct FeatureRows {
  static_assert(std::is_same_v<T, double> || std::is_same_v<T, float> || std::is_same_v<T, std::uint8_t>,
                "features are float64, float32 or uint8");
  const T* data = nullptr;
  Index rows = 0, cols = 0, stride = 0;

  const T* row(Index i) const { return data + i * stride; }

  // Entries k0 … k0+width−1 of row i as float64: a pointer into the rows when T is double,
  // else the entries converted into `buffer` (width doubles).
  const double* read(Index i, Index k0, Index width, double* buffer) const {
    const T* x = row(i) + k0;
    if constexpr (std::is_same_v<T, double>) {
      return x;
    } else {
      for (Index k = 0; k < width; ++k) buffer[k] = static_cast<double>(x[k]);
      return buffer;
    }
  }

  // Rows first … first+count−1, features k0 … k0+width−1, as a row-major float64 panel with
  // leading dimension *ld: X itself when T is double, else converted into `scratch`
  // (count × width doubles).
  const double* panel(Index first, Index count, Index k0, Index width, double* scratch, Index* ld) const {
    if constexpr (std::is_same_v<T, double>) {
      *ld = std::max<Index>(stride, 1);
      return row(first) + k0;
    } else {
      *ld = std::max<Index>(width, 1);
      for (Index i = 0; i < count; ++i) read(first + i, k0, width, scratch + i * width);
      return scratch;
    }
  }
};

// A row-major float64 matrix (or block of one) as FeatureRows.
inline FeatureRows<double> feature_rows(const Eigen::Ref<const RowMatrix>& X) {
  return {X.data(), X.rows(), X.cols(), X.outerStride()};
}

// One full row as float64, for the pairs redone from their rows: owns the buffer a
// converted row needs, and points into X when no conversion is needed.
template <class T>
class RowReader {
 public:
  explicit RowReader(const FeatureRows<T>& X) : X_(X) {
    if constexpr (!std::is_same_v<T, double>) buffer_.reset(new double[static_cast<std::size_t>(X.cols)]);
  }
  const double* operator()(Index i) { return X_.read(i, 0, X_.cols, buffer_.get()); }

 private:
  const FeatureRows<T>& X_;
  std::unique_ptr<double[]> buffer_;
};

}  // namespace cgscore
