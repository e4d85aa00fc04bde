"""Terminal progress for long work: one tqdm bar per build stage, on stderr."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["TerminalProgress"]

_LABELS = {"scan": "Hashing sources", "read": "Reading & chunking", "embed": "Embedding chunks",
           "store": "Writing index", "lexical": "Keyword index"}


class TerminalProgress:
    """A ``Progress`` callback that draws bars only when stderr is a terminal."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bars: dict[str, Any] = {}  # stage → its tqdm bar

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            unit = "chunk" if stage == "embed" else "file"
            bar = self._bars[stage] = tqdm(total=total, desc=_LABELS.get(stage, stage), unit=unit,
                                           file=sys.stderr, leave=True, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
