"""One writer per index directory: ``filelock`` on ``write.lock``, which also holds the
holder's pid so that a second writer can say who it is waiting for."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from .core.errors import IndexLockedError

__all__ = ["IndexLock"]


class IndexLock:
    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / "write.lock"
        self._lock: FileLock | None = None

    def __enter__(self) -> IndexLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path, mode=0o644)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            try:
                holder = self.path.read_text(encoding="utf-8", errors="replace").strip()[:32] or "?"
            except OSError:
                holder = "?"
            raise IndexLockedError(
                f"another briefing process (pid {holder}) is writing the index in {self.path.parent}; "
                "wait for it to finish, then run this again"
            ) from None
        # The lock is on the file, not its text: the pid is written beside it for the message above.
        self.path.write_text(str(os.getpid()), encoding="utf-8")
        self._lock = lock
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
