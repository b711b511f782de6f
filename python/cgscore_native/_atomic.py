"""Atomic writes: a file (or a folder) appears complete, flushed to disk, or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputExistsError

TEMPORARY_GLOB = ".*.tmp*"  # the names of atomic_file's temporaries, for cleaning up after a crash


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it to ``path``, else delete it.

    An existing ``path`` is only replaced with ``force``. The temporary keeps ``path``'s
    extension, so writers that choose a format by extension (or append one) see the right one.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists; pass --force to overwrite it.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, replacing any existing file."""
    with atomic_file(path, force=True) as tmp:
        tmp.write_bytes(data)


def check_directory(path: str | os.PathLike, force: bool) -> Path:
    """Refuse a destination folder that exists and is not empty (without ``force``); creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder.")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputExistsError(f"{path} exists and is not empty; pass --force to replace it.")
    if not path.absolute().parent.exists():
        raise FileNotFoundError(f"{path.parent}: the output folder's parent does not exist.")
    return path


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path``.

    An existing non-empty ``path`` is only replaced with ``force``; on failure nothing changes.
    """
    path = check_directory(path, force)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp"))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
