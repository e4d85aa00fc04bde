"""Ask latency: a cold `briefing ask` (a new process) and warm asks, PyTorch vs ONNX Runtime.

    .venv/bin/python -m bench.ask_bench [--cold-runs N] [--warm-runs N] [--rtqa-index DIR] [--no-write]

1. **Seed index**: `sources/` indexed with MiniLM into a temporary directory.
2. **Cold**: `briefing ask QUESTION` as a new process (the console script), ``--cold-runs``
   times per question path, wall time from start to exit; the runs alternate between the
   two paths so that load on the machine hits both alike. Target (issues 14, 15): ≤ 4 s.
3. **Warm**: ``Assistant.ask`` in one process, after one ask to load everything, over the
   questions of ``tests/data/seed-fresh*.jsonl`` (``--warm-runs`` passes), per path and
   answerer; p50 and p95 of the whole ask and of its answer step. Target (issue 13):
   warm p50 ≤ 150 ms at ~16k chunks — measured on ``--rtqa-index`` (the index that
   ``bench.answer_eval`` / ``bench.train_answer`` build, default ``/tmp/rtqa/index``) when it
   exists, with 40 of its dev questions.
4. **Question embedding** alone: one question, p50 of 50.

The question path is chosen with ``BRIEFING_EMBED_RUNTIME`` (``torch`` = PyTorch for every
text; ``auto`` = ONNX Runtime for questions and other small inputs, the default). Prints a
table and replaces the ``ask-latency`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DATA_DIR, REPO, loadavg, machine_info, markdown_table, temp_dir, update_section

RUNTIMES = ("torch", "auto")
LABEL = {"torch": "PyTorch (the old path)", "auto": "ONNX Runtime (default)"}
COLD_QUESTION = "What did Ri Yong Ho demand?"


def _console_script() -> str:
    return str(Path(sys.executable).with_name("briefing"))


def _env(runtime: str) -> dict[str, str]:
    """This environment without the user's BRIEFING_* settings (the cache stays), on ``runtime``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_") or k == "BRIEFING_CACHE_DIR"}
    return {**env, "BRIEFING_EMBED_RUNTIME": runtime}


