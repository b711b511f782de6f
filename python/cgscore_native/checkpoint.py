"""Resumable runs: every finished problem's scores on disk, atomically, under a fingerprint.

A checkpoint is a directory:

    manifest.json          what the run is (fingerprint fields) and its seed entropy
    r{R}-c{C}-k{K}.npz     one finished problem (repeat R, class C, chunk K)
    {task}.npz             or, for a label diagnosis, one finished fit (``diagnose``)

Each file is written to a temporary file and moved into place (``_atomic.atomic_file``), so a
problem's file is either complete or absent, whenever the run is stopped. Nothing is
pickled: arrays go through ``np.savez``/``np.load(allow_pickle=False)`` and the manifest is
JSON. A rerun compares its own fingerprint with the manifest and refuses a checkpoint of
other data or other arguments, naming what differs; problem files without a manifest are
refused too (nothing says which run wrote them).

An open checkpoint holds an exclusive lock on ``.lock`` (``fcntl.flock``), so a second live run on
the same directory, in this process or another, is refused; the operating system releases the
lock when its process dies, so a killed run never blocks the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import TEMPORARY_GLOB, atomic_file, atomic_write
from ._kernel import SUBTERMS, ProblemOutcome
from ._plan import Problem, resolve_seed
from ._prepare import UnitRows
from ._version import __version__
from .errors import CheckpointInUseError, CheckpointMismatchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["Checkpoint", "CheckpointMismatchError", "TaskArrays", "fingerprint", "run_entropy", "stored_entropy"]

FORMAT = 2
MANIFEST = "manifest.json"
LOCK = ".lock"
STORED_GLOB = "*.npz"  # a finished task of any kind: r{R}-c{C}-k{K}.npz (score), {task}.npz (diagnose)


def digest(*arrays: np.ndarray) -> str:
    """A hex digest of the arrays' shapes, dtypes and bytes."""
    return digest_all(arrays)


def digest_all(arrays: Iterable[np.ndarray]) -> str:
    """``digest`` of arrays taken one at a time from an iterable (e.g. blocks made on the fly)."""
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data.cast("B"))
    return h.hexdigest()


def labels_digest(codes: np.ndarray, classes: np.ndarray) -> str:
    """The class of every row and the label values, type included ('1' and 1 differ)."""
    names = "\x00".join(f"{type(v).__name__}:{v!r}" for v in classes.tolist())
    return digest(codes.astype(np.int64), np.frombuffer(names.encode(), dtype=np.uint8))


def fingerprint(
    data: UnitRows, codes: np.ndarray, classes: np.ndarray, params: dict[str, Any], entropy: int, subterms: bool
) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the data, the labels, every argument that
    changes a score, the seed entropy and the package version."""
    return {
        "data": digest_all(data.normalized_blocks()),  # a row scaled by 2^k normalizes to the same bits
        "labels": labels_digest(codes, classes),
        **params,
        "seed_entropy": int(entropy),
        "subterms": bool(subterms),
        "version": __version__,
    }


def stored_entropy(path: str | os.PathLike) -> int | None:
    """The seed entropy recorded by an existing checkpoint, or None when there is none yet."""
    manifest = Path(path) / MANIFEST
    if not manifest.exists():
        return None
    return int(_read_manifest(manifest)["fields"]["seed_entropy"])


def run_entropy(seed: int | None, checkpoint: str | os.PathLike | None) -> int:
    """The seed entropy; with seed=None, a checkpoint's recorded entropy wins over fresh entropy."""
    if seed is None and checkpoint is not None:
        stored = stored_entropy(checkpoint)
        if stored is not None:
            return stored
    return resolve_seed(seed)


