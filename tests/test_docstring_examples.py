"""The examples in the public functions' docstrings run and print what they show (doctest)."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytest.importorskip("pandas")  # the examples show to_frame() and label_issues()

MODULES = [
    "cgscore_native.api",
    "cgscore_native.diagnosis",
    "cgscore_native.diagnosis_result",
    "cgscore_native.app.prune",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    outcome = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0, f"{name} has no docstring example"
    assert outcome.failed == 0, f"{outcome.failed} docstring example(s) of {name} failed (see the output above)"


def test_every_main_function_has_an_example():
    from cgscore_native import Diagnosis, cg_score, cg_score_binary, diagnose, score
    from cgscore_native.app.prune import keep_count, keep_indices

    for fn in (score, cg_score, cg_score_binary, diagnose, Diagnosis.to_frame, Diagnosis.label_issues,
               keep_count, keep_indices):
        assert ">>>" in (fn.__doc__ or ""), f"{fn.__qualname__} has no example"
