// Runs independent blocks on short-lived std::threads that take block numbers from an
// atomic counter, and joins them. Used by the BLAS backend, which makes hundreds of short
// parallel calls: OpenMP's idle threads spin between and after regions (GOMP_SPINCOUNT),
// and on a busy machine that spinning took the cores the working thread needed; measured,
// 2 OpenMP threads ran 1.5–4× slower than 1. Joining a thread sleeps instead of spinning.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "parallel.hpp"
#include "types.hpp"

namespace cgscore {

// body(b) for b in [0, count), on up to resolve_threads(n_threads) threads (the caller is one).
// Which thread runs a block never changes what the block computes.
template <class Body>
void run_blocks(Index count, int n_threads, Body&& body) {
  const Index threads = std::min<Index>(resolve_threads(n_threads), count);
  if (threads <= 1) {
    for (Index b = 0; b < count; ++b) body(b);
    return;
  }
  std::atomic<Index> next{0};
  ExceptionCollector errors;
  auto work = [&] {
    for (Index b = next++; b < count; b = next++) errors.capture([&] { body(b); });
  };
  std::vector<std::thread> helpers;
  helpers.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (Index t = 1; t < threads; ++t) helpers.emplace_back(work);
  } catch (...) {
    // No thread could be started: the caller does the remaining blocks alone.
  }
  work();
  for (auto& helper : helpers) helper.join();
  errors.rethrow();
}

}  // namespace cgscore
