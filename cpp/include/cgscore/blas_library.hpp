// A BLAS/LAPACK reached at run time (dlopen / LoadLibrary; no link-time dependency): the
// package's own copy of OpenBLAS, taken from the scipy-openblas64 wheel at build time and
// installed beside the extension (ILP64, symbols "scipy_<name>_64_"). The Python layer finds
// the file and hands its path to load_blas(), once per process.
//
// Thread control: the kernels call OpenBLAS single-threaded and run their own threads over
// fixed blocks. When the library file was not yet loaded in the process (our private copy,
// the normal case), its thread count is set to 1 once at load and never touched again: no
// other code uses that copy, so no process-wide setting anyone sees changes. When the file
// was already loaded by someone else (say, the user imported scipy_openblas64), the copy is
// shared: each call then sets it to 1 and restores the caller's value afterwards
// (BlasThreadScope), the only way with a library that has no per-thread setting.
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#define CGSCORE_HAVE_RUNTIME_LOAD 1
#elif defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define CGSCORE_HAVE_RUNTIME_LOAD 1
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
  // LAPACK's divide-and-conquer symmetric eigensolver (the kernel choice, SPEC §8).
  using syevd_t = void (*)(const char*, const char*, const blas_int*, double*, const blas_int*, double*, double*,
                           const blas_int*, blas_int*, const blas_int*, blas_int*, fortran_len, fortran_len);
  using set_threads_t = void (*)(int);
  using get_threads_t = int (*)();
  using set_threads_local_t = int (*)(int);
  using get_string_t = char* (*)();

  gemm_t dgemm = nullptr;
  syrk_t dsyrk = nullptr;
  trsm_t dtrsm = nullptr;
  trmm_t dtrmm = nullptr;
  syevd_t dsyevd = nullptr;  // optional: a library without LAPACK leaves it to Eigen
  set_threads_t set_num_threads = nullptr;
  get_threads_t get_num_threads = nullptr;
  set_threads_local_t set_num_threads_local = nullptr;  // OpenBLAS >= 0.3.27 OpenMP builds only
  std::string path;
  std::string config;    // openblas_get_config(): version and build options
  std::string corename;  // openblas_get_corename(): the kernel set picked for this CPU
  // True when the file was already loaded by other code: its thread count is then shared.
  bool shared = false;

  bool loaded() const { return dsyrk != nullptr; }
};

// The process-wide instance; set once by load_blas, read by the kernels.
inline BlasLibrary& blas_library() {
  static BlasLibrary library;
  return library;
}

namespace detail {

#ifdef CGSCORE_HAVE_RUNTIME_LOAD
#if defined(_WIN32)
using LibraryHandle = HMODULE;
inline LibraryHandle already_loaded(const std::string& path) {
  HMODULE handle = nullptr;
  return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, path.c_str(), &handle) ? handle : nullptr;
}
inline LibraryHandle open_library(const std::string& path) {
  // Its own folder is searched for the DLLs it depends on.
  return LoadLibraryExA(path.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
}
inline std::string last_load_error() { return "error " + std::to_string(GetLastError()); }
inline void* find_symbol(LibraryHandle handle, const std::string& name) {
  return reinterpret_cast<void*>(GetProcAddress(handle, name.c_str()));
}
#else
using LibraryHandle = void*;
inline LibraryHandle already_loaded(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle) dlclose(handle);  // drop the reference RTLD_NOLOAD took
  return handle;
}
// RTLD_LOCAL: our copy's symbols never serve other libraries' lookups.
inline LibraryHandle open_library(const std::string& path) { return dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL); }
inline std::string last_load_error() {
  const char* message = dlerror();
  return message ? message : "unknown error";
}
inline void* find_symbol(LibraryHandle handle, const std::string& name) { return dlsym(handle, name.c_str()); }
#endif
#endif

inline std::mutex& load_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace detail

