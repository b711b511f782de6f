// Kernel exceptions become the Python classes of cgscore_native.errors.
#include <pybind11/pybind11.h>

#include "bind.hpp"
#include "cgscore/errors.hpp"
#include "cgscore/stop_token.hpp"

namespace py = pybind11;

namespace cgscore {

void bind_errors(py::module_& m) {
  // A cancelled call (its StopToken was set): _core.Cancelled, a RuntimeError.
  py::register_exception<Cancelled>(m, "Cancelled", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FactorizationError& e) {
      py::object cls = py::module_::import("cgscore_native.errors").attr("SingularGramError");
      py::object instance = cls(e.what(), e.pivot_index(), e.pivot_value());
      PyErr_SetObject(cls.ptr(), instance.ptr());
    }
  });
}

}  // namespace cgscore
