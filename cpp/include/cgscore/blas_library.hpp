// A BLAS/LAPACK reached at run time through dlopen (no link-time dependency): the
// OpenBLAS that NumPy's wheels bundle (ILP64, symbols "scipy_<name>64_"). The Python
// layer finds the library file and hands its path to load_blas().
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define CGSCORE_HAVE_DLOPEN 1
#endif

namespace cgscore {

using blas_int = std::int64_t;  // ILP64
using fortran_len = std::size_t;  // hidden character-length arguments (gfortran ABI)

struct BlasLibrary {
  using syrk_t = void (*)(const char*, const char*, const blas_int*, const blas_int*, const double*, const double*,
                          const blas_int*, const double*, double*, const blas_int*, fortran_len, fortran_len);
  using trsm_t = void (*)(const char*, const char*, const char*, const char*, const blas_int*, const blas_int*,
                          const double*, const double*, const blas_int*, double*, const blas_int*, fortran_len,
                          fortran_len, fortran_len, fortran_len);
  using trmm_t = trsm_t;  // same argument list
  using gemm_t = void (*)(const char*, const char*, const blas_int*, const blas_int*, const blas_int*, const double*,
                          const double*, const blas_int*, const double*, const blas_int*, const double*, double*,
                          const blas_int*, fortran_len, fortran_len);
  using set_threads_t = void (*)(int);
  using get_threads_t = int (*)();

  gemm_t dgemm = nullptr;
  syrk_t dsyrk = nullptr;
  trsm_t dtrsm = nullptr;
  trmm_t dtrmm = nullptr;
  set_threads_t set_num_threads = nullptr;
  get_threads_t get_num_threads = nullptr;
  std::string path;

  bool loaded() const { return dsyrk != nullptr; }
};

// The process-wide instance; set once by load_blas (under the GIL), read by the kernels.
inline BlasLibrary& blas_library() {
  static BlasLibrary library;
  return library;
}

// Resolves the routines from the shared library at `path`; symbols are prefix + name + suffix
// (NumPy's bundled OpenBLAS: "scipy_" + "dsyrk" + "_64_"; thread control: "scipy_openblas_" +
// "set_num_threads" + "64_"). Throws std::runtime_error naming what is missing.
inline void load_blas(const std::string& path, const std::string& prefix, const std::string& suffix) {
#ifdef CGSCORE_HAVE_DLOPEN
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // the already-loaded copy if NumPy has it
  if (!handle) throw std::runtime_error("cannot load BLAS library " + path + ": " + dlerror());
  auto find = [&](const std::string& name) {
    void* symbol = dlsym(handle, name.c_str());
    if (!symbol) throw std::runtime_error("BLAS library " + path + " has no symbol " + name);
    return symbol;
  };
  // Bare "64_" for thread control: OpenBLAS names it openblas_set_num_threads64_.
  const std::string thread_suffix = suffix.size() > 1 && suffix[0] == '_' ? suffix.substr(1) : suffix;
  BlasLibrary library;
  library.dgemm = reinterpret_cast<BlasLibrary::gemm_t>(find(prefix + "dgemm" + suffix));
  library.dsyrk = reinterpret_cast<BlasLibrary::syrk_t>(find(prefix + "dsyrk" + suffix));
  library.dtrsm = reinterpret_cast<BlasLibrary::trsm_t>(find(prefix + "dtrsm" + suffix));
  library.dtrmm = reinterpret_cast<BlasLibrary::trmm_t>(find(prefix + "dtrmm" + suffix));
  library.set_num_threads =
      reinterpret_cast<BlasLibrary::set_threads_t>(find(prefix + "openblas_set_num_threads" + thread_suffix));
  library.get_num_threads =
      reinterpret_cast<BlasLibrary::get_threads_t>(find(prefix + "openblas_get_num_threads" + thread_suffix));
  library.path = path;
  blas_library() = library;  // the handle stays open for the life of the process
#else
  (void)prefix;
  (void)suffix;
  throw std::runtime_error("loading a BLAS library at run time is not supported on this platform: " + path);
#endif
}

// OpenBLAS's thread count is process-global: set it for one call, restore it afterwards.
// The kernels set it to 1 and parallelize over fixed blocks themselves: OpenBLAS's own
// threaded dtrsm/dtrmm give results that depend on the thread count. Calls may overlap
// (the GIL is released), so the first to enter saves the caller's setting and the last
// to leave restores it.
class BlasThreadScope {
 public:
  BlasThreadScope(const BlasLibrary& library, int threads) : library_(library) {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (state().depth++ == 0) state().saved = library_.get_num_threads();
    library_.set_num_threads(threads);
  }
  ~BlasThreadScope() {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (--state().depth == 0) library_.set_num_threads(state().saved);
  }
  BlasThreadScope(const BlasThreadScope&) = delete;
  BlasThreadScope& operator=(const BlasThreadScope&) = delete;

 private:
  struct State {
    std::mutex mutex;
    int depth = 0;
    int saved = 1;
  };
  static State& state() {
    static State shared;
    return shared;
  }
  const BlasLibrary& library_;
};

}  // namespace cgscore
