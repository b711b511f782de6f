// Cooperative cancellation of a kernel call. The caller keeps a StopToken and may set it
// from any thread; every parallel loop of the kernel polls it before each block (and each
// recursion level before descending), so a cancelled call ends within about one block
// with the exception Cancelled, after its threads have been joined and its buffers freed.
#pragma once

#include <atomic>
#include <stdexcept>

namespace cgscore {

class StopToken {
 public:
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> stop_{false};
};

// Thrown by a kernel call whose StopToken was set.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("the kernel call was cancelled (its stop token was set)") {}
};

}  // namespace cgscore
