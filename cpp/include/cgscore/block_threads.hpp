// Runs independent blocks on short-lived std::threads that take block numbers from an
// atomic counter, and joins them. Used by the BLAS backend, which makes hundreds of short
// parallel calls: OpenMP's idle threads spin between and after regions (GOMP_SPINCOUNT),
// and on a busy machine that spinning took the cores the working thread needed; measured,
// 2 OpenMP threads ran 1.5–4× slower than 1. Joining a thread sleeps instead of spinning.
// It is also every parallel loop's runner in a build without OpenMP (parallel.hpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "types.hpp"
#include "workers.hpp"

namespace cgscore {

// body(b) for b in [0, count), on up to resolve_threads(workers.n_threads) threads (the caller
// is one), polling the stop token before each block. Which thread runs a block never changes
// what the block computes. The first exception of any block (Cancelled when stopped) is
// rethrown here after every thread has been joined.
template <class Body>
void run_blocks(Index count, const Workers& workers, Body&& body) {
  const Index threads = std::min<Index>(resolve_threads(workers.n_threads), count);
  ExceptionCollector errors(workers);
  if (threads <= 1) {
    for (Index b = 0; b < count; ++b) errors.capture([&] { body(b); });
    errors.rethrow();
    return;
  }
  std::atomic<Index> next{0};
  auto work = [&] {
    for (Index b = next++; b < count; b = next++) errors.capture([&] { body(b); });
  };
  std::vector<std::thread> others;
  others.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (Index t = 1; t < threads; ++t) others.emplace_back(work);
  } catch (...) {
    // A thread could not be started: the threads running (the caller at least) share the blocks.
  }
  work();
  for (auto& thread : others) thread.join();
  errors.rethrow();
}

}  // namespace cgscore
