"""Progress on stderr for long runs: tqdm when installed, otherwise silent."""

from __future__ import annotations


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, enabled: bool, description: str = "CG-score", unit: str = "problem"):
    """A bar with update()/close(); a no-op when disabled or when tqdm is missing."""
    if not enabled:
        return _Silent()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total, desc=description, unit=unit, leave=False)
