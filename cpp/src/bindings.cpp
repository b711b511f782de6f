// The Python module cgscore_native._core: only calls one bind_* function per area.
#include <pybind11/pybind11.h>

#include "bind.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native kernel of cgscore_native (C++17, Eigen, OpenMP).";
  cgscore::bind_blas(m);
  cgscore::bind_build_info(m);
  cgscore::bind_errors(m);
  cgscore::bind_kernel(m);
  cgscore::bind_rows(m);
}
