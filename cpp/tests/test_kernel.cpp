// C++ tests of the kernel, built without Python (CMake option CGSCORE_BUILD_TESTS, run by ctest):
// the Eigen kernel against a brute-force leave-one-out reference, the BLAS backend's refusal
// without a library, the stop token, exceptions carried out of worker threads, and the
// thread-count rules. Built twice: with OpenMP when found, and without it, where every loop
// runs on the std::thread runner.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <Eigen/Dense>

#include "cgscore/eigen_backend.hpp"
#include "cgscore/blas_backend.hpp"
#include "cgscore/centred_tile.hpp"
#include "cgscore/eigen_gram.hpp"
#include "cgscore/parallel.hpp"
#include "cgscore/row_prepare.hpp"
#include "cgscore/stop_token.hpp"

using namespace cgscore;

namespace {

int failures = 0;

#define CHECK(condition)                                                              \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                                     \
    }                                                                                 \
  } while (0)

// Runs `call` and reports whether it threw an exception of type E (and no other).
template <class E, class Call>
bool throws(Call&& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const E& e) {
    if (message) *message = e.what();
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

RowMatrix gaussian_rows(Index n, Index d, unsigned seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  RowMatrix X(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index k = 0; k < d; ++k) X(i, k) = normal(engine);
  return X;
}

ColMatrix random_signs(Index n, unsigned seed) {
  std::mt19937_64 engine(seed);
  ColMatrix Y(n, 1);
  for (Index i = 0; i < n; ++i) Y(i, 0) = (engine() & 1) ? 1.0 : -1.0;
  return Y;
}

Vector inverse_norms(const RowMatrix& X) { return X.rowwise().norm().cwiseInverse(); }

// SPEC §1 in long double, entry by entry with std::acos: independent of the tiled transform.
Eigen::MatrixXd reference_gram(const RowMatrix& X) {
  const Index n = X.rows();
  Eigen::MatrixXd H(n, n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) {
      long double dot = 0, ni = 0, nj = 0;
      for (Index k = 0; k < X.cols(); ++k) {
        dot += static_cast<long double>(X(i, k)) * X(j, k);
        ni += static_cast<long double>(X(i, k)) * X(i, k);
        nj += static_cast<long double>(X(j, k)) * X(j, k);
      }
      long double u = dot / std::sqrt(ni * nj);
      u = std::max(-1.0L, std::min(1.0L, u));
      const long double pi = std::acos(-1.0L);
      H(i, j) = i == j ? 0.5 : static_cast<double>(u * (pi - std::acos(u)) / (2 * pi));
    }
  }
  return H;
}

// yᵀH⁻¹y by a fresh factorization.
double complexity(const Eigen::MatrixXd& H, const Eigen::VectorXd& y) { return y.dot(H.llt().solve(y)); }

