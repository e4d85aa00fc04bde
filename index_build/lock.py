"""One writer per index directory: an advisory lock file with the holder's pid."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import IndexLockedError

__all__ = ["IndexLock"]


class IndexLock:
    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / "write.lock"
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise IndexLockedError(
                f"another briefing process (pid {holder}) is writing the index in {self.path.parent}; "
                "wait for it to finish, then run this again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
