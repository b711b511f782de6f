// The one pass over the raw features: row status, unit-length scale factors, duplicate hashes.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "bind_features.hpp"
#include "cgscore/row_prepare.hpp"
#include "cgscore/workers.hpp"

namespace py = pybind11;

namespace cgscore {

void bind_rows(py::module_& m) {
  m.def(
      "prepare_rows",
      [](const py::array& X, int n_threads) {
        const FeatureType type = feature_type(X);
        check_thread_count(n_threads);
        PreparedRows rows;
        {
          py::gil_scoped_release release;
          rows = with_feature_rows(X, type, [&](const auto& view) { return prepare_rows(view, n_threads); });
        }
        py::dict out;
        out["scale"] = std::move(rows.scale);
        out["hash"] = std::move(rows.hash);
        out["status"] = std::move(rows.status);
        out["in_range"] = rows.in_range;
        return out;
      },
      py::arg("X").noconvert(), py::arg("n_threads") = 0,
      "Per row of a C-contiguous float64, float32 or uint8 (n, d) X: 'status' (0 usable, 1 NaN/Inf, 2 all zeros),\n"
      "'scale' = 1/‖x_i‖, and 'hash', a 64-bit hash of rint(x_i·scale_i·2^30) for the duplicate\n"
      "check. 'in_range' is False when some row's largest magnitude is outside [2^-250, 2^250]:\n"
      "then normalize a copy first (the Gram matrix would multiply raw entries).");
  m.attr("DUPLICATE_GRID") = kDuplicateGrid;
}

}  // namespace cgscore
