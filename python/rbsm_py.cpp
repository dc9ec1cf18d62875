// The Python module `rbsm` (docs/python.md): the library's geometry, densities, RB targets and Langevin
// sampling, vectorised over numpy batches (rows looped in C++ with the GIL released), and rbsm.fit
// (python/fit_py.cpp, with LibTorch). Every computation is a library call; this file converts arrays,
// checks shapes and maps errors: InvalidArgument -> ValueError (GeometryError -> rbsm.GeometryError, a
// ValueError), IoError -> OSError, NumericalError and other rbsm errors -> RuntimeError.
#include "bindings.hpp"

namespace rbsm::py {
namespace {

void register_errors(pb::module_& m) {
  static pb::exception<GeometryError> geometry_error(m, "GeometryError", PyExc_ValueError);
  pb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GeometryError& e) {
      PyErr_SetString(geometry_error.ptr(), e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const rbsm::Error& e) {  // NumericalError and any other rbsm error
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace
}  // namespace rbsm::py

PYBIND11_MODULE(rbsm, m) {
  using namespace rbsm::py;
  m.doc() =
      "rbsm: Rao-Blackwellized score matching on manifolds (docs/python.md).\n\n"
      "Vectorised over numpy batches: points are (N, D) float64 arrays (float32 and integer arrays are\n"
      "converted, non-contiguous ones copied; a single (D,) point gives unbatched results). Rows are looped\n"
      "in C++ on `threads` threads (0: all cores) with the GIL released. Errors: ValueError for invalid\n"
      "arguments (rbsm.GeometryError, a ValueError, for points without a unique nearest point), OSError\n"
      "for files, RuntimeError for numerical failures.";
  m.attr("__version__") = "0.1.0";
  register_errors(m);

  bind_geometry(m);
  bind_density(m);
  bind_langevin(m);
#ifdef RBSM_WITH_TORCH
  bind_fit(m);
  bind_torchscript(m);
#endif
}