// CG_i = C(y) − C(y₋ᵢ), every leave-one-out problem solved on its own.
Eigen::VectorXd brute_force_scores(const RowMatrix& X, const Eigen::VectorXd& y) {
  const Eigen::MatrixXd H = reference_gram(X);
  const Index n = X.rows();
  const double total = complexity(H, y);
  Eigen::VectorXd scores(n);
  for (Index i = 0; i < n; ++i) {
    std::vector<Index> keep;
    for (Index j = 0; j < n; ++j)
      if (j != i) keep.push_back(j);
    Eigen::MatrixXd Hi(n - 1, n - 1);
    Eigen::VectorXd yi(n - 1);
    for (Index a = 0; a < n - 1; ++a) {
      yi[a] = y[keep[a]];
      for (Index b = 0; b < n - 1; ++b) Hi(a, b) = H(keep[a], keep[b]);
    }
    scores[i] = total - complexity(Hi, yi);
  }
  return scores;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void test_eigen_kernel_matches_brute_force() {
  for (const Index n : {1, 2, 7, 40, 150}) {
    const RowMatrix X = gaussian_rows(n, 2 * n + 8, 11 + static_cast<unsigned>(n));  // d > n: well conditioned
    const ColMatrix Y = random_signs(n, 5);
    BinaryScoreOptions options;
    options.n_threads = 2;
    const BinaryScores out = score_binary(X, inverse_norms(X), Y, options);
    const Eigen::VectorXd expected = brute_force_scores(X, Y.col(0));
    // The subtraction C − C₋ᵢ loses about cond(H)·ε relative to C: compare on that scale.
    const double scale = std::max(1.0, complexity(reference_gram(X), Y.col(0)));
    CHECK(out.scores.rows() == n);
    CHECK((out.scores.col(0) - expected).cwiseAbs().maxCoeff() <= 1e-10 * scale);
    // D_i = (H⁻¹)_ii against an explicit inverse.
    const Eigen::MatrixXd inverse = reference_gram(X).inverse();
    CHECK((out.inverse_diagonal - inverse.diagonal()).cwiseAbs().maxCoeff() <= 1e-10 * inverse.diagonal().maxCoeff());
  }
}

void test_gram_matches_reference_on_offset_data() {
  // A common offset 100× the spread: every |cos| > 0.9999, all on the near-parallel path.
  RowMatrix X = gaussian_rows(300, 64, 3);
  X.array() += 100.0;
  ColMatrix H(300, 300);
  build_ntk_gram(X, inverse_norms(X), H, 0.0, 2);
  const Eigen::MatrixXd expected = reference_gram(X);
  double worst = 0;
  for (Index j = 0; j < 300; ++j)
    for (Index i = j; i < 300; ++i) worst = std::max(worst, std::abs(H(i, j) - expected(i, j)));
  CHECK(worst <= 4e-16);
  // That took the shifted-rows path (centred_tile.hpp); centred rows do not.
  const auto naive = [](const double*, Index, const double*, Index, Index, bool) {};
  std::vector<double> out(64 * 64);
  const Tile tile{0, 0, 64, 64};
  const Vector scale = inverse_norms(X);
  PanelPool pool;
  TileScratch scratch(tile, X.cols(), pool);
  CHECK(centred_tile(feature_rows(X), scale.data(), tile, out.data(), 64, scratch, naive));
  const RowMatrix centred = gaussian_rows(300, 64, 3);
  const Vector centred_scale = inverse_norms(centred);
  CHECK(!centred_tile(feature_rows(centred), centred_scale.data(), tile, out.data(), 64, scratch, naive));
}

void test_singular_gram_is_reported_at_its_pivot() {
  RowMatrix X = gaussian_rows(200, 30, 8);
  X.row(150) = 3.0 * X.row(20);  // a positive multiple: cosine 1, H singular at row 150
  BinaryScoreOptions options;
  options.n_threads = 2;
  std::string message;
  bool right_pivot = false;
  try {
    score_binary(X, inverse_norms(X), random_signs(200, 1), options);
  } catch (const FactorizationError& e) {
    right_pivot = e.pivot_index() == 150;
    message = e.what();
  }
  CHECK(right_pivot);
  CHECK(message.find("pivot 150") != std::string::npos);
}

void test_blas_backend_refuses_without_a_library() {
  // Nothing loads a BLAS in this program: the BLAS-free path is the only one, and asking for
  // the BLAS backend says so instead of crashing.
  const RowMatrix X = gaussian_rows(10, 4, 2);
  std::string message;
  CHECK(throws<std::runtime_error>(
      [&] { score_binary_blas(X, inverse_norms(X), random_signs(10, 2), BinaryScoreOptions{}); }, &message));
  CHECK(message.find("no BLAS library is loaded") != std::string::npos);
}

void test_stop_token_set_before_the_call_cancels_it() {
  const RowMatrix X = gaussian_rows(600, 50, 4);
  StopToken stop;
  stop.request_stop();
  BinaryScoreOptions options;
  options.stop = &stop;
  for (const int threads : {1, 2}) {
    options.n_threads = threads;
    CHECK(throws<Cancelled>([&] { score_binary(X, inverse_norms(X), random_signs(600, 3), options); }));
  }
}

void test_stop_token_set_from_another_thread_ends_the_call_early() {
  const Index n = 1600;
  const RowMatrix X = gaussian_rows(n, 200, 6);
  const Vector scale = inverse_norms(X);
  const ColMatrix Y = random_signs(n, 4);
  BinaryScoreOptions options;
  options.n_threads = 2;
  auto start = std::chrono::steady_clock::now();
  score_binary(X, scale, Y, options);
  const double full = seconds_since(start);

  StopToken stop;
  options.stop = &stop;
  start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(full / 20));
    stop.request_stop();
  });
  const bool cancelled = throws<Cancelled>([&] { score_binary(X, scale, Y, options); });
  const double stopped_after = seconds_since(start);
  canceller.join();
  CHECK(cancelled);
  // Generous: the stop lands at 5 % of the run and must end it well before the full time.
  CHECK(stopped_after < 0.6 * full);
  std::printf("  full run %.3f s, cancelled at %.3f s, ended at %.3f s\n", full, full / 20, stopped_after);
}

