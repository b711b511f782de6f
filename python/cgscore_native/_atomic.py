"""Atomic writes: a file (or a folder) appears complete, flushed to disk, or not at all.

Temporaries get unique names (a random token: two writers, threads or processes, never
share one) and are created with modes 0666/0777 less the umask, as any new file would be
(``tempfile.mkstemp``/``mkdtemp`` would give 0600/0700, which the final rename would keep).
"""

from __future__ import annotations

import contextlib
import os
import secrets
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
    tmp = _create(lambda name: os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)), path, ".tmp" + path.suffix)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create(make, path: Path, suffix: str) -> Path:
    """A new file or folder ``.{name}.{random}{suffix}`` beside path, made by ``make(name)`` (which
    must fail if the name exists); the umask applies to it as to any new file."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}{suffix}"
        try:
            make(tmp)
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary name beside {path}.")


def check_writable(folder: str | os.PathLike) -> None:
    """Refuse a destination folder where no file can be created, before any work is done."""
    try:
        with tempfile.TemporaryFile(dir=os.fspath(folder), prefix=".cgscore-probe"):
            pass
    except OSError as exc:
        raise PermissionError(f"cannot write to {folder} ({exc.strerror or exc}). Choose a writable folder.") from None


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
    check_writable(path.absolute().parent)
    return path


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path``.

    An existing non-empty ``path`` is only replaced with ``force``; on failure nothing changes.
    """
    path = check_directory(path, force)
    tmp = _create(lambda name: os.mkdir(name, 0o777), path, ".tmp")
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
