// The binary-problem kernel and the NTK Gram builder, GIL released while they run, and the
// StopToken that cancels them.
#include <memory>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "bind_features.hpp"
#include "cgscore/eigen_backend.hpp"
#include "cgscore/blas_library.hpp"
#include "cgscore/blas_backend.hpp"
#include "cgscore/eigen_gram.hpp"
#include "cgscore/relu_ntk.hpp"
#include "cgscore/stop_token.hpp"
#include "cgscore/symmetric_eigen.hpp"
#include "cgscore/workers.hpp"

namespace py = pybind11;

namespace cgscore {

namespace {

// "auto" means the BLAS backend when a library is loaded, else Eigen.
bool use_blas(const std::string& backend) {
  if (backend == "blas") {
    if (!blas_library().loaded())
      throw py::value_error("backend='blas' needs a BLAS library: none is loaded (see cgscore_native._core.blas_info())");
    return true;
  }
  if (backend == "eigen") return false;
  if (backend == "auto") return blas_library().loaded();
  throw py::value_error("backend must be 'auto', 'blas' or 'eigen', not '" + backend + "'");
}

// The rows' unit-length factors: given, or ones when X's rows are already of unit length.
Vector row_scale_or_ones(const py::object& row_scale, Index n) {
  if (row_scale.is_none()) return Vector::Ones(n);
  Vector scale = row_scale.cast<Vector>();
  if (scale.size() != n) throw py::value_error("row_scale must have one entry per row of X");
  return scale;
}

// The tokens entered (`with token:`) on this thread, innermost last: a kernel call made
// without stop= polls the innermost one. Lets a runner thread make every call it runs
// cancellable without passing the token through the Python layers in between.
std::vector<std::shared_ptr<StopToken>>& entered_tokens() {
  thread_local std::vector<std::shared_ptr<StopToken>> tokens;
  return tokens;
}

// The token a call polls: stop= when given, else the innermost entered one, else none.
std::shared_ptr<StopToken> call_token(const py::object& stop) {
  if (!stop.is_none()) return stop.cast<std::shared_ptr<StopToken>>();
  const auto& tokens = entered_tokens();
  return tokens.empty() ? nullptr : tokens.back();
}

}  // namespace

void bind_kernel(py::module_& m) {
  py::class_<StopToken, std::shared_ptr<StopToken>>(
      m, "StopToken",
      "Cancels kernel calls from any thread: request_stop() makes a call that polls this token end\n"
      "within about one block by raising Cancelled, after its threads are joined. A call polls the\n"
      "token passed as stop=, else the one entered with `with token:` on the calling thread.")
      .def(py::init<>())
      .def("request_stop", &StopToken::request_stop, "Ask every call polling this token to stop (thread-safe).")
      .def_property_readonly("stop_requested", &StopToken::stop_requested)
      .def("__enter__",
           [](std::shared_ptr<StopToken> self) {
             entered_tokens().push_back(self);
             return self;
           })
      .def("__exit__", [](const std::shared_ptr<StopToken>& self, const py::args&) {
        auto& tokens = entered_tokens();
        if (tokens.empty() || tokens.back() != self)
          throw std::logic_error("StopToken contexts must be exited in reverse order of entering, on the same thread");
        tokens.pop_back();
        return false;
      });

  m.def(
      "score_binary",
      [](const py::array& X, const Eigen::Ref<const ColMatrix>& Y, double ridge, double pivot_tolerance,
         bool subterms, int n_threads, const std::string& backend, const py::object& row_scale, Index first_scored,
         const py::object& stop, bool condition_estimate, int kernel_depth) {
        const FeatureType type = feature_type(X);
        const Index n = X.shape(0);
        if (Y.rows() != n) throw py::value_error("Y must have one row per row of X");
        check_thread_count(n_threads);
        check_kernel_depth(kernel_depth);
        const std::shared_ptr<StopToken> token = call_token(stop);
        const Vector scale = row_scale_or_ones(row_scale, n);
        const bool blas = use_blas(backend);
        BinaryScoreOptions options;
        options.ridge = ridge;
        options.pivot_tolerance = pivot_tolerance;
        options.subterms = subterms;
        options.n_threads = n_threads;
        options.first_scored = first_scored;  // checked by the pipeline (std::invalid_argument → ValueError)
        options.stop = token.get();
        options.condition_estimate = condition_estimate;
        options.kernel_depth = kernel_depth;
        BinaryScores result;
        {
          py::gil_scoped_release release;
          result = with_feature_rows(X, type, [&](const auto& rows) {
            return blas ? score_binary_blas(rows, scale, Y, options) : score_binary(rows, scale, Y, options);
          });
        }
        py::dict out;
        out["scores"] = std::move(result.scores);
        out["inverse_diagonal"] = std::move(result.inverse_diagonal);
        out["alpha"] = std::move(result.alpha);
        out["min_pivot"] = result.min_pivot;
        out["min_pivot_index"] = result.min_pivot_index;
        out["condition_estimate"] = result.condition_estimate;
        out["backend"] = blas ? "blas" : "eigen";
        py::dict seconds;
        seconds["gram"] = result.seconds.gram;
        seconds["factor"] = result.seconds.factor;
        seconds["solve"] = result.seconds.solve;
        seconds["condition"] = result.seconds.condition;
        seconds["inverse"] = result.seconds.inverse;
        seconds["finish"] = result.seconds.finish;
        out["seconds"] = seconds;
        if (subterms) {
          out["a2"] = std::move(result.a2);
          out["b2"] = std::move(result.b2);
          out["ab"] = std::move(result.ab);
        }
        return out;
      },
      py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("ridge") = 0.0,
      py::arg("pivot_tolerance") = -1.0, py::arg("subterms") = false, py::arg("n_threads") = 0,
      py::arg("backend") = "auto", py::arg("row_scale") = py::none(),
      py::arg("first_scored") = 0, py::arg("stop") = py::none(), py::arg("condition_estimate") = true,
      py::arg("kernel_depth") = 0,
      "Exact CG-scores of one binary problem. X: C-contiguous float64, float32 or uint8 (n, d), read in\n"
      "place (converted to float64 a panel at a time); row_scale: 1/‖x_i‖\n"
      "(see prepare_rows), or None when the rows already have unit norm;\n"
      "Y: Fortran-ordered float64 (n, k) label columns. backend: 'auto' (BLAS when loaded), 'blas'\n"
      "or 'eigen'. first_scored: rows before it are not scored (their part of L⁻¹ is never formed).\n"
      "Returns a dict: scores, inverse_diagonal (and a2, b2, ab) of rows first_scored..n-1, alpha = H⁻¹Y of\n"
      "every row, the pivot report, condition_estimate (of cond₁(H), LAPACK dpocon's method; +inf when\n"
      "condition_estimate=False skips it), the backend used and the seconds spent in each step.\n"
      "stop: a StopToken (default: the one entered on this thread, if any); once it is set the call\n"
      "raises Cancelled. n_threads above the machine's limit is a ValueError.\n"
      "kernel_depth: 0 (default) the paper's kernel u(π − arccos u)/(2π); L in 1 ... 64 the ReLU NTK of\n"
      "an L-hidden-layer network (SPEC §8), whose diagonal is L + 1.");

  m.def(
      "ntk_gram",
      [](const py::array& X, double ridge, int n_threads, const std::string& backend, const py::object& row_scale,
         const py::object& stop, int kernel_depth) {
        const FeatureType type = feature_type(X);
        const Index n = X.shape(0);
        const bool blas = use_blas(backend);
        check_thread_count(n_threads);
        check_kernel_depth(kernel_depth);
        const std::shared_ptr<StopToken> token = call_token(stop);
        const Workers workers(n_threads, token.get());
        const Vector scale = row_scale_or_ones(row_scale, n);
        ColMatrix H(n, n);
        {
          py::gil_scoped_release release;
          with_feature_rows(X, type, [&](const auto& rows) {
            if (blas) {
              const BlasThreadScope single(blas_library(), 1);
              return build_ntk_gram_blas(blas_library(), rows, scale, H, ridge, workers, kernel_depth);
            }
            return build_ntk_gram(rows, scale, H, ridge, workers, kernel_depth);
          });
          H.triangularView<Eigen::StrictlyUpper>() = H.transpose();
        }
        return H;
      },
      py::arg("X").noconvert(), py::arg("ridge") = 0.0, py::arg("n_threads") = 0, py::arg("backend") = "auto",
      py::arg("row_scale") = py::none(), py::arg("stop") = py::none(), py::arg("kernel_depth") = 0,
      "The full symmetric NTK Gram matrix of the rows x_i·row_scale_i (unit rows when row_scale is None;\n"
      "X float64, float32 or uint8, C-contiguous), for the kernel choice, inspection and tests.\n"
      "kernel_depth: 0 the paper's kernel, L ≥ 1 the depth-L ReLU NTK (as in score_binary).");

  m.def(
      "symmetric_eigen",
      [](ColMatrix A) {
        Vector w;
        {
          py::gil_scoped_release release;
          w = symmetric_eigen_in_place(A);
        }
        return py::make_tuple(std::move(w), std::move(A));
      },
      py::arg("A"),
      "(s, V) with A = V diag(s) Vᵀ, s ascending, for a symmetric float64 A (its lower triangle is read):\n"
      "LAPACK dsyevd on the package's OpenBLAS, single-threaded (else Eigen), so the result does not\n"
      "depend on any thread setting.");
}

}  // namespace cgscore
