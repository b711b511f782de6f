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
      "Load an ILP64 BLAS/LAPACK (OpenBLAS) from `path` for backend='blas', once per process\n"
      "(again with the same path: no-op; another path: ValueError). Symbols are prefix + name +\n"
      "suffix; the default fits scipy-openblas64, the OpenBLAS build NumPy and SciPy ship.");
  m.def(
      "blas_info",
      [] {
        const BlasLibrary& library = blas_library();
        py::dict info;
        info["loaded"] = library.loaded();
        info["path"] = library.path;
        info["threads"] = library.loaded() ? library.get_num_threads() : 0;
        info["config"] = library.config;
        info["corename"] = library.corename;
        info["shared"] = library.shared;
        info["per_thread_setting"] = library.set_num_threads_local != nullptr;
        return info;
      },
      "Whether a BLAS library is loaded; its path, OpenBLAS's thread count, config string and core\n"
      "name; whether the copy is shared with other code in the process (then each call sets and\n"
      "restores its thread count); whether it has openblas_set_num_threads_local.");
}

}  // namespace cgscore
