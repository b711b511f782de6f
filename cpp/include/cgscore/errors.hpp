// The one numerical failure of the kernel: a Cholesky pivot that is not safely positive.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "types.hpp"

namespace cgscore {

class FactorizationError : public std::runtime_error {
 public:
  FactorizationError(Index pivot_index, double pivot_value, double tolerance)
      : std::runtime_error(describe(pivot_index, pivot_value, tolerance)),
        pivot_index_(pivot_index),
        pivot_value_(pivot_value) {}

  Index pivot_index() const { return pivot_index_; }
  double pivot_value() const { return pivot_value_; }

 private:
  static std::string describe(Index index, double value, double tolerance) {
    std::ostringstream out;
    out << "Cholesky factorization of the NTK Gram matrix failed at pivot " << index
        << " (value " << value << ", tolerance " << tolerance
        << "): the matrix is singular to working precision, which happens when an "
           "instance is a positive multiple (or a near copy) of another one";
    return out.str();
  }

  Index pivot_index_;
  double pivot_value_;
};

}  // namespace cgscore
