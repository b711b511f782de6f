// X from Python as the kernel reads it: a C-contiguous 2-D float64, float32 or uint8 array,
// viewed in place (FeatureRows), never converted to a float64 copy.
#pragma once

#include <cstdint>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "cgscore/feature_rows.hpp"

namespace cgscore {

template <class T>
FeatureRows<T> feature_view(const pybind11::array& X) {
  const Index n = X.shape(0), d = X.shape(1);
  return {static_cast<const T*>(X.data()), n, d, n > 1 ? static_cast<Index>(X.strides(0)) / static_cast<Index>(sizeof(T)) : d};
}

enum class FeatureType { kFloat64, kFloat32, kUint8 };

// X's type, checked with the GIL held; a ValueError that says what to pass otherwise.
inline FeatureType feature_type(const pybind11::array& X) {
  namespace py = pybind11;
  if (X.ndim() != 2) throw py::value_error("X must be a 2-D array (n, d), not " + std::to_string(X.ndim()) + "-D");
  if (!(X.flags() & py::array::c_style))
    throw py::value_error("X must be C-contiguous (np.ascontiguousarray(X) makes it so)");
  // isinstance compares types by equivalence (native byte order included), not by identity:
  // an unpickled dtype is a different object.
  if (py::isinstance<py::array_t<double>>(X)) return FeatureType::kFloat64;
  if (py::isinstance<py::array_t<float>>(X)) return FeatureType::kFloat32;
  if (py::isinstance<py::array_t<std::uint8_t>>(X)) return FeatureType::kUint8;
  throw py::value_error("X must be float64, float32 or uint8 in native byte order, not " +
                        std::string(py::str(X.dtype())));
}

// body(FeatureRows<T>) with T the array's type. Reads only the array's buffer and shape: safe
// with the GIL released.
template <class Body>
auto with_feature_rows(const pybind11::array& X, FeatureType type, Body&& body) {
  switch (type) {
    case FeatureType::kFloat32:
      return body(feature_view<float>(X));
    case FeatureType::kUint8:
      return body(feature_view<std::uint8_t>(X));
    case FeatureType::kFloat64:
    default:
      return body(feature_view<double>(X));
  }
}

}  // namespace cgscore
