#!/usr/bin/env bash
# Build the native core with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# test suite against it. Uses its own venv and build directory, so it never touches a
# development install. Any ASan/UBSan report aborts the run with a non-zero status.
#
#   scripts/sanitize.sh                 # the whole suite
#   scripts/sanitize.sh -k bruteforce   # extra arguments go to pytest
#
# SANITIZE_VENV and SANITIZE_BUILD_DIR override the locations (default under build/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${SANITIZE_VENV:-$root/build/sanitize-venv}
build=${SANITIZE_BUILD_DIR:-$root/build/sanitize}
started=$(date +%s)

python3 -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q scikit-build-core pybind11 cmeel-eigen
# Not editable: the tests must import the sanitized build from site-packages.
python -m pip install -q --no-build-isolation \
  -Ccmake.define.CGSCORE_SANITIZE=ON -Ccmake.build-type=RelWithDebInfo -Cbuild-dir="$build" ".[test]"
built=$(date +%s)

# Python itself is not built with ASan, so its runtime must be loaded first.
cxx=${CXX:-g++}
preload="$($cxx -print-file-name=libasan.so) $($cxx -print-file-name=libubsan.so)"
for lib in $preload; do
  [[ -f $lib ]] || { echo "sanitize.sh: $lib not found (install the compiler's sanitizer runtimes)" >&2; exit 2; }
done
# CPython and NumPy keep allocations alive until exit by design: leak reports are noise here.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$root/tests"  # so that `import cgscore_native` cannot pick up the source tree
LD_PRELOAD="$preload" python -m pytest -p no:cacheprovider -c "$root/pyproject.toml" --rootdir "$root" "$root/tests" "$@"
finished=$(date +%s)
echo "sanitize.sh: build $((built - started)) s, tests $((finished - built)) s, total $((finished - started)) s"
