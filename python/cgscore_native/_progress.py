"""Progress on stderr for long runs: tqdm when installed, otherwise silent."""

from __future__ import annotations

from typing import Any


class _Silent:
    total: int | None = None
    n: int = 0

    def update(self, n: int = 1) -> None:
        pass

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> None:
        pass

    def refresh(self) -> None:
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


class StagedBar:
    """A bar over the fits of a run in stages: its description names the stage ("diagnose: λ search
    (λ = 0.1)", "diagnose: cleaning rounds") and its total is the number of fits planned so far,
    raised when a stage turns out to need more (a hill climb's steps are not known in advance),
    so tqdm shows a count out of a total and an ETA throughout."""

    def __init__(self, bar: Any, total: int | None, prefix: str = "diagnose"):
        self.bar, self.prefix = bar, prefix
        self.done = 0
        self.total = total

    def stage(self, name: str, fits: int = 0, remaining_after: int = 0) -> None:
        """Enter stage ``name``, which runs ``fits`` fits, with ``remaining_after`` fits planned after it."""
        self.bar.set_description_str(f"{self.prefix}: {name}", refresh=False)
        needed = self.done + fits + remaining_after
        if self.total is None or needed > self.total:
            self.total = needed
            self.bar.total = needed
        self.bar.refresh()

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
