// Level-3 BLAS calls split into fixed blocks that threads (block_threads.hpp) run independently, each
// block one single-threaded BLAS call. The blocks depend on the sizes only, never on the
// thread count, and no block reads another's output: results are bit-identical for any
// number of threads (OpenBLAS's own threading of dtrsm/dtrmm is not).
#pragma once

#include <algorithm>
#include <vector>

#include "blas_library.hpp"
#include "block_threads.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kBlasBlock = 256;  // rows or columns per call: large enough to run at full speed

// body(start, size) for consecutive blocks of [0, count), handed out first come, first served.
template <class Body>
void for_each_block(Index count, Index block, int n_threads, Body&& body) {
  const Index blocks = (count + block - 1) / block;
  run_blocks(blocks, n_threads, [&](Index b) { body(b * block, std::min(block, count - b * block)); });
}

// C (m×m, lower) += alpha · A Aᵀ, A m×k: dsyrk on diagonal tiles, dgemm below them.
inline void blocked_syrk_lower(const BlasLibrary& blas, blas_int m, blas_int k, double alpha, const double* A,
                               blas_int lda, double* C, blas_int ldc, int n_threads) {
  const std::vector<Tile> tiles = lower_tiles(m, kBlasBlock);
  const double one = 1.0;
  for_each_block(static_cast<Index>(tiles.size()), 1, n_threads, [&](Index t, Index) {
    const Tile& tile = tiles[t];
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
                                blas_int ldb, int n_threads) {
  for_each_block(m, kBlasBlock, n_threads, [&](Index start, Index size) {
    const blas_int rows = size;
    routine("R", "L", trans, "N", &rows, &n, &alpha, T, &ldt, B + start, &ldb, 1, 1, 1, 1);
  });
}

// B (m×n) := op(T) · B, T m×m lower triangular (side "L": the columns of B are independent).
inline void blocked_left_lower(BlasLibrary::trsm_t routine, const char* trans, blas_int m,
                               blas_int n, double alpha, const double* T, blas_int ldt, double* B, blas_int ldb,
                               int n_threads) {
  for_each_block(n, kBlasBlock, n_threads, [&](Index start, Index size) {
    const blas_int cols = size;
    routine("L", "L", trans, "N", &m, &cols, &alpha, T, &ldt, B + start * ldb, &ldb, 1, 1, 1, 1);
  });
}

}  // namespace cgscore
