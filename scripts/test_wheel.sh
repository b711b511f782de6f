#!/usr/bin/env bash
# Install a built (repaired) wheel into a new virtual environment where no compiler can run,
# and run the test suite against the installed package, not the source tree.
#
#   scripts/test_wheel.sh [WHEEL] [-- PYTEST ARGS...]
#
# WHEEL defaults to the newest dist/repaired/*.whl (from `pip wheel . -w dist/ --no-deps` and
# `auditwheel repair -w dist/repaired dist/*.whl`). Every dependency is installed as a binary
# (--only-binary=:all:); gcc, g++, cc, c++, clang, cmake, make and ninja are shadowed on PATH
# by stubs that fail, and CC/CXX point at /bin/false, so any attempt to compile fails the run.
# The tests are copied to a temporary folder with the project's pytest settings.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WHEEL=""
if [[ $# -gt 0 && "$1" != "--" ]]; then WHEEL="$1"; shift; fi
if [[ "${1:-}" == "--" ]]; then shift; fi
if [[ -z "$WHEEL" ]]; then
  WHEEL="$(ls -t "$ROOT"/dist/repaired/*.whl 2>/dev/null | head -n 1 || true)"
fi
if [[ -z "$WHEEL" || ! -f "$WHEEL" ]]; then
  echo "test_wheel.sh: no wheel given and none in dist/repaired/ (build and repair one first)" >&2
  exit 2
fi
WHEEL="$(cd "$(dirname "$WHEEL")" && pwd)/$(basename "$WHEEL")"
PYTHON="${PYTHON:-python3}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Stubs that make every compiler and build tool fail loudly.
mkdir -p "$WORK/no-compiler"
for tool in gcc g++ cc c++ clang clang++ cmake make ninja ld; do
  printf '#!/bin/sh\necho "test_wheel.sh: %s is hidden: the wheel must install without it" >&2\nexit 1\n' "$tool" \
    > "$WORK/no-compiler/$tool"
  chmod +x "$WORK/no-compiler/$tool"
done

"$PYTHON" -m venv "$WORK/venv"
export PATH="$WORK/venv/bin:$WORK/no-compiler:$PATH"
export CC=/bin/false CXX=/bin/false
unset PYTHONPATH
if g++ --version >/dev/null 2>&1 || cc --version >/dev/null 2>&1; then
  echo "test_wheel.sh: a compiler is still reachable" >&2
  exit 1
fi

python -m pip install -q --upgrade pip
python -m pip install -q --only-binary=:all: "${WHEEL}[test]"

# The package must come from the new environment, with its own OpenBLAS.
cd "$WORK"
python - <<'EOF'
import os, sys, cgscore_native
location = os.path.dirname(cgscore_native.__file__)
assert location.startswith(sys.prefix), f"imported from {location}, not the new environment"
info = cgscore_native.build_info()
print("installed at", location)
print("build_info:", info)
assert info["backend"] == "blas", "the wheel's OpenBLAS was not loaded"
assert info["blas"]["path"].startswith(location), info["blas"]["path"]
EOF

mkdir -p "$WORK/suite"
cp -r "$ROOT/tests" "$WORK/suite/tests"
# The project's pytest settings ([tool.pytest.ini_options]); the source tree is not copied.
cp "$ROOT/pyproject.toml" "$WORK/suite/pyproject.toml"
cd "$WORK/suite"
# test_first_contact.py checks the checkout's README and CI script, not the package: it stays home.
python -m pytest tests -p no:cacheprovider --ignore=tests/test_first_contact.py "$@"
