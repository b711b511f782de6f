// The unblocked factor of one small diagonal block, with which both backends end their
// blocked Cholesky: it checks every pivot and reports the smallest.
#pragma once

#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "errors.hpp"
#include "types.hpp"

namespace cgscore {

struct PivotReport {
  double min_pivot = std::numeric_limits<double>::infinity();  // smallest d_k in H = L Lᵀ, d_k = L_kk²
  Index min_pivot_index = -1;
};

// Factors the diagonal block in place (unblocked); throws on a pivot <= tolerance.
inline void factor_diagonal_block(Eigen::Ref<ColMatrix> A, Index offset, double tolerance,
                                  PivotReport& report) {
  const Index m = A.rows();
  for (Index j = 0; j < m; ++j) {
    const double pivot = A(j, j);
    if (!(pivot > tolerance)) throw FactorizationError(offset + j, pivot, tolerance);
    if (pivot < report.min_pivot) {
      report.min_pivot = pivot;
      report.min_pivot_index = offset + j;
    }
    const double l = std::sqrt(pivot);
    A(j, j) = l;
    const Index rest = m - j - 1;
    if (rest == 0) continue;
    A.col(j).tail(rest) /= l;
    for (Index k = j + 1; k < m; ++k) {
      A.col(k).tail(m - k).noalias() -= A(k, j) * A.col(j).tail(m - k);
    }
  }
}

}  // namespace cgscore
