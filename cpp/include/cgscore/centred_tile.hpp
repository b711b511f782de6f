// Gram tiles of concentrated rows (a large common offset: raw pixel intensities, scans,
// un-centred embeddings), computed from the rows' offsets to a common centre.
//
// Near u = ±1 the transform needs the chord ‖a − b‖ of the unit rows a = x_i s_i, b = x_j s_j,
// not their dot product (ntk_transform.hpp). When every pair of a tile is near-parallel,
// redoing each pair from the rows cost 14× the Gram step. The chord does not change when
// both rows are shifted by the same m, so with z = a − m (m near the rows):
//   u  = ‖m‖² + (m·z_i + m·z_j) + z_i·z_j,      c² = ‖a − b‖² = ‖z_i‖² + ‖z_j‖² − 2 z_i·z_j,
// where z_i·z_j is one BLAS product of the shifted panels and ‖z‖ is the rows' spread, not 1:
// c² comes out with an error relative to ‖z_i‖² + ‖z_j‖² instead of to 2. A pair whose
// chord is short even on that scale (c² < (‖z_i‖² + ‖z_j‖²)/4: a near-copy inside the
// cluster) is still redone from its rows. Any m gives the same values up to rounding;
// m is the mean of every 8th unit row of the tile, so it depends on the tile alone.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "ntk_transform.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

// A tile whose centre has ‖m‖² above this (mean cosine to the centre above 0.7) is computed
// from the shifted rows; below it, from the rows themselves (ntk_transform_column).
constexpr double kConcentrated = 0.5;
constexpr Index kCentreStride = 8;     // rows sampled for the centre
constexpr Index kCentredDepth = 1024;  // features per shifted panel: bounded scratch for any d

// The centre m of the tile's rows and (off the diagonal) columns; returns ‖m‖².
inline double tile_centre(const double* X, Index ldx, Index d, const double* scale, const Tile& tile,
                          std::vector<double>& m) {
  m.assign(static_cast<std::size_t>(d), 0.0);
  Index count = 0;
  auto add = [&](Index first, Index rows) {
    for (Index i = first; i < first + rows; i += kCentreStride, ++count) {
      const double* x = X + i * ldx;
      const double s = scale[i];
      for (Index k = 0; k < d; ++k) m[k] += x[k] * s;
    }
  };
  add(tile.row, tile.rows);
  if (tile.row != tile.col) add(tile.col, tile.cols);
  double norm2 = 0.0;
  for (Index k = 0; k < d; ++k) {
    m[k] /= static_cast<double>(count);
    norm2 += m[k] * m[k];
  }
  return norm2;
}

// Rows first … first+rows−1, features k0 … k0+width−1, shifted: Z (rows × width, row-major)
// = x_i s_i − m; adds each row's share of ‖z_i‖² and m·z_i. The sums go in four fixed lanes
// (k mod 4), so they are the same whatever vector width the compiler picks for this CPU.
CGSCORE_CPU_CLONES inline void shift_panel(const double* X, Index ldx, const double* scale, const double* m,
                                           Index first, Index rows, Index k0, Index width, double* Z,
                                           double* norm2, double* dot_m) {
  const Index body = width / 4 * 4;
  for (Index i = 0; i < rows; ++i) {
    const double* __restrict x = X + (first + i) * ldx + k0;
    const double* __restrict c = m + k0;
    double* __restrict z = Z + i * width;
    const double s = scale[first + i];
    double n0 = 0, n1 = 0, n2 = 0, n3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    for (Index k = 0; k < body; k += 4) {
      const double v0 = x[k] * s - c[k], v1 = x[k + 1] * s - c[k + 1];
      const double v2 = x[k + 2] * s - c[k + 2], v3 = x[k + 3] * s - c[k + 3];
      z[k] = v0, z[k + 1] = v1, z[k + 2] = v2, z[k + 3] = v3;
      n0 += v0 * v0, n1 += v1 * v1, n2 += v2 * v2, n3 += v3 * v3;
      p0 += c[k] * v0, p1 += c[k + 1] * v1, p2 += c[k + 2] * v2, p3 += c[k + 3] * v3;
    }
    for (Index k = body; k < width; ++k) {
      const double v = x[k] * s - c[k];
      z[k] = v;
      n0 += v * v;
      p0 += c[k] * v;
    }
    norm2[i] += (n0 + n1) + (n2 + n3);
    dot_m[i] += (p0 + p1) + (p2 + p3);
  }
}

// The pairs of one column segment of a centred tile that its chord cannot give to full
// precision: u <= 0 (an outlier of the cluster; the shifted rows give u itself only to a few
// ulps, which the transform amplifies near u = −1), or a chord short on the scale of the
// spread (a near-copy inside the cluster). Cheap (no transform): most columns have none.
CGSCORE_CPU_CLONES inline Index count_centred_redo(const double* g, const double* row_n2, const double* row_m,
                                                   double col_n2, double col_m, double mm, Index count) {
  Index redo = 0;
#pragma omp simd reduction(+ : redo)
  for (Index i = 0; i < count; ++i) {
    const double u = mm + ((row_m[i] + col_m) + g[i]);
    const double spread = row_n2[i] + col_n2;
    const double c2 = spread - 2.0 * g[i];
    redo += (u <= 0.0) | (c2 < 0.25 * spread);
  }
  return redo;
}

