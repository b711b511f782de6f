// V := H⁻¹V = L⁻ᵀ L⁻¹ V for a few right-hand sides, on a run-time BLAS. With so few columns a
// dtrsm is bound by reading L (n = 5000: 0.02 s per pass, one thread), so the solves go block
// by block and each block's update of the other rows is split into fixed row chunks that the
// threads share: two cores read L twice as fast. The chunks depend on n only, so the result
// is the same for any thread count.
#pragma once

#include <algorithm>

#include <Eigen/Core>

#include "blas_library.hpp"
#include "block_threads.hpp"
#include "types.hpp"

namespace cgscore {

constexpr Index kSolveBlock = 256;  // rows solved per step
constexpr Index kSolveChunk = 512;  // rows per update call

// rows [0, count) in chunks of kSolveChunk: body(start, size), shared by the threads.
template <class Body>
void for_each_chunk(Index count, const Workers& workers, Body&& body) {
  const Index chunks = (count + kSolveChunk - 1) / kSolveChunk;
  run_blocks(chunks, workers, [&](Index c) {
    const Index start = c * kSolveChunk;
    body(start, std::min(kSolveChunk, count - start));
  });
}

// L: the n×n lower-triangular factor at L (leading dimension ld); V: n×k, column-major.
inline void blas_cholesky_solve(const BlasLibrary& blas, const double* L, blas_int ld, Eigen::Ref<ColMatrix> V,
                                const Workers& workers) {
  const Index n = V.rows();
  const blas_int k = V.cols(), ldv = V.outerStride();
  const double one = 1.0, minus_one = -1.0;
  double* R = V.data();
  // L x = v, forward: solve block b, then subtract its contribution from every row below it.
  for (Index b0 = 0; b0 < n; b0 += kSolveBlock) {
    workers.throw_if_stopped();
    const blas_int nb = std::min(kSolveBlock, n - b0);
    blas.dtrsm("L", "L", "N", "N", &nb, &k, &one, L + b0 + b0 * ld, &ld, R + b0, &ldv, 1, 1, 1, 1);
    const Index below = n - b0 - nb;
    for_each_chunk(below, workers, [&](Index start, Index size) {
      const Index row = b0 + nb + start;
      const blas_int rows = size;
      blas.dgemm("N", "N", &rows, &k, &nb, &minus_one, L + row + b0 * ld, &ld, R + b0, &ldv, &one, R + row, &ldv,
                 1, 1);
    });
  }
  // Lᵀ x = v, backward: solve block b, then subtract L[b, 0:b]ᵀ x_b from every row above it.
  for (Index b0 = (n - 1) / kSolveBlock * kSolveBlock; b0 >= 0; b0 -= kSolveBlock) {
    workers.throw_if_stopped();
    const blas_int nb = std::min(kSolveBlock, n - b0);
    blas.dtrsm("L", "L", "T", "N", &nb, &k, &one, L + b0 + b0 * ld, &ld, R + b0, &ldv, 1, 1, 1, 1);
    for_each_chunk(b0, workers, [&](Index start, Index size) {
      const blas_int rows = size;
      blas.dgemm("T", "N", &rows, &k, &nb, &minus_one, L + b0 + start * ld, &ld, R + b0, &ldv, &one, R + start,
                 &ldv, 1, 1);
    });
  }
}

}  // namespace cgscore
