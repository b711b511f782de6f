// The binary-problem kernel and the NTK Gram builder, GIL released while they run.
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "cgscore/binary_score.hpp"
#include "cgscore/blas_library.hpp"
#include "cgscore/blas_score.hpp"
#include "cgscore/ntk_gram.hpp"

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

}  // namespace

void bind_kernel(py::module_& m) {
  m.def(
      "score_binary",
      [](const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const ColMatrix>& Y, double ridge,
         double pivot_tolerance, bool subterms, int n_threads, const std::string& backend, const py::object& row_scale,
         Index first_scored, bool condition_estimate) {
        if (Y.rows() != X.rows()) throw py::value_error("Y must have one row per row of X");
        const Vector scale = row_scale_or_ones(row_scale, X.rows());
        const bool blas = use_blas(backend);
        BinaryScoreOptions options;
        options.ridge = ridge;
        options.pivot_tolerance = pivot_tolerance;
        options.subterms = subterms;
        options.n_threads = n_threads;
        options.first_scored = first_scored;  // checked by the pipeline (std::invalid_argument → ValueError)
        options.condition_estimate = condition_estimate;
        BinaryScores result;
        {
          py::gil_scoped_release release;
          result = blas ? score_binary_blas(X, scale, Y, options) : score_binary(X, scale, Y, options);
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
      py::arg("first_scored") = 0, py::arg("condition_estimate") = true,
      "Exact CG-scores of one binary problem. X: C-contiguous float64 (n, d); row_scale: 1/‖x_i‖\n"
      "(see prepare_rows), or None when the rows already have unit norm;\n"
      "Y: Fortran-ordered float64 (n, k) label columns. backend: 'auto' (BLAS when loaded), 'blas'\n"
      "or 'eigen'. first_scored: rows before it are not scored (their part of L⁻¹ is never formed).\n"
      "Returns a dict: scores, inverse_diagonal, alpha = H⁻¹Y (and a2, b2, ab) of rows first_scored..n-1,\n"
      "the pivot report, condition_estimate (of cond₁(H), LAPACK dpocon's method; +inf when\n"
      "condition_estimate=False skips it), the backend used and the\n"
      "seconds spent in each step.");

  m.def(
      "ntk_gram",
      [](const Eigen::Ref<const RowMatrix>& X, double ridge, int n_threads, const std::string& backend,
         const py::object& row_scale) {
        const bool blas = use_blas(backend);
        const Vector scale = row_scale_or_ones(row_scale, X.rows());
        ColMatrix H(X.rows(), X.rows());
        {
          py::gil_scoped_release release;
          if (blas) {
            const BlasThreadScope single(blas_library(), 1);
            build_ntk_gram_blas(blas_library(), X, scale, H, ridge, n_threads);
          } else {
            build_ntk_gram(X, scale, H, ridge, n_threads);
          }
          H.triangularView<Eigen::StrictlyUpper>() = H.transpose();
        }
        return H;
      },
      py::arg("X").noconvert(), py::arg("ridge") = 0.0, py::arg("n_threads") = 0, py::arg("backend") = "auto",
      py::arg("row_scale") = py::none(),
      "The full symmetric NTK Gram matrix of the rows x_i·row_scale_i (unit rows when row_scale is None),\n"
      "for inspection and tests.");
}

}  // namespace cgscore
