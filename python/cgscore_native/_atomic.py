"""Atomic writes: a file (or a folder) appears complete, flushed to disk, or not at all.

Temporaries get unique names (a random token: two writers, threads or processes, never
share one) and are created with modes 0666/0777 less the umask, as any new file would be
(``tempfile.mkstemp``/``mkdtemp`` would give 0600/0700, which the final rename would keep).
"""

from __future__ import annotations

import contextlib
import json
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


OUTPUT_MARKER = ".cgscore-output.json"  # written into every folder this package writes: what it wrote, and for which job


def _protected_folders() -> set[Path]:
    """Folders never replaced, with ``force`` or without: the working directory and every folder
    above it, the home folder and every folder above it."""
    protected: set[Path] = set()
    for anchor in (Path.cwd(), Path.home()):
        anchor = anchor.resolve()
        protected.add(anchor)
        protected.update(anchor.parents)
    return protected


def _unknown_files(path: Path, kind: str) -> list[str]:
    """The files in ``path`` that an earlier run of this package (writing a ``kind`` folder) did not
    write, relative to ``path``; ``["(no marker)"]``-style notes when there is no valid marker."""
    entries = sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir())
    marker = path / OUTPUT_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("written_by") != "cgscore_native" or recorded.get("kind") != kind:
            raise ValueError
        known = set(recorded["files"]) | {OUTPUT_MARKER}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [e for e in entries if e != OUTPUT_MARKER] or ["(a damaged marker)"]
    return [e for e in entries if e not in known]


def check_directory(path: str | os.PathLike, force: bool, kind: str = "report") -> Path:
    """Refuse a destination folder before any work is done; creates nothing.

    A folder is replaced only with ``force``, and only if it is empty or holds nothing but what an
    earlier ``kind`` run of this package wrote there (its marker file lists those files). The
    working directory, the home folder and any folder above either are refused outright.
    """
    path = Path(path)
    resolved = path.resolve()
    if resolved in _protected_folders():
        raise OutputExistsError(f"{path} is the working directory, the home folder or a folder above one; "
                                "it is never replaced. Choose a new folder, e.g. -o report")
    if path.is_symlink():
        raise OutputExistsError(f"{path} is a symbolic link; choose a real folder (or a new name).")
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a folder.")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise OutputExistsError(f"{path} exists and is not empty; pass --force to replace it.")
        unknown = _unknown_files(path, kind)
        if unknown:
            shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
            raise OutputExistsError(f"{path} holds files this package did not write as a {kind} ({shown}); "
                                    "--force replaces only an earlier output folder. Choose another folder.")
    if not path.absolute().parent.exists():
        raise FileNotFoundError(f"{path.parent}: the output folder's parent does not exist.")
    check_writable(path.absolute().parent)
    return path


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, force: bool = False, kind: str = "report") -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path``.

    ``check_directory``'s rules apply (only an earlier ``kind`` folder of this package is replaced,
    and only with ``force``). The new folder gets a marker listing its files. The old folder is
    renamed aside, the new one renamed into place, and only then the old one deleted: on failure
    at any step the old folder is back where it was.
    """
    path = check_directory(path, force, kind)
    tmp = _create(lambda name: os.mkdir(name, 0o777), path, ".tmp")
    try:
        yield tmp
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if not p.is_dir())
        marker = {"written_by": "cgscore_native", "kind": kind, "files": files}
        (tmp / OUTPUT_MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        check_directory(path, force, kind)  # again: the folder may have changed during the work
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, path: Path) -> None:
    """Put folder ``new`` at ``path``; an existing ``path`` is moved aside first and deleted last."""
    if not path.exists():
        os.replace(new, path)
        return
    old = _create(_refuse_existing, path, ".old")  # a free name; os.rename then takes it
    os.rename(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _refuse_existing(name: Path) -> None:
    if name.exists():
        raise FileExistsError(name)
