"""The BLAS backend's library: the package's own OpenBLAS, never NumPy's.

The fast path must not depend on NumPy's build, and a call must never change a setting
other code in the process sees (NumPy's BLAS thread count above all). When the library is
missing the Eigen backend serves, with exactly one warning per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import cgscore_native
from cgscore_native import _core
from cgscore_native._blas import ensure_blas

threadpoolctl = pytest.importorskip("threadpoolctl")


def numpy_blas_controllers() -> list:
    """threadpoolctl's controllers of the BLAS libraries that NumPy's wheel bundles."""
    numpy_dir = os.path.dirname(os.path.abspath(np.__file__))
    folders = (os.path.realpath(numpy_dir + ".libs") + os.sep, os.path.realpath(numpy_dir) + os.sep)
    return [
        controller
        for controller in threadpoolctl.ThreadpoolController().lib_controllers
        if controller.user_api == "blas" and os.path.realpath(controller.filepath).startswith(folders)
    ]


@pytest.fixture
def blas() -> dict:
    if not ensure_blas():
        pytest.skip("the package was built without its OpenBLAS")
    return dict(_core.blas_info())


def test_build_info_names_the_packages_own_openblas(blas):
    info = cgscore_native.build_info()
    assert info["backend"] == "blas"
    assert info["blas"]["path"] == blas["path"]
    assert info["blas"]["config"].startswith("OpenBLAS ")
    assert "USE64BITINT" in info["blas"]["config"]
    assert info["blas"]["corename"]
    # A file of its own: the package's folder, or scipy_openblas64's, never numpy.libs.
    path = os.path.realpath(blas["path"])
    assert "numpy.libs" not in path and os.sep + "numpy" + os.sep not in path
    assert all(os.path.realpath(c.filepath) != path for c in numpy_blas_controllers())
    assert not info["blas"]["shared_with_other_code"]


def test_loading_twice_is_a_no_op_and_another_library_is_refused(blas, tmp_path):
    _core.load_blas(blas["path"])
    assert _core.blas_info()["path"] == blas["path"]
    other = tmp_path / "libother.so"
    other.write_bytes(b"")
    with pytest.raises(ValueError, match="already loaded"):
        _core.load_blas(str(other))
    results = []
    threads = [threading.Thread(target=lambda: results.append(ensure_blas())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4


def test_numpy_blas_threads_unchanged_while_a_call_runs(blas, rng):
    """A second thread reads NumPy's OpenBLAS thread count throughout a long kernel call:
    it must stay what NumPy had (the package once set it to 1 for the call's duration)."""
    controllers = numpy_blas_controllers()
    if not controllers:
        pytest.skip("this NumPy has no OpenBLAS of its own to observe")
    numpy_blas = controllers[0]
    before = numpy_blas.num_threads
    numpy_blas.set_num_threads(3)  # a value the package never sets
    try:
        n, d = 2500, 400
        X = rng.normal(size=(n, d))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        Y = np.asfortranarray(np.where(rng.random(n) < 0.5, 1.0, -1.0).reshape(n, 1))
        errors = []

        def call():
            try:
                for _ in range(3):
                    _core.score_binary(X, Y, 0.0, -1.0, False, 2, backend="blas")
            except BaseException as exc:  # reported on the main thread
                errors.append(exc)

        worker = threading.Thread(target=call)
        seen = []
        worker.start()
        while worker.is_alive():
            seen.append(numpy_blas.num_threads)
            worker.join(0.002)
        assert not errors, errors
        assert len(seen) >= 5, "the call ended before it could be observed"
        assert set(seen) == {3}, f"NumPy's BLAS thread count changed during the call: {sorted(set(seen))}"
    finally:
        numpy_blas.set_num_threads(before)
    assert numpy_blas.num_threads == before


FALLBACK_SCRIPT = textwrap.dedent(
    """
    import warnings
    import numpy as np
    import cgscore_native
    from cgscore_native import _blas

    _blas.candidate_libraries = lambda: []  # as in a build without the package's OpenBLAS
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    y = np.where(np.arange(40) % 2 == 0, 1.0, -1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = cgscore_native.cg_score_binary(X, y)
        second = cgscore_native.cg_score_binary(X, y)
    kinds = [w.category.__name__ for w in caught]
    assert kinds == ["BlasFallbackWarning"], kinds
    assert issubclass(cgscore_native.BlasFallbackWarning, UserWarning)
    assert "Eigen backend" in str(caught[0].message)
    assert np.array_equal(first, second)
    info = cgscore_native.build_info()
    assert info["backend"] == "eigen" and info["blas"] is None, info
    print("ok")
    """
)


def test_without_the_library_eigen_serves_with_one_warning():
    done = subprocess.run([sys.executable, "-c", FALLBACK_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


SHARED_SCRIPT = textwrap.dedent(
    """
    import ctypes, os
    import numpy as np
    import scipy_openblas64  # loads its library for everyone (RTLD_GLOBAL)
    from cgscore_native import _core

    path = os.path.join(scipy_openblas64.get_lib_dir(), scipy_openblas64.get_library(fullname=True))
    library = ctypes.CDLL(path)
    library.scipy_openblas_set_num_threads64_(3)
    _core.load_blas(path)
    info = _core.blas_info()
    assert info["shared"] and info["threads"] == 3, info
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 30))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.asfortranarray(np.where(np.arange(600) % 2 == 0, 1.0, -1.0).reshape(600, 1))
    _core.score_binary(X, Y, 0.0, -1.0, False, 2, backend="blas")
    assert library.scipy_openblas_get_num_threads64_() == 3
    print("ok")
    """
)


def test_a_copy_shared_with_other_code_gets_its_thread_count_back():
    """When the library file was already loaded by other code, the call's setting is undone."""
    pytest.importorskip("scipy_openblas64")
    done = subprocess.run([sys.executable, "-c", SHARED_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