def cold(index_dir: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {r: [] for r in RUNTIMES}
    for _ in range(runs):
        for runtime in RUNTIMES:
            env = _env(runtime)
            t0 = time.perf_counter()
            done = subprocess.run([_console_script(), "--index-dir", str(index_dir), "ask", COLD_QUESTION],
                                  capture_output=True, text=True, env=env, timeout=300)
            took = time.perf_counter() - t0
            if done.returncode != 0 or "[1]" not in done.stdout:
                raise SystemExit(f"cold ask failed ({runtime}): {done.stderr.strip()[-500:]}")
            out[runtime].append(took)
    return out


def _questions(limit: int | None = None) -> list[str]:
    qs = []
    for name in ("seed-fresh.jsonl", "seed-fresh2.jsonl"):
        path = REPO / "tests" / "data" / name
        qs += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return qs[:limit] if limit else qs


def _rtqa_questions(n: int) -> list[str]:
    path = DATA_DIR / "dev.jsonl"
    qs = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return qs[:n]


def warm(index_dir: Path, questions: list[str], runs: int, answerer: str) -> dict[str, dict[str, float]]:
    """Per runtime: p50/p95 of the whole ask and of its answer step (one process per runtime:
    the embedder is loaded once per process)."""
    out = {}
    for runtime in RUNTIMES:
        code = (
            "import json, sys, statistics\n"
            "from pathlib import Path\n"
            "from index_build.core.settings import load_settings\n"
            "from assistant.answer.service import Assistant\n"
            "args = json.loads(sys.argv[1])\n"
            "s = load_settings(environ={}, index_dir=Path(args['index']), answerer=args['answerer'])\n"
            "a = Assistant(s)\n"
            "a.ask(args['questions'][0])\n"
            "total, step = [], []\n"
            "for _ in range(args['runs']):\n"
            "    for q in args['questions']:\n"
            "        t = a.ask(q).timings_ms\n"
            "        total.append(t['total']); step.append(t.get('answer', 0.0))\n"
            "print(json.dumps({'total': total, 'answer': step}))\n"
        )
        env = _env(runtime)
        arg = json.dumps({"index": str(index_dir), "answerer": answerer, "questions": questions, "runs": runs})
        done = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env,
                              cwd=REPO, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"warm asks failed ({runtime}): {done.stderr.strip()[-800:]}")
        got = json.loads(done.stdout.strip().splitlines()[-1])
        out[runtime] = {f"{k}_{p}": _pct(v, p) for k, v in got.items() for p in (50, 95)}
    return out


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def _pct(values: list[float], p: int) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def question_embedding_ms() -> dict[str, float]:
    from index_build.embed import MiniLMEmbedder

    out = {}
    for runtime in RUNTIMES:
        e = MiniLMEmbedder(runtime=runtime)
        e.embed([COLD_QUESTION])
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            e.embed([COLD_QUESTION])
            times.append((time.perf_counter() - t0) * 1000)
        out[runtime] = statistics.median(times)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ask_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--warm-runs", type=int, default=3)
    ap.add_argument("--rtqa-index", type=Path, default=Path("/tmp/rtqa/index"))
    ap.add_argument("--rtqa-questions", type=int, default=40)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    from index_build.build import build_index
    from index_build.core.settings import load_settings

    info = machine_info()
    load_before = loadavg()
    rows = []
    with temp_dir("briefing-ask-bench-") as tmp:
        settings = load_settings(environ={}, index_dir=tmp / "index", sources_dir=REPO / "sources")
        report = build_index(settings)
        seeds = f"seed index ({report.chunks} chunks)"
        c = cold(settings.index_dir, args.cold_runs)
        for r in RUNTIMES:
            rows.append([seeds, LABEL[r], f"cold `briefing ask` (median of {args.cold_runs})",
                         f"{statistics.median(c[r]):.2f} s", f"min {min(c[r]):.2f} s"])
        qs = _questions()
        for answerer in ("combined", "rules"):
            w = warm(settings.index_dir, qs, args.warm_runs, answerer)
            for r in RUNTIMES:
                rows.append([seeds, LABEL[r], f"warm ask, answerer {answerer} ({len(qs)} q × {args.warm_runs})",
                             f"p50 {w[r]['total_50']:.0f} ms (answer step {w[r]['answer_50']:.0f})",
                             f"p95 {w[r]['total_95']:.0f} ms"])
    if (args.rtqa_index / "briefing.sqlite3").is_file():
        from index_build.store.docstore import DocStore

        rec = DocStore(args.rtqa_index / "briefing.sqlite3", readonly=True)
        try:
            n_chunks = rec.counts()[1]
        finally:
            rec.close()
        name = f"rtqa index ({n_chunks} chunks)" if n_chunks else "rtqa index"
        qs = _rtqa_questions(args.rtqa_questions)
        w = warm(args.rtqa_index, qs, 1, "combined")
        for r in RUNTIMES:
            rows.append([name, LABEL[r], f"warm ask, answerer combined ({len(qs)} dev q)",
                         f"p50 {w[r]['total_50']:.0f} ms (answer step {w[r]['answer_50']:.0f})",
                         f"p95 {w[r]['total_95']:.0f} ms"])
    emb = question_embedding_ms()
    for r in RUNTIMES:
        rows.append(["—", LABEL[r], "embed one question (p50 of 50)", f"{emb[r]:.1f} ms", ""])
    load_after = loadavg()
    table = markdown_table(["index", "question path", "what", "time", "spread"], rows)
    body = (f"### Ask latency: PyTorch vs ONNX Runtime for the question path (`bench.ask_bench`)\n\n"
            f"{info['date']}, {info.get('cpu', '')}, {os.cpu_count()} cores, load average {_load(load_before)} before, "
            f"{_load(load_after)} after. Cold: a new `briefing ask` process, start to exit; warm: `Assistant.ask` in one "
            f"process after a first ask. Targets: cold ≤ 4 s (issues 14, 15), warm p50 ≤ 150 ms at ~16k chunks "
            f"(issue 13).\n\n{table}\n")
    print(body)
    if not args.no_write:
        update_section("ask-latency", body, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