// One column segment of a centred tile in place: g = z_i·z_j becomes H_ij from the chord,
// θ = 2 asin(c/2) and u = 1 − c²/2 (the pairs count_centred_redo names are redone after).
CGSCORE_CPU_CLONES inline void transform_centred_column(double* g, const double* row_n2, double col_n2, Index count) {
#pragma omp simd
  for (Index i = 0; i < count; ++i) {
    const double c2 = (row_n2[i] + col_n2) - 2.0 * g[i];
    const double half = 0.5 * std::sqrt(c2 > 0.0 ? c2 : 0.0);
    const double theta = 2.0 * asin_branchfree(half < 1.0 ? half : 1.0);
    g[i] = (1.0 - 0.5 * c2) * (kPi - theta) * (0.5 / kPi);
  }
}

// One pair as the direct path computes it: the cosine from the rows' dot product, and
// near u = ±1 the rows' difference or sum (ntk_transform_column).
inline double ntk_from_pair(const double* xi, double si, const double* xj, double sj, Index d) {
  double dot = 0.0;
  for (Index k = 0; k < d; ++k) dot += xi[k] * xj[k];
  const double u = dot * si * sj;
  return std::fabs(u) > kNearParallel ? ntk_from_rows(xi, si, xj, sj, d) : ntk_from_cosine(u);
}

// The tile at `out` (leading dimension ldo) from the shifted rows, when the tile is
// concentrated; returns false (out untouched) when it is not. multiply(Zr, Zc, width, first)
// must set the tile to Zr Zcᵀ (first chunk) or add Zr Zcᵀ to it; Zr is tile.rows × width,
// Zc tile.cols × width, both row-major, and on a diagonal tile Zc == Zr (lower triangle).
// The diagonal entries are left to the caller.
template <class Multiply>
bool centred_tile(const double* X, Index ldx, Index d, const double* scale, const Tile& tile, double* out, Index ldo,
                  Multiply&& multiply) {
  std::vector<double> m;
  const double mm = tile_centre(X, ldx, d, scale, tile, m);
  if (!(mm > kConcentrated) || d == 0) return false;
  const bool diagonal = tile.row == tile.col;
  const Index width = std::min(kCentredDepth, d);
  // Scratch, every entry written before it is read (no zero fill): at most 1536 × 1024 doubles
  // (12.6 MB) per thread.
  const std::unique_ptr<double[]> Zr(new double[static_cast<std::size_t>(tile.rows * width)]);
  const std::unique_ptr<double[]> Zc(diagonal ? nullptr : new double[static_cast<std::size_t>(tile.cols * width)]);
  std::vector<double> row_n2(tile.rows, 0.0), row_m(tile.rows, 0.0), col_n2(tile.cols, 0.0), col_m(tile.cols, 0.0);
  for (Index k0 = 0; k0 < d; k0 += width) {
    const Index w = std::min(width, d - k0);
    shift_panel(X, ldx, scale, m.data(), tile.row, tile.rows, k0, w, Zr.get(), row_n2.data(), row_m.data());
    if (!diagonal)
      shift_panel(X, ldx, scale, m.data(), tile.col, tile.cols, k0, w, Zc.get(), col_n2.data(), col_m.data());
    multiply(Zr.get(), diagonal ? Zr.get() : Zc.get(), w, k0 == 0);
  }
  if (diagonal) {
    col_n2 = row_n2;
    col_m = row_m;
  }
  std::vector<Index> redo;
  for (Index j = 0; j < tile.cols; ++j) {
    const Index first = diagonal ? j + 1 : 0;  // the lower triangle; the diagonal is the caller's
    const Index count = tile.rows - first;
    if (count <= 0) continue;
    double* g = out + j * ldo + first;
    const double* rn = row_n2.data() + first;
    const double* rm = row_m.data() + first;
    const double cn = col_n2[j], cm = col_m[j];
    redo.clear();
    if (count_centred_redo(g, rn, rm, cn, cm, mm, count) > 0) {
      for (Index i = 0; i < count; ++i) {
        const double u = mm + ((rm[i] + cm) + g[i]);
        const double spread = rn[i] + cn;
        if (u <= 0.0 || spread - 2.0 * g[i] < 0.25 * spread) redo.push_back(i);
      }
    }
    transform_centred_column(g, rn, cn, count);
    const Index col = tile.col + j;
    for (const Index i : redo) {
      const Index row = tile.row + first + i;
      g[i] = ntk_from_pair(X + row * ldx, scale[row], X + col * ldx, scale[col], d);
    }
  }
  return true;
}

}  // namespace cgscore
