"""`briefing index --watch` re-indexes when a source is added, edited or removed."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading

import pytest

from index_build.build import build_index
from index_build.watch import watch_sources
from tests.conftest import BRIEFING, FAKE, SEED_001, article_text, cli_env


def _signal_state(pid: int) -> str:
    """The process's ignored, caught and pending signals (from /proc; SIGINT is mask 0x2)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError as e:
        return f"unreadable ({e})"
    return " ".join(f"{k}={fields.get(k, '').strip()}" for k in ("SigIgn", "SigCgt", "SigBlk", "ShdPnd"))


# Ctrl+C in a terminal reaches a foreground process whose SIGINT is at its default. A test run
# started in the background by a non-interactive shell (`make test &`, nohup) has SIGINT
# *ignored*, and a child inherits that across exec: Python then installs no KeyboardInterrupt
# handler and the SIGINT below would do nothing. So the command starts with SIGINT restored.
_WITH_DEFAULT_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                        "os.execv(sys.argv[1], sys.argv[1:])")


def _next(q: queue.Queue, timeout: float = 20):
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no rebuild within {timeout} s of the change")


def _write_until_seen(path, text: str, q: queue.Queue, tries: int = 6):
    """The watcher starts a moment after the command does; write again until it reacts."""
    for _ in range(tries):
        path.write_text(text)
        try:
            return q.get(timeout=5)
        except queue.Empty:
            continue
    pytest.fail(f"no rebuild after writing {path.name} {tries} times")


def test_watch_rebuilds_after_each_change(settings, seed_sources):
    build_index(settings)
    stop = threading.Event()
    reports: queue.Queue = queue.Queue()

    def loop():
        for report in watch_sources(settings, stop_event=stop):
            reports.put(report)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        report = _write_until_seen(seed_sources / "new.txt", article_text(21), reports)
        assert (report.added, report.unchanged, report.removed) == (1, 2, 0)

        (seed_sources / SEED_001).unlink()
        report = _next(reports)
        assert (report.removed, report.unchanged, report.documents) == (1, 2, 2)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.integration
def test_watch_command_prints_a_report_per_change_and_stops_on_ctrl_c(tmp_path, seed_sources):
    proc = subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGINT,
         str(BRIEFING), "--index-dir", str(tmp_path / "idx"), "index", str(seed_sources), "--watch", "--json",
         "--embedder", FAKE],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=tmp_path,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = json.loads(_next(lines, 120))
        assert (first["added"], first["chunks"]) == (2, 11)
        second = json.loads(_write_until_seen(seed_sources / "late.md", article_text(22), lines))
        assert (second["added"], second["unchanged"], second["documents"]) == (1, 2, 4)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)  # generous: 2 loaded cores in CI
        except subprocess.TimeoutExpired:
            state = _signal_state(proc.pid)
            proc.kill()
            pytest.fail(f"no exit 60 s after SIGINT; the child's signal state: {state}; "
                        f"this test process's: {_signal_state(os.getpid())}")
    stderr = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode in (0, 130)
    assert "Traceback" not in stderr
