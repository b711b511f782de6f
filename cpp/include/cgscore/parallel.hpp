// OpenMP helpers: per-call thread counts and exceptions carried out of parallel loops.
#pragma once

#include <exception>
#include <mutex>

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

// n_threads <= 0 means "what OpenMP would use by default" (OMP_NUM_THREADS or cores).
inline int resolve_threads(int n_threads) {
#ifdef CGSCORE_HAVE_OPENMP
  return n_threads > 0 ? n_threads : omp_get_max_threads();
#else
  (void)n_threads;
  return 1;
#endif
}

// No exception may leave an OpenMP region: loop bodies run through capture(),
// and the first exception is rethrown on the calling thread after the region.
class ExceptionCollector {
 public:
  template <class Body>
  void capture(Body&& body) noexcept {
    if (failed_) return;
    try {
      body();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
      failed_ = true;
    }
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr first_;
  volatile bool failed_ = false;
};

// body(i) for i in [0, count) on an OpenMP team, round-robin (static, 1): which thread
// runs an index never changes what it computes. Exceptions are rethrown on the caller.
template <class Index, class Body>
void parallel_for(Index count, int n_threads, Body&& body) {
  ExceptionCollector errors;
#pragma omp parallel for schedule(static, 1) num_threads(resolve_threads(n_threads))
  for (Index i = 0; i < count; ++i) {
    errors.capture([&] { body(i); });
  }
  errors.rethrow();
}

}  // namespace cgscore
