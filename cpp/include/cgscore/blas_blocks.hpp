// Level-3 BLAS calls split into fixed blocks that threads (block_threads.hpp) run independently, each
// block one single-threaded BLAS call. The blocks depend on the sizes only, never on the
// thread count, and no block reads another's output: results are bit-identical for any
// number of threads (OpenBLAS's own threading of dtrsm/dtrmm is not).
#pragma once

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "blas_library.hpp"
#include "block_threads.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

// Consecutive blocks [start, start + size) of [0, count), largest first: about a quarter of
// what remains, 128 to 512 wide in multiples of 64. The big blocks run each BLAS call near
// its peak (a 512-row dtrsm is ~20% faster per flop than a 256-row one); the small last
// ones even out when the threads finish. The blocks depend on count only.
inline std::vector<std::pair<Index, Index>> guided_blocks(Index count) {
  std::vector<std::pair<Index, Index>> blocks;
  for (Index start = 0; start < count;) {
    const Index left = count - start;
    Index size = std::clamp<Index>(left / 4 / 64 * 64, 128, 512);
    if (left - size < 64) size = left;  // no sliver at the end
    blocks.emplace_back(start, size);
    start += size;
  }
  return blocks;
}

// The recursive factor and inverse (blas_factor.hpp, blas_inverse.hpp) halve down to leaves
// of this order, which the Eigen code handles in place.
constexpr Index kBlasLeaf = 128;

using StridedBlock = Eigen::Map<ColMatrix, 0, Eigen::OuterStride<>>;

// Splits near the middle, on a multiple of the leaf so the blocks stay aligned.
inline Index split_point(Index n) { return std::max(kBlasLeaf, (n / 2 + kBlasLeaf / 2) / kBlasLeaf * kBlasLeaf); }

// body(start, size) for the guided blocks of [0, count), handed out first come, first served.
template <class Body>
void for_each_block(Index count, const Workers& workers, Body&& body) {
  const std::vector<std::pair<Index, Index>> blocks = guided_blocks(count);
  run_blocks(static_cast<Index>(blocks.size()), workers, [&](Index b) { body(blocks[b].first, blocks[b].second); });
}

// C (m×m, lower) += alpha · A Aᵀ, A m×k: dsyrk on diagonal tiles, dgemm below them.
inline void blocked_syrk_lower(const BlasLibrary& blas, blas_int m, blas_int k, double alpha, const double* A,
                               blas_int lda, double* C, blas_int ldc, const Workers& workers) {
  const Index width = panel_width(m);
  const std::vector<Tile> tiles = lower_panels(m, width, 2 * width);
  const std::vector<Index> order = largest_first(tiles);
  const double one = 1.0;
  run_blocks(static_cast<Index>(tiles.size()), workers, [&](Index next) {
    const Tile& tile = tiles[order[next]];
    const blas_int rows = tile.rows, cols = tile.cols;
    double* out = C + tile.row + tile.col * ldc;
    if (tile.row == tile.col) {
      blas.dsyrk("L", "N", &rows, &k, &alpha, A + tile.row, &lda, &one, out, &ldc, 1, 1);
    } else {
      blas.dgemm("N", "T", &rows, &cols, &k, &alpha, A + tile.row, &lda, A + tile.col, &lda, &one, out, &ldc, 1, 1);
    }
  });
}

// B (m×n) := B · op(T), T n×n lower triangular (side "R": the rows of B are independent).
// routine is dtrsm (B op(T)⁻¹) or dtrmm (B op(T)).
inline void blocked_right_lower(BlasLibrary::trsm_t routine, const char* trans,
                                blas_int m, blas_int n, double alpha, const double* T, blas_int ldt, double* B,
                                blas_int ldb, const Workers& workers) {
  for_each_block(m, workers, [&](Index start, Index size) {
    const blas_int rows = size;
    routine("R", "L", trans, "N", &rows, &n, &alpha, T, &ldt, B + start, &ldb, 1, 1, 1, 1);
  });
}

// B (m×n) := op(T) · B, T m×m lower triangular (side "L": the columns of B are independent).
inline void blocked_left_lower(BlasLibrary::trsm_t routine, const char* trans, blas_int m,
                               blas_int n, double alpha, const double* T, blas_int ldt, double* B, blas_int ldb,
                               const Workers& workers) {
  for_each_block(n, workers, [&](Index start, Index size) {
    const blas_int cols = size;
    routine("L", "L", trans, "N", &m, &cols, &alpha, T, &ldt, B + start * ldb, &ldb, 1, 1, 1, 1);
  });
}

}  // namespace cgscore
