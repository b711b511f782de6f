// Square tiles of the lower triangle, listed once so every parallel loop over them
// uses the same static assignment (bit-identical results for any thread count).
#pragma once

#include <algorithm>
#include <vector>

#include "types.hpp"

namespace cgscore {

struct Tile {
  Index row, col, rows, cols;  // rows [row, row+rows) × cols [col, col+cols); row >= col
};

inline std::vector<Tile> lower_tiles(Index n, Index tile) {
  std::vector<Tile> tiles;
  for (Index j = 0; j < n; j += tile) {
    for (Index i = j; i < n; i += tile) {
      tiles.push_back({i, j, std::min(tile, n - i), std::min(tile, n - j)});
    }
  }
  return tiles;
}

}  // namespace cgscore
