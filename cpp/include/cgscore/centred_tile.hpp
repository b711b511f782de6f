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
// m is the mean of every 8th unit row of the tile, so it depends on the tile alone. Rows of
// float32 or uint8 are converted a row at a time (feature_rows.hpp), into the same panels.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>
#include <vector>

#include "feature_rows.hpp"
#include "ntk_transform.hpp"
#include "relu_ntk.hpp"
#include "tile_panels.hpp"
#include "tiling.hpp"
#include "types.hpp"

namespace cgscore {

// A tile whose centre has ‖m‖² above this (mean cosine to the centre above 0.7) is computed
// from the shifted rows; below it, from the rows themselves (ntk_transform_column).
constexpr double kConcentrated = 0.5;
constexpr Index kCentreStride = 8;  // rows sampled for the centre

// The centre m of the tile's rows and (off the diagonal) columns; returns ‖m‖².
template <class T>
double tile_centre(const FeatureRows<T>& X, const double* scale, const Tile& tile, std::vector<double>& m) {
  const Index d = X.cols;
  m.assign(static_cast<std::size_t>(d), 0.0);
  RowReader<T> read(X);
  Index count = 0;
  auto add = [&](Index first, Index rows) {
    for (Index i = first; i < first + rows; i += kCentreStride, ++count) {
      const double* x = read(i);
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

// One row's features k0 … k0+width−1 (x, from k0), shifted: z = x s − c (c = m + k0); adds the
// row's share of ‖z‖² and m·z. The sums go in four fixed lanes (k mod 4), so they are the same
// whatever vector width the compiler picks for this CPU.
CGSCORE_CPU_CLONES inline void shift_row(const double* __restrict x, double s, const double* __restrict c,
                                         Index width, double* __restrict z, double* norm2, double* dot_m) {
  const Index body = width / 4 * 4;
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
  *norm2 += (n0 + n1) + (n2 + n3);
  *dot_m += (p0 + p1) + (p2 + p3);
}

// Rows first … first+rows−1, features k0 … k0+width−1, shifted into Z (rows × width,
// row-major), with each row's share of ‖z_i‖² and m·z_i added to norm2 and dot_m.
template <class T>
void shift_panel(const FeatureRows<T>& X, const double* scale, const double* m, Index first, Index rows, Index k0,
                 Index width, double* Z, double* norm2, double* dot_m) {
  const std::unique_ptr<double[]> buffer(std::is_same_v<T, double> ? nullptr : new double[width]);
  for (Index i = 0; i < rows; ++i) {
    const double* x = X.read(first + i, k0, width, buffer.get());
    shift_row(x, scale[first + i], m + k0, width, Z + i * width, norm2 + i, dot_m + i);
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
// near u = ±1 the rows' difference or sum (kernel_transform_column), for the kernel of `depth`.
inline double ntk_from_pair(const double* xi, double si, const double* xj, double sj, Index d, int depth = 0) {
  double dot = 0.0;
  for (Index k = 0; k < d; ++k) dot += xi[k] * xj[k];
  const double u = dot * si * sj;
  if (std::fabs(u) > kNearParallel) return kernel_from_rows(xi, si, xj, sj, d, depth);
  if (depth == 0) return ntk_from_cosine(u);
  double value = dot;
  relu_ntk_transform(&value, &si, sj, 1, depth);
  return value;
}

// The tile at `out` (leading dimension ldo) of the kernel of `depth` (0: the paper's; L: the
// depth-L NTK, relu_ntk.hpp) from the shifted rows, when the tile is
// concentrated; returns false (out untouched) when it is not. The shifted panels go in the
// tile's scratch and multiply is called as in tile_product (tile_panels.hpp).
// The diagonal entries are left to the caller.
template <class T, class Multiply>
bool centred_tile(const FeatureRows<T>& X, const double* scale, const Tile& tile, double* out, Index ldo,
                  TileScratch& scratch, Multiply&& multiply, int depth = 0) {
  const Index d = X.cols;
  std::vector<double> m;
  const double mm = tile_centre(X, scale, tile, m);
  if (!(mm > kConcentrated) || d == 0) return false;
  const bool diagonal = tile.row == tile.col;
  const Index width = scratch.width();
  double* Zr = scratch.rows();
  double* Zc = diagonal ? Zr : scratch.cols();
  std::vector<double> row_n2(tile.rows, 0.0), row_m(tile.rows, 0.0), col_n2(tile.cols, 0.0), col_m(tile.cols, 0.0);
  for (Index k0 = 0; k0 < d; k0 += width) {
    const Index w = std::min(width, d - k0);
    shift_panel(X, scale, m.data(), tile.row, tile.rows, k0, w, Zr, row_n2.data(), row_m.data());
    if (!diagonal) shift_panel(X, scale, m.data(), tile.col, tile.cols, k0, w, Zc, col_n2.data(), col_m.data());
    multiply(Zr, w, Zc, w, w, k0 == 0);
  }
  if (diagonal) {
    col_n2 = row_n2;
    col_m = row_m;
  }
  std::vector<Index> redo;
  RowReader<T> read_row(X), read_col(X);
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
    if (depth == 0) {
      transform_centred_column(g, rn, cn, count);
    } else {
      relu_ntk_transform_centred(g, rn, cn, count, depth);
    }
    if (redo.empty()) continue;
    const Index col = tile.col + j;
    const double* xj = read_col(col);
    for (const Index i : redo) {
      const Index row = tile.row + first + i;
      g[i] = ntk_from_pair(read_row(row), scale[row], xj, scale[col], d, depth);
    }
  }
  return true;
}

}  // namespace cgscore
