"""Run every benchmark in bench/, one subprocess each, in name order.

A benchmark is any module here other than ``__init__``, ``common``, ``run_all`` and names
starting with ``_``; it must run with ``python -m bench.NAME`` and the arguments in ``ARGS``
(none for most; some run a smaller slice here than their one-off default, and
``build_bench`` runs once per embedder profile with a slice sized for each).

    .venv/bin/python -m bench.run_all [--only NAME ...] [--timeout SECONDS]

Each benchmark prints its table and updates its own section of docs/BENCHMARKS.md. A
failing benchmark is reported and the others still run; the exit status is non-zero if
any failed. The whole is meant to finish in under 30 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


# train_answer trains the shipped answer model; answer_eval scores it on the full rtqa index
# (both need the ~20-minute MiniLM index of bench.rtqa_eval's default corpus): one-off runs.
NOT_BENCHMARKS = {"__init__", "common", "run_all", "train_answer", "answer_eval"}
# Benchmarks whose defaults are a longer one-off measurement, bounded here so that the whole
# run stays under 30 minutes (see each section of docs/BENCHMARKS.md for what it ran). A list
# of argument lists runs the benchmark once per list. Budget on 2 idle cores (CPU minutes
# measured on a shared machine, see the `scale` section): build_bench ~8, memo_bench ~1,
# rtqa_eval ~5, scale_bench ~14, seed_answers ~1, embed_bench ~4, runtime_build ~4.
ARGS: dict[str, list[list[str]]] = {
    # The large static builds are scale_bench's (1k-100k chunks); here the incremental cases.
    "build_bench": [["--profile", "minilm", "--articles", "100"], ["--profile", "static", "--articles", "1000"]],
    "rtqa_eval": [["--profile", "minilm", "--questions", "400", "--distractors", "160"]],
    "embed_bench": [["--chunks", "128", "--batches", "1", "16", "64"]],
}


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="benchmark module names (e.g. build_bench); default: all")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per benchmark")
    args = ap.parse_args(argv)
    names = args.only or discover()
    failed = []
    started = time.perf_counter()
    runs = [(name, extra) for name in names for extra in ARGS.get(name, [[]])]
    for name, extra in runs:
        shown = " ".join([f"bench.{name}", *extra])
        print(f"== {shown}", flush=True)
        t0 = time.perf_counter()
        try:
            rc = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=HERE.parent, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        print(f"== {shown}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(shown)
    print(f"== {len(runs) - len(failed)}/{len(runs)} benchmark runs ok in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