class Checkpoint:
    """A checkpoint directory opened for one run: load finished problems, save new ones."""

    def __init__(self, path: str | os.PathLike, fields: dict[str, Any]):
        """Open (or create) the checkpoint at path for the run described by fields.

        Raises CheckpointMismatchError if the directory holds another run's checkpoint.
        """
        self.path = Path(path)
        self.fields = {key: _jsonable(value) for key, value in fields.items()}
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} exists and is not a directory. Pass a directory path.")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(self.path / LOCK)
        try:
            manifest = self.path / MANIFEST
            if manifest.exists():
                self._check_same_run(_read_manifest(manifest))
            else:
                # Every kind of stored work (score problems, diagnosis fits, ...) is a .npz file.
                orphans = sorted(f.name for f in self.path.glob(STORED_GLOB))
                if orphans:
                    raise CheckpointMismatchError(
                        f"checkpoint {str(self.path)!r} holds stored work ({', '.join(orphans[:3])}"
                        f"{', ...' if len(orphans) > 3 else ''}) but no manifest.json, so nothing says which run "
                        "wrote them. Delete them or choose another path."
                    )
                atomic_write(manifest, json.dumps({"format": FORMAT, "fields": self.fields}, indent=2).encode())
            self._drop_temporaries()  # under the lock: they are a dead run's
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the directory's lock (the files stay); safe to call twice."""
        if getattr(self, "_lock", None) is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def load(self, problem: Problem) -> ProblemOutcome | None:
        """The stored outcome of a problem, or None if it has not finished yet."""
        stored = self.load_arrays(problem.name)
        if stored is None:
            return None
        file = self._file(problem)
        try:
            positives, scores = stored["positives"], stored["scores"]
            subterms = {name: stored[name] for name in SUBTERMS} if "a2" in stored else None
            diagnostics, pivot_row = stored["diagnostics"], int(stored["min_pivot_row"])
            ridge, pair = float(stored["ridge"]), tuple(int(r) for r in stored["near_duplicate"])
        except KeyError as exc:
            raise CheckpointMismatchError(
                f"checkpoint file {file} cannot be read (no {exc}). Delete that file to recompute its problem."
            ) from None
        if not np.array_equal(positives, problem.positives) or scores.shape != problem.positives.shape:
            raise CheckpointMismatchError(
                f"checkpoint file {file} scores other rows than this run's problem {problem.key}. "
                "The checkpoint is damaged or from another run: delete it or choose another path."
            )
        return ProblemOutcome(
            problem=problem,
            scores=scores,
            subterms=subterms,
            min_pivot=float(diagnostics[0]),
            min_pivot_row=pivot_row,
            condition_estimate=float(diagnostics[1]),
            ridge=ridge,
            near_duplicate=pair,
        )

    def save(self, outcome: ProblemOutcome) -> None:
        """Store one finished problem; the file appears complete or not at all."""
        arrays: dict[str, Any] = {
            "positives": np.asarray(outcome.problem.positives, dtype=np.int64),
            "scores": outcome.scores,
            "diagnostics": np.array([outcome.min_pivot, outcome.condition_estimate]),
            "min_pivot_row": np.array(outcome.min_pivot_row, dtype=np.int64),
            "ridge": np.array(outcome.ridge),
            "near_duplicate": np.array(outcome.near_duplicate, dtype=np.int64),
        }
        if outcome.subterms is not None:
            arrays.update(outcome.subterms)
        self.save_arrays(outcome.problem.name, arrays)

    def load_arrays(self, name: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``name`` (a task's name), or None if that task has not finished."""
        file = self.path / f"{name}.npz"
        if not file.exists():
            return None
        try:
            with np.load(file, allow_pickle=False) as stored:
                return {key: stored[key] for key in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # EOFError: an empty file
            # Our own writes are atomic; this is damage from outside (disk, a hand edit).
            raise CheckpointMismatchError(
                f"checkpoint file {file} cannot be read ({exc}). Delete that file to recompute its task."
            ) from None

    def save_arrays(self, name: str, arrays: dict[str, Any]) -> None:
        """Store a finished task's arrays under ``name``; the file appears complete or not at all."""
        with atomic_file(self.path / f"{name}.npz", force=True) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)

    def _file(self, problem: Problem) -> Path:
        return self.path / f"{problem.name}.npz"

    def _check_same_run(self, manifest: dict) -> None:
        stored = manifest.get("fields", {})
        if manifest.get("format") != FORMAT:
            raise CheckpointMismatchError(
                f"checkpoint {str(self.path)!r} has format {manifest.get('format')!r}, this version writes "
                f"{FORMAT}. Delete it or choose another path."
            )
        differ = sorted(k for k in set(stored) | set(self.fields) if stored.get(k) != self.fields.get(k))
        if differ:
            detail = "; ".join(f"{k}: checkpoint {stored.get(k)!r}, now {self.fields.get(k)!r}" for k in differ)
            raise CheckpointMismatchError(
                f"checkpoint {str(self.path)!r} was written by a different run ({detail}). Resuming needs the "
                "same data, labels and arguments (and seed); pass those, or delete the checkpoint or choose "
                "another path to start afresh."
            )

    def _drop_temporaries(self) -> None:
        """Temporary files are left only by a run stopped mid-write; they are never read."""
        for tmp in self.path.glob(TEMPORARY_GLOB):
            try:
                tmp.unlink()
            except OSError:
                pass


class TaskArrays:
    """A checkpoint seen as a store of finished tasks' arrays (``_execute.TaskStore``), e.g. the fits of
    a diagnosis: a task has a ``name`` (its file) and ``rows`` (checked against the stored ``rows``)."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint

    def load(self, task: Any) -> dict[str, np.ndarray] | None:
        stored = self.checkpoint.load_arrays(task.name)
        if stored is None:
            return None
        if "rows" not in stored or not np.array_equal(stored["rows"], task.rows):
            raise CheckpointMismatchError(
                f"checkpoint file {self.checkpoint.path / task.name}.npz holds other rows than this run's task "
                f"{task.name}. The checkpoint is damaged or from another run: delete it or choose another path."
            )
        expected = task.expected_shapes(stored) if hasattr(task, "expected_shapes") else {}
        wrong = [f"{key} {stored[key].shape if key in stored else 'missing'} (expected {shape})"
                 for key, shape in expected.items() if key not in stored or stored[key].shape != shape]
        if wrong:
            raise CheckpointMismatchError(
                f"checkpoint file {self.checkpoint.path / task.name}.npz is damaged: {'; '.join(wrong)}. Delete that "
                "file to recompute its task."
            )
        return stored

    def save(self, task: Any, outcome: dict[str, np.ndarray]) -> None:
        self.checkpoint.save_arrays(task.name, outcome)


def _lock(path: Path) -> Any:
    """An open file holding an exclusive lock on ``path``; CheckpointInUseError when a live run holds it."""
    handle = open(path, "a+")
    if fcntl is None:  # pragma: no cover
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise CheckpointInUseError(
            f"checkpoint {str(path.parent)!r} is in use by another run (pid {holder}). Wait for it to finish, "
            "or choose another path."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
        manifest["fields"]["seed_entropy"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointMismatchError(
            f"{path} is not a cgscore_native checkpoint manifest ({exc}). Delete the directory or choose another path."
        ) from None
    return manifest


def _jsonable(value: Any) -> Any:
    """Values as they read back from JSON, so stored and current fields compare equal."""
    return json.loads(json.dumps(value.item() if isinstance(value, np.generic) else value))
