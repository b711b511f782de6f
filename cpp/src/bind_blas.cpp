// Run-time BLAS: load a library by path, and report which one is in use.
#include <string>

#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "cgscore/blas_library.hpp"

namespace py = pybind11;

namespace cgscore {

void bind_blas(py::module_& m) {
  m.def(
      "load_blas",
      [](const std::string& path, const std::string& prefix, const std::string& suffix) {
        try {
          load_blas(path, prefix, suffix);
        } catch (const std::runtime_error& error) {
          throw py::value_error(error.what());
        }
      },
      py::arg("path"), py::arg("prefix") = "scipy_", py::arg("suffix") = "_64_",
      "Load an ILP64 BLAS/LAPACK (OpenBLAS) from `path` for backend='blas'. Symbols are\n"
      "prefix + name + suffix; the default fits the OpenBLAS bundled in NumPy's wheels.");
  m.def(
      "blas_info",
      [] {
        const BlasLibrary& library = blas_library();
        py::dict info;
        info["loaded"] = library.loaded();
        info["path"] = library.path;
        info["threads"] = library.loaded() ? library.get_num_threads() : 0;
        return info;
      },
      "Whether a BLAS library is loaded, its path and OpenBLAS's current thread count.");
}

}  // namespace cgscore
