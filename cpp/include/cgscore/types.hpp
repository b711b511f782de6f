// Matrix types shared by the kernel headers.
#pragma once

#include <Eigen/Core>

namespace cgscore {

using Index = Eigen::Index;
// Features arrive from numpy as C-contiguous rows.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// The n×n working buffer and label blocks are column-major (LAPACK layout).
using ColMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Vector = Eigen::VectorXd;

}  // namespace cgscore
