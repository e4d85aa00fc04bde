"""A pre-loaded parent that forks ``briefing`` processes on request (a "zygote").

Starting ``briefing`` costs seconds of imports (Chroma, the readers, tiktoken, NLTK) before
it does any work, and far more on a loaded machine. The crash tests start dozens of runs,
so they fork them from this process instead: it imports and warms up everything once,
creates no Chroma client and no index, then forks one child per request. Each child is a
separate process running the same entry point as the installed console script
(``ui.cli:main``, with its own argv, environment, working directory and output files), so
``SIGKILL`` on it is a real crash. It exits as the interpreter would (threads joined, atexit
handlers run, output flushed), minus the final teardown of every module.

Protocol (JSON lines on stdin → one JSON line per request on stdout):
``{"op": "spawn", "argv": [...], "env": {...}, "cwd": "...", "stdout": path, "stderr": path,
"module": null}`` → ``{"pid": N}``; ``module`` runs ``python -m module`` instead of the CLI.
``{"op": "poll", "pid": N}`` → ``{"status": null | returncode}`` (negative: killed by a signal).
At end of input the zygote kills and reaps the children it started and not yet reaped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PRELOAD = (
    "numpy", "chromadb", "chromadb.api.client", "chromadb.api.rust", "bm25s", "tqdm", "click",
    "ui.cli", "ui.progress", "index_build.build", "index_build.read", "index_build.chunk",
    "index_build.embed", "assistant.answer.corpus", "index_build.core.text", "tests.fakes",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    # Warm up the lazy parts of reading and chunking (tiktoken's tables, NLTK's Punkt).
    from index_build.chunk import chunk_document
    from index_build.core.models import Document, make_doc_id, sha256_hex

    text = "A warm-up headline\n\nOne sentence here. Another one follows it.\n"
    chunk_document(Document(make_doc_id("warm.txt"), "warm.txt", text, sha256_hex(text), "A warm-up headline"), 64, 8)
    from index_build.core.text import tokenize

    tokenize("warming up the stemmer")


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    return 1


def _child(req: dict) -> None:
    """In the forked child: become the requested process. Never returns to the loop."""
    import random

    random.seed()
    os.chdir(req.get("cwd") or os.getcwd())
    os.environ.clear()
    os.environ.update(req.get("env") or {})
    fd_in = os.open(os.devnull, os.O_RDONLY)
    fd_out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    flags = os.O_WRONLY | os.O_NOCTTY
    if not req.get("stderr_is_tty"):
        flags |= os.O_CREAT | os.O_TRUNC
    fd_err = os.open(req["stderr"], flags, 0o644)
    for fd, target in ((fd_in, 0), (fd_out, 1), (fd_err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    argv = list(req["argv"])
    module = req.get("module")
    sys.argv = [module or "briefing", *argv]
    if module:
        import runpy

        runpy.run_module(module, run_name="__main__", alter_sys=True)
        raise SystemExit(0)
    from ui.cli import main

    main(args=argv, prog_name="briefing")  # standalone mode: always ends in SystemExit


def _leave(code: int) -> None:
    """Exit like the interpreter does (join threads, run atexit handlers, flush), minus the
    final teardown of every module: in a forked child that would touch, and so copy, every
    page inherited from the zygote, which costs seconds on a loaded machine."""
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def serve() -> None:
    _preload()
    import gc

    gc.freeze()  # children's collections leave the preloaded objects (and their pages) alone
    me = os.getpid()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints must not corrupt the protocol
    children: set[int] = set()
    replies.write(json.dumps({"ready": True, "pid": me}) + "\n")
    try:
        for line in sys.stdin:
            req = json.loads(line)
            if req["op"] == "spawn":
                pid = os.fork()
                if pid == 0:
                    replies.close()
                    try:
                        _child(req)
                    except SystemExit as e:
                        code = _exit_code(e)
                    except BaseException:  # noqa: BLE001 - report like an uncaught exception would
                        import traceback

                        traceback.print_exc()
                        code = 1
                    else:
                        code = 0
                    _leave(code)
                children.add(pid)
                reply = {"pid": pid}
            elif req["op"] == "poll":
                pid = int(req["pid"])
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    reply = {"status": None}
                else:
                    children.discard(pid)
                    reply = {"status": os.waitstatus_to_exitcode(status)}
            else:
                reply = {"error": f"unknown op {req['op']!r}"}
            replies.write(json.dumps(reply) + "\n")
    finally:
        if os.getpid() == me:
            for pid in children:
                try:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass


# -- the test side ----------------------------------------------------------------------------
class Child:
    """A forked process, with the parts of ``subprocess.Popen``'s interface the tests use."""

    def __init__(self, zygote: "Zygote", pid: int, stdout: Path, stderr: Path):
        self.zygote, self.pid, self.stdout_path, self.stderr_path = zygote, pid, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        # /proc first: polling in a tight loop must not cost a round trip to the zygote.
        if self.returncode is None and self._exited():
            while self.returncode is None:
                self.returncode = self.zygote._request({"op": "poll", "pid": self.pid})["status"]
        return self.returncode

    def _exited(self) -> bool:
        """Not running any more (a zombie until the zygote reaps it, which only ``poll`` asks
        for, so the pid cannot be reused meanwhile)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            return True
        return state in ("Z", "X")

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(delay)
            delay = min(0.02, delay * 2)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        return self.stdout_path.read_text(errors="replace"), self.stderr_text()

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:  # a terminal, not a file
            return ""


class Zygote:
    def __init__(self, env: dict[str, str], cwd: Path, workdir: Path):
        self.env, self.cwd, self.workdir = env, cwd, workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=cwd, bufsize=1)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError(f"the zygote did not start (exit {self.proc.wait()})")
        self._n = 0

    def _request(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self.proc.wait()})")
        return json.loads(line)

    def spawn(self, argv: list[str], env: dict[str, str] | None = None, module: str | None = None,
              stderr_tty: str | None = None) -> Child:
        self._n += 1
        out = self.workdir / f"run{self._n:03d}.out"
        err = Path(stderr_tty) if stderr_tty else self.workdir / f"run{self._n:03d}.err"
        reply = self._request({"op": "spawn", "argv": [str(a) for a in argv], "env": env or self.env,
                               "cwd": str(self.cwd), "stdout": str(out), "stderr": str(err),
                               "stderr_is_tty": bool(stderr_tty), "module": module})
        return Child(self, reply["pid"], out, err)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


if __name__ == "__main__":
    serve()
