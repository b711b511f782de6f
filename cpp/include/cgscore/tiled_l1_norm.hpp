// ‖H‖₁ (the largest absolute column sum) of a symmetric H whose lower triangle is built tile
// by tile, summed while each tile is still in cache. Each tile writes its column sums (its
// own entries) and row sums (the mirror of its entries above the diagonal) to slots of its
// own; value() adds the slots in tile order, so the norm is the same for any thread count.
#pragma once

#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

class TiledL1Norm {
 public:
  explicit TiledL1Norm(const std::vector<Tile>& tiles) : tiles_(tiles), offset_(tiles.size() + 1, 0) {
    for (std::size_t t = 0; t < tiles.size(); ++t) offset_[t + 1] = offset_[t] + tiles[t].rows + tiles[t].cols;
    sums_.assign(static_cast<std::size_t>(offset_.back()), 0.0);
  }

  // Tile t, finished, at `data` (column-major, leading dimension ld). Once per tile, any thread.
  void add(Index t, const double* data, Index ld) {
    const Tile& tile = tiles_[t];
    double* column_sums = &sums_[static_cast<std::size_t>(offset_[t])];
    double* row_sums = column_sums + tile.cols;
    const bool diagonal = tile.row == tile.col;
    for (Index j = 0; j < tile.cols; ++j) {
      const double* column = data + j * ld;
      const Index first = diagonal ? j : 0;
      double sum = 0.0;
      for (Index i = first; i < tile.rows; ++i) sum += std::fabs(column[i]);
      column_sums[j] = sum;
      // Above the diagonal H(j, i) = H(i, j): row i's sum gains the same entries, minus H(i, i).
      for (Index i = diagonal ? j + 1 : 0; i < tile.rows; ++i) row_sums[i] += std::fabs(column[i]);
    }
  }

  double value(Index n) const {
    if (n == 0) return 0.0;
    Vector total = Vector::Zero(n);
    for (std::size_t t = 0; t < tiles_.size(); ++t) {
      const Tile& tile = tiles_[t];
      const double* column_sums = &sums_[static_cast<std::size_t>(offset_[t])];
      for (Index j = 0; j < tile.cols; ++j) total[tile.col + j] += column_sums[j];
      for (Index i = 0; i < tile.rows; ++i) total[tile.row + i] += column_sums[tile.cols + i];
    }
    return total.maxCoeff();
  }

 private:
  const std::vector<Tile>& tiles_;
  std::vector<Index> offset_;
  std::vector<double> sums_;
};

}  // namespace cgscore
