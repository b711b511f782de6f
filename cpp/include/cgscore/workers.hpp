// What every parallel loop of a kernel call is given: how many threads to use, and the stop
// token to poll between blocks. Also the thread-count rules and the carrier that takes the
// first exception of a worker back to the calling thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "stop_token.hpp"

#ifdef CGSCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace cgscore {

inline bool built_with_openmp() {
#ifdef CGSCORE_HAVE_OPENMP
  return true;
#else
  return false;
#endif
}

// The hardware threads of this machine (at least 1: the standard allows 0 for "unknown").
inline int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// The largest thread count a call accepts. Beyond a few threads per core nothing is gained
// (the blocks are compute-bound and the results do not depend on the count), while asking
// libgomp for 20 000 threads made it abort the whole process when thread creation failed.
inline int max_threads() { return std::max(64, 4 * hardware_threads()); }

// n_threads must be <= max_threads(); <= 0 means the default. Throws std::invalid_argument
// (ValueError in Python) with a message that says what to pass instead.
inline void check_thread_count(int n_threads) {
  if (n_threads > max_threads())
    throw std::invalid_argument("n_threads=" + std::to_string(n_threads) + " is more than the " +
                                std::to_string(max_threads()) + " threads a call may use on this machine (" +
                                std::to_string(hardware_threads()) +
                                " hardware threads); pass at most that, or None for the default");
}

// The threads a loop runs on: n_threads when > 0; otherwise OpenMP's default (OMP_NUM_THREADS
// or the cores) in an OpenMP build, and every hardware thread in a build without OpenMP (the
// std::thread runner of block_threads.hpp then does all the parallel work).
inline int resolve_threads(int n_threads) {
  check_thread_count(n_threads);
  if (n_threads > 0) return n_threads;
#ifdef CGSCORE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return hardware_threads();
#endif
}

// A kernel call's parallel settings, passed down to every loop. Converts from a plain thread
// count (never stopped) so internal single-threaded calls can say `1`.
struct Workers {
  int n_threads = 0;                // <= 0: resolve_threads' default
  const StopToken* stop = nullptr;  // polled before each block; nullptr: never stopped

  Workers(int threads = 0, const StopToken* token = nullptr) : n_threads(threads), stop(token) {}  // NOLINT

  bool stop_requested() const { return stop != nullptr && stop->stop_requested(); }
  // Throws Cancelled when the call's stop token is set: between blocks and recursion levels.
  void throw_if_stopped() const {
    if (stop_requested()) throw Cancelled();
  }
};

// No exception may leave a worker thread or an OpenMP region: each block runs through
// capture(), which first polls the stop token; the first exception (Cancelled included) is
// kept, the remaining blocks are skipped, and rethrow() raises it on the calling thread.
class ExceptionCollector {
 public:
  explicit ExceptionCollector(const Workers& workers) : workers_(workers) {}

  template <class Body>
  void capture(Body&& body) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      workers_.throw_if_stopped();
      body();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  // Once every worker has finished (joined, or the parallel region has ended).
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  const Workers& workers_;
  std::mutex mutex_;
  std::exception_ptr first_;
  std::atomic<bool> failed_{false};
};

}  // namespace cgscore