// Resolves the routines from the shared library at `path`; symbols are prefix + name + suffix
// (scipy-openblas64: "scipy_" + "dsyrk" + "_64_"; its own functions: "scipy_openblas_" +
// "set_num_threads" + "64_"). Loads at most one library per process: a second call is a
// no-op when the same path is loaded and an error otherwise. Throws std::runtime_error naming
// what is missing.
inline void load_blas(const std::string& path, const std::string& prefix, const std::string& suffix) {
#ifdef CGSCORE_HAVE_RUNTIME_LOAD
  std::lock_guard<std::mutex> lock(detail::load_mutex());
  BlasLibrary& current = blas_library();
  if (current.loaded()) {
    if (current.path == path) return;
    throw std::runtime_error("a BLAS library is already loaded (" + current.path + "); cannot switch to " + path);
  }
  const bool shared = detail::already_loaded(path) != nullptr;
  detail::LibraryHandle handle = detail::open_library(path);
  if (!handle) throw std::runtime_error("cannot load BLAS library " + path + ": " + detail::last_load_error());
  auto optional = [&](const std::string& name) { return detail::find_symbol(handle, name); };
  auto find = [&](const std::string& name) {
    void* symbol = optional(name);
    if (!symbol) throw std::runtime_error("BLAS library " + path + " has no symbol " + name);
    return symbol;
  };
  // Bare "64_" for OpenBLAS's own functions: openblas_set_num_threads64_.
  const std::string own_suffix = suffix.size() > 1 && suffix[0] == '_' ? suffix.substr(1) : suffix;
  BlasLibrary library;
  library.dgemm = reinterpret_cast<BlasLibrary::gemm_t>(find(prefix + "dgemm" + suffix));
  library.dsyrk = reinterpret_cast<BlasLibrary::syrk_t>(find(prefix + "dsyrk" + suffix));
  library.dtrsm = reinterpret_cast<BlasLibrary::trsm_t>(find(prefix + "dtrsm" + suffix));
  library.dtrmm = reinterpret_cast<BlasLibrary::trmm_t>(find(prefix + "dtrmm" + suffix));
  library.dsyevd = reinterpret_cast<BlasLibrary::syevd_t>(optional(prefix + "dsyevd" + suffix));
  library.set_num_threads =
      reinterpret_cast<BlasLibrary::set_threads_t>(find(prefix + "openblas_set_num_threads" + own_suffix));
  library.get_num_threads =
      reinterpret_cast<BlasLibrary::get_threads_t>(find(prefix + "openblas_get_num_threads" + own_suffix));
  library.set_num_threads_local = reinterpret_cast<BlasLibrary::set_threads_local_t>(
      optional(prefix + "openblas_set_num_threads_local" + own_suffix));
  if (auto config = reinterpret_cast<BlasLibrary::get_string_t>(optional(prefix + "openblas_get_config" + own_suffix)))
    library.config = config();
  if (auto core = reinterpret_cast<BlasLibrary::get_string_t>(optional(prefix + "openblas_get_corename" + own_suffix)))
    library.corename = core();
  library.path = path;
  library.shared = shared;
  // A private copy runs single-threaded from now on; nothing else reads its setting.
  if (!shared) library.set_num_threads(1);
  current = library;  // the handle stays open for the life of the process
#else
  (void)prefix;
  (void)suffix;
  throw std::runtime_error("loading a BLAS library at run time is not supported on this platform: " + path);
#endif
}

// One call's thread setting of OpenBLAS. A private copy (the normal case) is already
// single-threaded: nothing to do. A copy shared with other code has a process-wide thread
// count: it is set for the call and restored afterwards. The kernels set it to 1 and
// parallelize over fixed blocks themselves: OpenBLAS's own threaded dtrsm/dtrmm give results
// that depend on the thread count. Calls may overlap (the GIL is released), so the first to
// enter saves the caller's setting and the last to leave restores it.
class BlasThreadScope {
 public:
  BlasThreadScope(const BlasLibrary& library, int threads) : library_(library), active_(library.shared) {
    if (!active_) return;
    std::lock_guard<std::mutex> lock(state().mutex);
    if (state().depth++ == 0) state().saved = library_.get_num_threads();
    library_.set_num_threads(threads);
  }
  ~BlasThreadScope() {
    if (!active_) return;
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
  const bool active_;
};

}  // namespace cgscore
