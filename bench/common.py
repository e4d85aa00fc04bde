"""Shared benchmark helpers: machine info, data slices, memory probes and the shared
``docs/BENCHMARKS.md`` (one marked section per benchmark).

The RealTimeQA pack (``../shared/bench-data/rtqa/``, see its README) is third-party news
content for internal benchmarking only. Slices are written to temporary directories and
removed afterwards; nothing from it is ever written into this repository.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import yaml

__all__ = [
    "REPO", "DATA_DIR", "ARTICLES", "BENCHMARKS_MD", "machine_info", "machine_line", "load_articles",
    "write_slice", "article_txt", "articles_jsonl", "edit_text", "update_section", "reset_peak_rss",
    "memory_mb", "cpu_seconds", "loadavg", "temp_dir", "now_utc",
]

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BRIEFING_BENCH_DATA") or (REPO / ".." / "shared" / "bench-data" / "rtqa")).resolve()
ARTICLES = DATA_DIR / "articles.jsonl.gz"
BENCHMARKS_MD = REPO / "docs" / "BENCHMARKS.md"

_PACKAGES = ("torch", "sentence-transformers", "model2vec", "chromadb", "llama-index-core", "tiktoken", "nltk", "numpy")


# -- machine ----------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{rev}{'+changes' if dirty else ''}" if rev else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info() -> dict:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    ram = _ram_gb()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gb": round(ram, 1) if ram else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "git": _git_rev(),
        "date": now_utc(),
    }


def machine_line(info: dict) -> str:
    v = info["versions"]
    return (
        f"{info['cpu']}, {info['usable_cores']} cores, {info['ram_gb']} GB RAM, {info['os']}; "
        f"Python {info['python']}, torch {v['torch']}, sentence-transformers {v['sentence-transformers']}, "
        f"model2vec {v['model2vec']}, chromadb {v['chromadb']}, llama-index-core {v['llama-index-core']}, "
        f"tiktoken {v['tiktoken']}; commit {info['git']}"
    )


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def loadavg() -> float | None:
    """The 1-minute load average (other processes competing for the cores skew timings)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


# -- process probes ---------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_mb() -> dict[str, float | None]:
    """Current (VmRSS) and peak (VmHWM) resident memory of this process, in MB."""
    rss, hwm = _status_kb("VmRSS"), _status_kb("VmHWM")
    if hwm is None:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss": rss / 1024 if rss else None, "peak": hwm / 1024 if hwm else None}


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    t = os.times()
    return t.user + t.system


# -- data slices ------------------------------------------------------------------------
def load_articles(n: int, start: int = 0, prefix: str = "a-") -> list[dict]:
    """The first ``n`` records (after ``start``) whose id starts with ``prefix`` ("a-": news
    articles, "e-": evidence passages, "": both), in file order."""
    if not ARTICLES.is_file():
        raise SystemExit(f"benchmark data not found: {ARTICLES} (set BRIEFING_BENCH_DATA to the rtqa folder)")
    out: list[dict] = []
    skipped = 0
    with gzip.open(ARTICLES, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if not str(rec.get("id", "")).startswith(prefix):
                continue
            if skipped < start:
                skipped += 1
                continue
            out.append(rec)
            if len(out) >= n:
                break
    return out


def article_txt(rec: dict, text: str | None = None) -> str:
    """One article as a .txt source: YAML front matter (title, url, date) then the text."""
    meta = {k: rec[k] for k in ("title", "url", "date") if rec.get(k)}
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000) if meta else ""
    body = rec["text"] if text is None else text
    return f"---\n{head}---\n{body}\n" if head else body + "\n"


def articles_jsonl(recs: list[dict], texts: dict[str, str] | None = None) -> str:
    """Records as JSON lines; ``texts`` optionally replaces the text of some ids."""
    texts = texts or {}
    lines = []
    for rec in recs:
        if rec["id"] in texts:
            rec = {**rec, "text": texts[rec["id"]]}
        lines.append(json.dumps(rec, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _safe_name(rec: dict) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(rec["id"]))


def write_slice(dest: Path, recs: list[dict], layout: str = "txt", per_file: int = 50) -> dict[str, Path]:
    """Write ``recs`` under ``dest`` and return {record id: the file that holds it}.

    Layouts: ``txt`` — one ``<id>.txt`` per article (front matter for title/url);
    ``jsonl-files`` — ``part-NNNN.jsonl`` files of ``per_file`` records;
    ``jsonl`` — one ``articles.jsonl`` with every record."""
    dest.mkdir(parents=True, exist_ok=True)
    where: dict[str, Path] = {}
    if layout == "txt":
        for rec in recs:
            path = dest / f"{_safe_name(rec)}.txt"
            path.write_text(article_txt(rec), encoding="utf-8")
            where[rec["id"]] = path
    elif layout == "jsonl-files":
        for i in range(0, len(recs), per_file):
            path = dest / f"part-{i // per_file:04d}.jsonl"
            path.write_text(articles_jsonl(recs[i: i + per_file]), encoding="utf-8")
            where.update((r["id"], path) for r in recs[i: i + per_file])
    elif layout == "jsonl":
        path = dest / "articles.jsonl"
        path.write_text(articles_jsonl(recs), encoding="utf-8")
        where.update((r["id"], path) for r in recs)
    else:
        raise ValueError(f"unknown layout {layout!r}; use txt, jsonl-files or jsonl")
    return where


EDIT_NOTE = "Editor's note: this paragraph was added by the benchmark to change one article."


def edit_text(text: str, note: str = EDIT_NOTE) -> str:
    """The article with one new paragraph inserted at the paragraph break nearest its
    middle (a typical local edit: the chunks before it keep their ids)."""
    mid = len(text) // 2
    breaks = [m.start() for m in re.finditer(r"\n", text)]
    at = min(breaks, key=lambda b: abs(b - mid)) if breaks else len(text)
    return f"{text[:at]}\n{note}\n{text[at:]}" if breaks else f"{text}\n{note}"


@contextmanager
def temp_dir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A scratch directory outside the repository (the data must not land in it)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- docs/BENCHMARKS.md -----------------------------------------------------------------
_INTRO = """# Benchmarks

Reproducible: `make bench` (`.venv/bin/python -m bench.run_all`) runs every benchmark in
`bench/`; each script replaces only its own section below (between `<!-- bench:NAME -->`
markers), so sections can come from different runs — each states its own machine and date.
Data: slices of the RealTimeQA pack in `../shared/bench-data/rtqa/` (internal benchmarking
only; slices are written to temporary directories, never into this repository).
"""


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def _put(doc: str, name: str, body: str) -> str:
    start, end = _markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(doc):
        return pattern.sub(lambda _m: block, doc, count=1)
    return doc.rstrip("\n") + "\n\n" + block + "\n"


def update_section(name: str, body: str, path: Path = BENCHMARKS_MD, info: dict | None = None) -> Path:
    """Replace (or append) section ``name`` of the benchmarks file and refresh its header
    (machine of the latest run and date). Other sections are left as they are."""
    info = info or machine_info()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = path.read_text(encoding="utf-8") if path.is_file() else _INTRO
    header = f"Last updated {now_utc()} (section `{name}`) on: {machine_line(info)}."
    doc = _put(doc, "header", header)
    doc = _put(doc, name, body)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(path)
    return path


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0, cpu_seconds() - c0
