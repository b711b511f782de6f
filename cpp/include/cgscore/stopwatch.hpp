// Wall-clock seconds of each step, for benchmarks and profiling.
#pragma once

#include <chrono>

namespace cgscore {

// Seconds since construction, restarted by each lap().
class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    return elapsed;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace cgscore
