// What the extension was built with: OpenMP, Eigen, SIMD.
#include <Eigen/Core>
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "cgscore/parallel.hpp"

namespace py = pybind11;

namespace cgscore {

void bind_build_info(py::module_& m) {
  m.def(
      "build_info",
      [] {
        py::dict info;
        info["openmp"] = built_with_openmp();
        info["default_threads"] = resolve_threads(0);
        info["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                                "." + std::to_string(EIGEN_MINOR_VERSION);
        info["simd"] = std::string(Eigen::SimdInstructionSetsInUse());
        return info;
      },
      "Facts about the compiled core: whether OpenMP is on, the default thread count, Eigen's version and SIMD.");
}

}  // namespace cgscore
