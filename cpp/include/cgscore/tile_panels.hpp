// The product x_i·x_j of a Gram tile, accumulated over panels of at most kPanelDepth
// features. Float64 rows are multiplied where they lie; float32 and uint8 rows are converted
// a panel at a time into the tile's scratch, so the scratch is bounded for any d and the
// products are the same, bit for bit, whatever the input type.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "feature_rows.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kPanelDepth = 1024;  // features per panel

// The panel buffers of one Gram step, kept until the step ends: a tile borrows one and gives
// it back, so a step allocates about one buffer per thread, once (the largest tiles go
// first), and what it holds does not depend on what the allocator does with freed blocks.
class PanelPool {
 public:
  struct Buffer {
    std::unique_ptr<double[]> data;
    Index size = 0;
  };
  Buffer take(Index size) {
    Buffer buffer;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        buffer = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (buffer.size < size) buffer = {std::unique_ptr<double[]>(new double[static_cast<std::size_t>(size)]), size};
    return buffer;  // written before read: no zero fill
  }
  void give_back(Buffer buffer) {
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(buffer));
  }

 private:
  std::mutex mutex_;
  std::vector<Buffer> free_;
};

// A tile's panel scratch: rows × width doubles for its rows and (off the diagonal) cols ×
// width for its columns, borrowed from the step's pool on first use (float64 rows away from
// any common offset never need it). At most (1024 + 512) × 1024 doubles, 12.6 MB, per thread.
class TileScratch {
 public:
  TileScratch(const Tile& tile, Index d, PanelPool& pool)
      : rows_(tile.rows), cols_(tile.row == tile.col ? 0 : tile.cols), width_(std::max<Index>(1, std::min(kPanelDepth, d))),
        pool_(pool) {}
  TileScratch(const TileScratch&) = delete;
  TileScratch& operator=(const TileScratch&) = delete;
  ~TileScratch() {
    if (buffer_.data) pool_.give_back(std::move(buffer_));
  }
  Index width() const { return width_; }
  double* rows() { return buffer(); }
  double* cols() { return buffer() + rows_ * width_; }

 private:
  double* buffer() {
    if (!buffer_.data) buffer_ = pool_.take((rows_ + cols_) * width_);
    return buffer_.data.get();
  }
  Index rows_, cols_, width_;
  PanelPool& pool_;
  PanelPool::Buffer buffer_;
};

// multiply(A, lda, B, ldb, width, first) must set the tile to A Bᵀ (first panel) or add A Bᵀ
// to it; A is tile.rows × width and B tile.cols × width, row-major; on a diagonal tile B == A
// and only the lower triangle is needed. With d = 0 it is called once with width 0.
template <class T, class Multiply>
void tile_product(const FeatureRows<T>& X, const Tile& tile, TileScratch& scratch, Multiply&& multiply) {
  const bool diagonal = tile.row == tile.col;
  const Index d = X.cols, width = scratch.width();
  double *rows = nullptr, *cols = nullptr;  // float64 rows are read in place: no scratch
  if constexpr (!std::is_same_v<T, double>) {
    rows = scratch.rows();
    cols = diagonal ? nullptr : scratch.cols();
  }
  for (Index k0 = 0; k0 < d || k0 == 0; k0 += width) {
    const Index w = std::min(width, d - k0);
    Index lda = 1, ldb = 1;
    const double* A = X.panel(tile.row, tile.rows, k0, w, rows, &lda);
    const double* B = diagonal ? A : X.panel(tile.col, tile.cols, k0, w, cols, &ldb);
    multiply(A, lda, B, diagonal ? lda : ldb, w, k0 == 0);
  }
}

}  // namespace cgscore
