"""Every exception and warning cgscore_native raises, and the one-line form of a message."""

from __future__ import annotations


class SingularGramError(ValueError):
    """The NTK Gram matrix of a problem is singular to working precision.

    Raised when the Cholesky factorization meets a pivot at or below its tolerance.
    ``pivot_index`` is the position inside the problem where it failed; the Python
    layer re-raises it with ``rows`` set to the offending rows of the user's data.
    """

    def __init__(self, message: str, pivot_index: int = -1, pivot_value: float = float("nan"), rows=()):
        super().__init__(message)
        self.pivot_index = int(pivot_index)
        self.pivot_value = float(pivot_value)
        self.rows = tuple(int(r) for r in rows)


class DuplicateRowsError(ValueError):
    """Rows that are equal after normalization, raised under ``duplicates="raise"``."""

    def __init__(self, message: str, groups=()):
        super().__init__(message)
        self.groups = [tuple(int(i) for i in g) for g in groups]


class MemoryBudgetError(MemoryError):
    """A problem would need more memory than is available or allowed; raised before allocating."""

    def __init__(self, message: str, required_bytes: int = 0, available_bytes: int = 0):
        super().__init__(message)
        self.required_bytes = int(required_bytes)
        self.available_bytes = int(available_bytes)


class DuplicatesWarning(UserWarning):
    """The data hold duplicate rows (after normalization); the ridge policy was applied."""


class LookalikeLabelsWarning(UserWarning):
    """Distinct labels that print alike ('é' in two Unicode forms, 0.1 + 0.2 and 0.3): kept apart."""


class CheckpointMismatchError(ValueError):
    """The checkpoint directory belongs to another run (other data, arguments or version)."""


class CheckpointInUseError(OSError):
    """Another live run holds the checkpoint directory's lock."""


class DataFileError(ValueError):
    """A data file is missing, corrupt, pickled, wrongly shaped or holds NaN; the message says which."""


class OutputExistsError(FileExistsError):
    """The destination exists and ``force`` was not given."""


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the pip extra that brings it."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its lines joined), or its type's name when it has none."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) if lines else type(exc).__name__


class BlasFallbackWarning(UserWarning):
    """The package's OpenBLAS could not be loaded: the slower Eigen backend is used."""


class LabelsWarning(UserWarning):
    """The labels look like a regression target (many classes, many single rows, or a noise rate
    near that of random labels): the diagnosis of such labels is not meaningful."""


class ScaleWarning(UserWarning):
    """A table's feature columns differ in scale by orders of magnitude; ``standardize=True`` helps."""
