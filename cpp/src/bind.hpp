// Declarations of the per-area binding functions.
#pragma once

#include <pybind11/pybind11.h>

namespace cgscore {
void bind_blas(pybind11::module_& m);
void bind_build_info(pybind11::module_& m);
void bind_errors(pybind11::module_& m);
void bind_kernel(pybind11::module_& m);
void bind_rows(pybind11::module_& m);
}  // namespace cgscore
