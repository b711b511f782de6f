"""A pandas DataFrame as the input of ``diagnose``: features, labels and the row index it keeps.

``diagnose(df, label_column="y")`` (or ``diagnose(df, "y")``) takes the labels from a column,
``drop=[...]`` leaves columns out of the features, and the frame's index comes back as the index
of ``Diagnosis.to_frame()``. Non-numeric feature columns are refused by name; numeric columns
that look like row IDs are warned about (``_guards.warn_id_like``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._guards import warn_id_like


@dataclass
class SplitInput:
    """Features, labels, the input's row index (pandas, or None) and the feature names."""

    X: Any
    labels: Any
    index: Any = None
    feature_names: list[str] | None = None


def is_frame(X: Any) -> bool:
    """A pandas DataFrame (duck-typed: pandas is not imported for NumPy inputs)."""
    return hasattr(X, "columns") and hasattr(X, "index") and hasattr(X, "to_numpy")


def input_index(X: Any) -> Any:
    """The row index of a pandas DataFrame or Series input (None for any other input)."""
    return X.index if hasattr(X, "index") and hasattr(X, "to_numpy") and not callable(X.index) else None


def split_input(X: Any, labels: Any, label_column: str | None = None, drop: Sequence[str] | None = None,
                stacklevel: int = 4) -> SplitInput:
    """X and labels as ``diagnose`` reads them; for a DataFrame, the label column taken out of
    the features, ``drop`` removed and the index kept."""
    if isinstance(labels, str) and label_column is None and is_frame(X) and labels in X.columns:
        label_column, labels = labels, None  # diagnose(df, "cultivar")
    if not is_frame(X):
        if label_column is not None or drop:
            what = "label_column" if label_column is not None else "drop"
            raise TypeError(f"{what}= needs X to be a pandas DataFrame; got {type(X).__name__}. "
                            "Pass the labels as an array instead.")
        if labels is None:
            raise TypeError("diagnose needs labels: pass them as the second argument, or label_column= with a DataFrame.")
        return SplitInput(X, labels, input_index(X))
    columns = [str(c) for c in X.columns]
    frame = X
    if label_column is not None:
        if labels is not None:
            raise TypeError("pass the labels either as an array or as label_column=, not both.")
        if label_column not in X.columns:
            raise ValueError(f"no column {label_column!r} in the DataFrame (its columns: {_listed(columns)}); "
                             "pass label_column= with one of them.")
        labels = X[label_column]
        frame = frame.drop(columns=[label_column])
    if labels is None:
        raise TypeError("diagnose needs labels: pass them as the second argument, or label_column='NAME'.")
    if drop:
        missing = [c for c in drop if c not in frame.columns]
        if missing:
            raise ValueError(f"drop= names column(s) {', '.join(map(repr, missing))} that the DataFrame does not have "
                             f"(its columns: {_listed(columns)}).")
        frame = frame.drop(columns=list(drop))
    bad = [str(c) for c, kind in frame.dtypes.items() if getattr(kind, "kind", "O") not in "biuf"]
    if bad:
        raise TypeError(
            f"DataFrame column(s) {_listed(bad)} are not numeric; features must be numbers. Pass label_column='NAME' "
            "for the labels and drop=[...] for ID or text columns (the DataFrame's index is kept as the row ID)."
        )
    if frame.shape[1] == 0:
        raise ValueError("the DataFrame has no feature columns left besides the labels and the dropped ones.")
    warn_id_like(list(frame.columns), [frame[c].to_numpy() for c in frame.columns], "DataFrame ",
                 "pass drop=[...] to leave them out (the DataFrame's index is kept as the row ID).", stacklevel=stacklevel)
    return SplitInput(frame.to_numpy(), labels, X.index, [str(c) for c in frame.columns])


def _listed(names: Sequence[str], most: int = 8) -> str:
    shown = ", ".join(repr(c) for c in names[:most])
    return shown + (f", ... ({len(names)} columns)" if len(names) > most else "")
