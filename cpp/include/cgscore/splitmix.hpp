// splitmix64: a fixed, platform-independent 64-bit mix of an index, for values that must
// look random but be the same everywhere (duplicate-hash multipliers, estimator vectors).
#pragma once

#include <cstdint>

namespace cgscore {

inline std::uint64_t splitmix64(std::uint64_t i) {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace cgscore