void test_run_blocks_stops_between_blocks() {
  for (const int threads : {1, 2, 4}) {
    StopToken token;
    std::atomic<int> ran{0};
    const bool cancelled = throws<Cancelled>([&] {
      run_blocks(1000, Workers(threads, &token), [&](Index b) {
        ++ran;
        if (b == 10) token.request_stop();
      });
    });
    CHECK(cancelled);
    CHECK(ran.load() < 1000);  // the blocks after the stop are skipped
  }
}

void test_worker_exception_is_carried_out() {
  for (const int threads : {1, 2, 3}) {
    std::atomic<int> ran{0};
    std::string message;
    CHECK(throws<std::domain_error>(
        [&] {
          parallel_for(200, threads, [&](Index i) {
            ++ran;
            if (i == 37) throw std::domain_error("block 37 failed");
          });
        },
        &message));
    CHECK(message == "block 37 failed");
    CHECK(throws<std::domain_error>([&] {
      run_blocks(200, threads, [&](Index b) {
        if (b == 150) throw std::domain_error("block 150 failed");
      });
    }));
  }
  // A loop that runs on more than one thread really did, and no exception came out of it.
  std::mutex mutex;
  std::set<std::thread::id> ids;
  parallel_for(64, 2, [&](Index) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(ids.size() == 2);
}

void test_thread_counts() {
  CHECK(hardware_threads() >= 1);
  CHECK(resolve_threads(3) == 3);
  CHECK(max_threads() >= 64);
#ifdef CGSCORE_HAVE_OPENMP
  CHECK(resolve_threads(0) == omp_get_max_threads());
#else
  // Without OpenMP the std::thread runner does the work: the default is every hardware thread.
  CHECK(resolve_threads(0) == hardware_threads());
  std::mutex mutex;
  std::set<std::thread::id> ids;
  parallel_for(256, 0, [&](Index) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::lock_guard<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(static_cast<int>(ids.size()) == std::min(hardware_threads(), 256));
#endif
  std::string message;
  CHECK(throws<std::invalid_argument>([] { resolve_threads(20000); }, &message));
  CHECK(message.find("n_threads=20000") != std::string::npos);
  const RowMatrix X = gaussian_rows(20, 4, 1);
  BinaryScoreOptions options;
  options.n_threads = 20000;
  CHECK(throws<std::invalid_argument>([&] { score_binary(X, inverse_norms(X), random_signs(20, 1), options); }));
}

void test_results_do_not_depend_on_the_thread_count() {
  const RowMatrix X = gaussian_rows(700, 90, 9);
  const ColMatrix Y = random_signs(700, 9);
  BinaryScoreOptions options;
  options.n_threads = 1;
  const BinaryScores one = score_binary(X, inverse_norms(X), Y, options);
  options.n_threads = 3;
  const BinaryScores three = score_binary(X, inverse_norms(X), Y, options);
  CHECK(one.scores == three.scores);
  CHECK(one.inverse_diagonal == three.inverse_diagonal);
}

// uint8 and float32 rows are read in place and converted a panel at a time: the Gram matrix is
// the one of the same values given as float64, bit for bit, on the centred and direct paths.
void test_compact_rows_give_the_gram_of_their_float64_values() {
  const Index n = 300, d = 1500;  // d above one panel
  std::mt19937 rng(5);
  std::vector<std::uint8_t> bytes(n * d);
  std::vector<float> floats(n * d);
  std::normal_distribution<float> normal;
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng() % 256);  // non-negative: concentrated tiles
  for (auto& f : floats) f = normal(rng);                              // centred: the direct path
  const auto check = [&](const auto& values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    const FeatureRows<T> compact{values.data(), n, d, d};
    RowMatrix X(n, d);
    for (Index i = 0; i < n * d; ++i) X.data()[i] = static_cast<double>(values[i]);
    const Vector scale = inverse_norms(X);
    ColMatrix H_compact(n, n), H_double(n, n);
    build_ntk_gram(compact, scale, H_compact, 0.0, 2);
    build_ntk_gram(X, scale, H_double, 0.0, 2);
    CHECK(H_compact.triangularView<Eigen::Lower>().toDenseMatrix() ==
          H_double.triangularView<Eigen::Lower>().toDenseMatrix());
    const PreparedRows a = prepare_rows(compact, 2), b = prepare_rows(X, 2);
    CHECK(a.scale == b.scale && a.hash == b.hash);
  };
  check(bytes);
  check(floats);
}


// The depth-L ReLU NTK (relu_ntk.hpp) against its recursion in long double with std::acos,
// on rows far from parallel (|u| < 0.9, where long double's acos is accurate to ~1e-18), and
// on offset rows (centred tiles) within 4 ulp plus the slope times one rounding of u; the
// diagonal is L + 1, and the result does not depend on the thread count.
long double reference_relu_ntk(long double u, int depth) {
  const long double pi = std::acos(-1.0L);
  long double sigma = u, big = u;
  for (int h = 0; h < depth; ++h) {
    const long double t = std::acos(std::max(-1.0L, std::min(1.0L, sigma)));
    const long double next = (std::sin(t) + (pi - t) * std::cos(t)) / pi;
    big = big * (pi - t) / pi + next;
    sigma = next;
  }
  return big;
}

long double reference_cosine(const RowMatrix& X, Index i, Index j) {
  long double dot = 0, ni = 0, nj = 0;
  for (Index k = 0; k < X.cols(); ++k) {
    dot += static_cast<long double>(X(i, k)) * X(j, k);
    ni += static_cast<long double>(X(i, k)) * X(i, k);
    nj += static_cast<long double>(X(j, k)) * X(j, k);
  }
  return dot / std::sqrt(ni * nj);
}

void test_relu_ntk_matches_its_recursion() {
  for (const int depth : {1, 2, 4, 8}) {
    for (const double offset : {0.0, 20.0}) {
      RowMatrix X = gaussian_rows(200, 24, 7);
      X.array() += offset;
      const Index n = X.rows();
      ColMatrix one(n, n), two(n, n);
      build_ntk_gram(X, inverse_norms(X), one, 0.0, 1, depth);
      build_ntk_gram(X, inverse_norms(X), two, 0.0, 2, depth);
      CHECK(one.triangularView<Eigen::Lower>().toDenseMatrix() == two.triangularView<Eigen::Lower>().toDenseMatrix());
      double worst = 0;
      for (Index j = 0; j < n; ++j) {
        CHECK(one(j, j) == depth + 1.0);
        for (Index i = j + 1; i < n; ++i) {
          const long double u = reference_cosine(X, i, j);
          if (offset == 0.0 && std::fabs(static_cast<double>(u)) > 0.9) continue;
          const long double h = 1e-7L;
          const double slope = static_cast<double>(
              std::fabs(reference_relu_ntk(u + h, depth) - reference_relu_ntk(u - h, depth)) / (2 * h));
          const double ref = static_cast<double>(reference_relu_ntk(u, depth));
          const double ulp = std::nextafter(std::max(std::fabs(ref), 0.5), 1e300) - std::max(std::fabs(ref), 0.5);
          const double bound = (offset == 0.0 ? 6 * ulp : 4 * ulp + slope * 2.3e-16);
          worst = std::max(worst, std::fabs(one(i, j) - ref) / bound);
        }
      }
      CHECK(worst <= 1.0);
    }
  }
}

}  // namespace

