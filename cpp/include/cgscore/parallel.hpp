// parallel_for: the Eigen backend's loops over fixed tiles, on an OpenMP team, or on the
// std::thread runner (block_threads.hpp) in a build without OpenMP. Either way the stop
// token is polled before each index and the first exception is rethrown on the caller.
#pragma once

#include "block_threads.hpp"
#include "types.hpp"
#include "workers.hpp"

namespace cgscore {

// body(i) for i in [0, count). With OpenMP, round-robin (static, 1); which thread runs an
// index never changes what it computes.
template <class Body>
void parallel_for(Index count, const Workers& workers, Body&& body) {
#ifdef CGSCORE_HAVE_OPENMP
  const int threads = resolve_threads(workers.n_threads);
  ExceptionCollector errors(workers);
#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (Index i = 0; i < count; ++i) {
    errors.capture([&] { body(i); });
  }
  errors.rethrow();
#else
  run_blocks(count, workers, body);
#endif
}

}  // namespace cgscore
