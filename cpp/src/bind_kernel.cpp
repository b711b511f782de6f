// The binary-problem kernel and the NTK Gram builder, GIL released while they run.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "cgscore/binary_score.hpp"
#include "cgscore/ntk_gram.hpp"

namespace py = pybind11;

namespace cgscore {

void bind_kernel(py::module_& m) {
  m.def(
      "score_binary",
      [](const Eigen::Ref<const RowMatrix>& X, const Eigen::Ref<const ColMatrix>& Y, double ridge,
         double pivot_tolerance, bool subterms, int n_threads) {
        if (Y.rows() != X.rows()) throw py::value_error("Y must have one row per row of X");
        BinaryScoreOptions options;
        options.ridge = ridge;
        options.pivot_tolerance = pivot_tolerance;
        options.subterms = subterms;
        options.n_threads = n_threads;
        BinaryScores result;
        {
          py::gil_scoped_release release;
          result = score_binary(X, Y, options);
        }
        py::dict out;
        out["scores"] = std::move(result.scores);
        out["inverse_diagonal"] = std::move(result.inverse_diagonal);
        out["min_pivot"] = result.min_pivot;
        out["min_pivot_index"] = result.min_pivot_index;
        out["condition_bound"] = result.condition_bound;
        if (subterms) {
          out["a2"] = std::move(result.a2);
          out["b2"] = std::move(result.b2);
          out["ab"] = std::move(result.ab);
        }
        return out;
      },
      py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("ridge") = 0.0,
      py::arg("pivot_tolerance") = -1.0, py::arg("subterms") = false, py::arg("n_threads") = 0,
      "Exact CG-scores of one binary problem. X: C-contiguous float64 (n, d) with unit-norm rows;\n"
      "Y: Fortran-ordered float64 (n, k) label columns. Returns a dict of arrays and the pivot report.");

  m.def(
      "ntk_gram",
      [](const Eigen::Ref<const RowMatrix>& X, double ridge, int n_threads) {
        ColMatrix H(X.rows(), X.rows());
        {
          py::gil_scoped_release release;
          build_ntk_gram(X, H, ridge, n_threads);
          H.triangularView<Eigen::StrictlyUpper>() = H.transpose();
        }
        return H;
      },
      py::arg("X").noconvert(), py::arg("ridge") = 0.0, py::arg("n_threads") = 0,
      "The full symmetric NTK Gram matrix of unit-norm rows (for inspection and tests).");
}

}  // namespace cgscore