int main() {
  const std::vector<std::pair<const char*, std::function<void()>>> tests = {
      {"eigen kernel matches brute force", test_eigen_kernel_matches_brute_force},
      {"gram matches reference on offset data", test_gram_matches_reference_on_offset_data},
      {"singular gram is reported at its pivot", test_singular_gram_is_reported_at_its_pivot},
      {"blas backend refuses without a library", test_blas_backend_refuses_without_a_library},
      {"stop token set before the call cancels it", test_stop_token_set_before_the_call_cancels_it},
      {"stop token set from another thread ends the call early", test_stop_token_set_from_another_thread_ends_the_call_early},
      {"run_blocks stops between blocks", test_run_blocks_stops_between_blocks},
      {"worker exception is carried out", test_worker_exception_is_carried_out},
      {"thread counts", test_thread_counts},
      {"results do not depend on the thread count", test_results_do_not_depend_on_the_thread_count},
      {"compact rows give the gram of their float64 values", test_compact_rows_give_the_gram_of_their_float64_values},
      {"relu ntk matches its recursion", test_relu_ntk_matches_its_recursion},
  };
  for (const auto& [name, test] : tests) {
    const int before = failures;
    try {
      test();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "unexpected exception: %s\n", e.what());
      ++failures;
    }
    std::printf("%s: %s\n", failures == before ? "ok  " : "FAIL", name);
  }
  std::printf("%s (built %s OpenMP)\n", failures ? "FAILED" : "all passed", built_with_openmp() ? "with" : "without");
  return failures ? 1 : 0;
}
