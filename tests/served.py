"""A real `briefing serve` subprocess for integration and browser tests (any embedder, any
env: a test can add a socket guard or extra variables).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import BRIEFING, FAKE, cli_env, run_briefing
from tests.fakes import FakeEmbedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen) -> None:
    """End a server process politely (SIGTERM), and by force if it has not gone in 15 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Served:
    """One `briefing serve` process; its output is kept for failure messages."""

    def __init__(self, index: Path, sources: Path, *extra: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.ready = False
        self.started = time.perf_counter()
        self.usable_seconds: float | None = None  # from start until the page answers
        self.proc = subprocess.Popen(
            [str(BRIEFING), "--index-dir", str(index), "serve", "--port", str(self.port),
             "--sources", str(sources), *extra],
            env=env or cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=Path(index).parent,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "Briefing is running at" in line:
                self.ready = True

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait(self, timeout: float = 120) -> "Served":
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("briefing serve exited:\n" + self.output())
            if self.ready and status_of(self.url + "/")[0] in (200, 401):
                if self.usable_seconds is None:
                    self.usable_seconds = time.perf_counter() - self.started
                return self
            time.sleep(0.25)
        raise TimeoutError(f"briefing serve not ready after {timeout} s:\n" + self.output())

    def stop(self) -> None:
        stop_process(self.proc)
        self._reader.join(timeout=5)  # the pipe ends with the process
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def status_of(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None,
              timeout: float = 10) -> tuple[int, bytes]:
    """(HTTP status, body) of one raw request; (0, b"") when nothing answers."""
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def build_with_cli(index: Path, sources: Path, env: dict | None = None, embedder: str = FAKE) -> dict:
    import json

    done = run_briefing("--index-dir", index, "index", sources, "--embedder", embedder, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def document_texts(index: Path) -> dict[str, str]:
    """doc_id → text of every document in the index record, read-only."""
    db = sqlite3.connect(f"file:{Path(index) / 'briefing.sqlite3'}?mode=ro", uri=True)
    try:
        db.execute("PRAGMA busy_timeout=10000")
        return dict(db.execute("SELECT doc_id, text FROM documents"))
    finally:
        db.close()


class PausingEmbedder(FakeEmbedder):
    """The fake embedder, except that ``embed`` waits while the file named by
    ``$BRIEFING_TEST_PAUSE_FILE`` exists (at most a minute): a build that holds the index
    lock for as long as a test needs."""

    def embed(self, texts):
        pause = Path(os.environ.get("BRIEFING_TEST_PAUSE_FILE", "/nonexistent"))
        deadline = time.monotonic() + 60
        while pause.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().embed(texts)
