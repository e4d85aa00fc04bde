"""Scale benchmark: build speed, query latency, memory, Chroma server and concurrent users
against corpus size (about 1k, 10k and 100k+ chunks).

    .venv/bin/python -m bench.scale_bench [--steps build,lexical,query,minilm,server,serve]
        [--sizes 1000,10000,100000] [--minilm-sizes 1000] [--questions 150]
        [--users 1,8,32] [--user-seconds 12] [--server-size 10000]
        [--work-dir DIR] [--from-json FILE] [--json FILE] [--no-write] [--no-plots]

Data: the RealTimeQA pack (``../shared/bench-data/rtqa``). An evenly spaced sample of
``--questions`` dev questions; every corpus holds their evidence docs plus distractors taken
in one fixed shuffled order from all other docs of ``articles.jsonl.gz`` (news articles and
the other questions' evidence passages), so the corpora are nested (1k ⊂ 10k ⊂ 100k).
The whole file is about 93k chunks at the default 200 tokens; the largest corpus adds
**repeats** of news articles with distinct ids (``r2-…``) and a marked headline (``… (repeat)``,
so their embedded text differs and the build embeds them, not re-uses them). Sizes are
targets, reached by a per-document chunk estimate; the real chunk counts are reported.
Sources are written as ``.jsonl`` files of 1,000 records to a temporary directory (never
into this repository).

Steps (all by default; ``--steps`` picks some):

* ``build`` — per size, a fresh ``static`` build (model loaded beforehand) timed by stage
  (the build's progress reports + a timer around ``embed()``), peak RSS; then the raw embedder
  on a random sample (≤ 20,000) of the same embed texts, read back from the record, in one call.
  Ratio = build chunks/s ÷ raw chunks/s (target ≥ 0.85).
* ``lexical`` — per size, in fresh processes: the first ``Corpus`` open after the build
  (which wrote BM25), a second open, ``bm25s`` load alone, BM25 built again from the tokens
  stored in the record (what the build does) and from the chunk texts; RSS deltas, BM25
  arrays in memory, its size on disk.
* ``query`` — per size, in this process: warm ``Assistant.ask`` (extractive, top_k=10) on the
  question sample: p50/p95 and the ``timings_ms`` breakdown (embed query, dense, BM25, fuse,
  answer); hit@1/5/10 and MRR@10 by the RealTimeQA rule (``assistant.evaluate._relevant``).
  Targets: p50 ≤ 100 ms at 10k, ≤ 250 ms at 100k chunks.
* ``minilm`` — the transformer profile at ``--minilm-sizes`` only (≈ 15 chunks/s on 2 cores:
  10k chunks is ~11 minutes of embedding, twice with the raw measurement). Build ratio,
  latency and quality as above; larger sizes are **extrapolated** (stated as such).
* ``server`` — at ``--server-size``: a real ``chroma run --path D --host 127.0.0.1 --port N``;
  the same corpus built into it (``chroma_url``) and queried: build-throughput and query-latency
  ratios server ÷ embedded.
* ``serve`` — ``briefing serve`` on the largest static index: start time, RSS; N concurrent
  users (threads, each its own ``gradio_client.Client``, ``/ask``) for ``--user-seconds`` each:
  throughput, p50/p95, errors (must be 0); the server's peak RSS (VmHWM; target ≤ 1.5 GB).

With ``--work-dir`` the sources, indexes and ``results.json`` are kept there: steps not run
keep their earlier results, and existing indexes are reused (``--rebuild`` to build anew).
Writes the ``scale`` section of docs/BENCHMARKS.md and ``docs/bench-*.png``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import (
    ARTICLES,
    DATA_DIR,
    REPO,
    cpu_seconds,
    loadavg,
    machine_info,
    machine_line,
    markdown_table,
    memory_mb,
    reset_peak_rss,
    temp_dir,
    update_section,
    write_slice,
)

DEV = DATA_DIR / "dev.jsonl"
DOCS = REPO / "docs"
STEPS = ("build", "lexical", "query", "minilm", "server", "serve")
SEED = 20240607
PER_FILE = 1000
CHARS_PER_TOKEN = 4.9  # calibrated: chars / cl100k tokens over the pack (chunk estimate within ~1 %)
RAW_SAMPLE = 9_000  # below model2vec's multiprocessing threshold (10,000 texts): the build embeds in batches of 256
MINILM_RAW_SAMPLE = 128
TOP_K = 10
RATIO_TARGET = 0.85
LATENCY_TARGETS = {10_000: 100.0, 100_000: 250.0}  # p50 ms at that many chunks
RSS_TARGET_MB = 1536
FILTER_QUESTIONS = 20
FILTER_SINCE = "2023-01-01"  # evidence docs carry dates; news articles have none (excluded)
CHROMA = Path(sys.executable).parent / "chroma"
BRIEFING = Path(sys.executable).parent / "briefing"


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def status_kb(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_") or k == "BRIEFING_CACHE_DIR"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if path.exists() else 0.0


# -- corpora ----------------------------------------------------------------------------
def estimate_chunks(text: str, tokens: int = 200, overlap: int = 40) -> int:
    return max(1, math.ceil((len(text) / CHARS_PER_TOKEN - overlap) / (tokens - overlap)))


def dev_sample(n: int) -> list[dict]:
    if not DEV.is_file():
        raise SystemExit(f"benchmark data not found: {DEV} (set BRIEFING_BENCH_DATA to the rtqa folder)")
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [rows[i * len(rows) // n] for i in range(min(n, len(rows)))]


def plan_corpora(sizes: list[int], questions: list[dict]) -> dict[int, dict]:
    """{size: {"records": [...], "estimate": chunks, "repeats": n}} — nested corpora."""
    if not ARTICLES.is_file():
        raise SystemExit(f"benchmark data not found: {ARTICLES} (set BRIEFING_BENCH_DATA to the rtqa folder)")
    with gzip.open(ARTICLES, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    by_id = {r["id"]: r for r in recs}
    wanted = list(dict.fromkeys(q["evidence_doc"] for q in questions))
    core = [by_id[i] for i in wanted if i in by_id]
    core_ids = {r["id"] for r in core}
    pool = [r for r in recs if r["id"] not in core_ids]
    random.Random(SEED).shuffle(pool)
    repeats = [dict(r, id=f"r2-{r['id'][2:]}", title=f"{r.get('title') or ''} (repeat)")
               for r in pool if r["id"].startswith("a-")]
    plans: dict[int, dict] = {}
    for size in sorted(sizes):
        chosen, est, n_rep = list(core), sum(estimate_chunks(r["text"]) for r in core), 0
        # The largest size must reach its target ("100k+"): aim a little above it.
        goal = size * (1.03 if size >= 50_000 else 1.0)
        for r in pool:
            if est >= goal:
                break
            chosen.append(r)
            est += estimate_chunks(r["text"])
        for r in repeats:
            if est >= goal:
                break
            chosen.append(r)
            est += estimate_chunks(r["text"])
            n_rep += 1
        plans[size] = {"records": chosen, "estimate": est, "repeats": n_rep,
                       "evidence": len(core), "docs": len(chosen)}
    return plans


def write_sources(dest: Path, records: list[dict]) -> None:
    if dest.is_dir() and (dest / ".complete").is_file() and \
            json.loads((dest / ".complete").read_text()) == len(records):
        return
    shutil.rmtree(dest, ignore_errors=True)
    write_slice(dest, records, layout="jsonl-files", per_file=PER_FILE)
    (dest / ".complete").write_text(json.dumps(len(records)))


# -- build ------------------------------------------------------------------------------
def settings_for(index_dir: Path, sources: Path, profile: str, chroma_url: str = "", collection: str | None = None):
    from index_build.core.settings import load_settings

    env = {"BRIEFING_CHROMA_URL": chroma_url} if chroma_url else {}
    return load_settings(environ=env, index_dir=index_dir, sources_dir=sources, embedder=profile,
                         collection=collection)


def embed_texts_of(settings, sample: int | None, seed: int = 1) -> list[str]:
    """The embed texts of (a random sample of) the index's chunks, as the build made them
    (``Chunk.of``: headline and publisher, a blank line, the passage)."""
    from index_build.store.docstore import DocStore

    rec = DocStore(settings.db_path, readonly=True)
    try:
        rows = list(rec.db.execute(
            "SELECT d.title, d.publisher, c.text FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"))
    finally:
        rec.close()
    if sample is not None and len(rows) > sample:
        rows = random.Random(seed).sample(rows, sample)
    out = []
    for title, publisher, text in rows:
        header = "\n".join(x for x in (title, publisher) if x)
        out.append(f"{header}\n\n{text}" if header else text)
    return out


def index_counts(settings) -> tuple[int, int]:
    from index_build.store.docstore import DocStore

    rec = DocStore(settings.db_path, readonly=True)
    try:
        return rec.counts()
    finally:
        rec.close()


def build_one(settings, profile: str, raw_sample: int, bracket: bool = False) -> dict:
    """A fresh build with the model loaded, timed by stage; then the raw embedder on a sample
    of the same embed texts. ``bracket``: also before the build (the texts from the build's own
    reader and chunker), and the two raw rates averaged — for a slow model, whose raw call
    takes long enough for the machine's load to change under it."""
    from bench.build_bench import StageClock, TimedEmbedder, _stages, prepare
    from index_build.build import build_index
    from index_build.embed import make_embedder

    shutil.rmtree(settings.index_dir, ignore_errors=True)
    embedder = make_embedder(profile, settings.embed_batch_size, settings.embed_runtime)
    t0 = time.perf_counter()
    embedder.embed(["warm-up", "a second text to load the model"])
    load_s = time.perf_counter() - t0
    before = None
    if bracket:
        pre = prepare(settings, settings.sources_dir)["texts"]
        pre = random.Random(1).sample(pre, min(raw_sample, len(pre)))
        c1, r0 = cpu_seconds(), time.perf_counter()
        embedder.embed(pre)
        before = (len(pre), time.perf_counter() - r0, cpu_seconds() - c1)
    timed = TimedEmbedder(embedder)
    clock = StageClock()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        clock(stage, done, total)
        if time.perf_counter() - last[0] > 60:
            last[0] = time.perf_counter()
            log(f"  {profile} build {stage} {done}/{total}")

    reset_peak_rss()
    rss0 = memory_mb()["rss"]
    la0 = loadavg()
    c0, t0 = cpu_seconds(), time.perf_counter()
    report = build_index(settings, settings.sources_dir, embedder=timed, progress=progress)
    t1 = time.perf_counter()
    build_cpu = cpu_seconds() - c0
    peak = memory_mb()["peak"]
    stages = _stages(t0, t1, clock, timed.seconds)
    seconds = t1 - t0

    texts = embed_texts_of(settings, raw_sample)
    c1, r0 = cpu_seconds(), time.perf_counter()
    vectors = embedder.embed(texts)
    raw_s = time.perf_counter() - r0
    raw_cpu = cpu_seconds() - c1
    assert len(vectors) == len(texts)
    raw_rate = len(texts) / raw_s
    raw_after_rate = raw_rate
    if before is not None:
        n0, s0, cpu0 = before
        raw_rate = (n0 + len(texts)) / (s0 + raw_s)
        raw_cpu = (cpu0 + raw_cpu) * len(texts) / (n0 + len(texts))  # CPU for len(texts) texts
    build_rate = report.embedded / seconds
    res = {
        "profile": profile, "documents": report.documents, "chunks": report.chunks, "embedded": report.embedded,
        "seconds": seconds, "cpu_s": build_cpu, "load_s": load_s, "stages": stages, "model_s": timed.seconds,
        "raw_texts": len(texts), "raw_s": raw_s, "raw_cpu_s": raw_cpu, "raw_rate": raw_rate, "build_rate": build_rate,
        "raw_before_rate": before[0] / before[1] if before else None, "raw_after_rate": raw_after_rate,
        "in_build_rate": report.embedded / timed.seconds if timed.seconds else None,
        "ratio": build_rate / raw_rate,
        # By CPU: the build's CPU per embedded chunk against the raw embedder's.
        "ratio_cpu": (raw_cpu / len(texts)) / (build_cpu / max(1, report.embedded)),
        "embed_share": timed.seconds / seconds, "peak_rss_mb": peak, "rss_before_mb": rss0,
        "loadavg": [la0, loadavg()], "index_mb": dir_mb(settings.index_dir),
    }
    log(f"  {profile} {report.chunks} chunks: build {seconds:.1f} s = {build_rate:.0f}/s, raw {raw_rate:.0f}/s, "
        f"ratio {res['ratio']:.3f} (embed share {res['embed_share']:.2f})")
    return res


# -- lexical ----------------------------------------------------------------------------
_OPEN_PROBE = r"""
import json, sys, time
def kb(f):
    for line in open('/proc/self/status'):
        if line.startswith(f + ':'):
            return int(line.split()[1])
t0 = time.perf_counter()
from index_build.core.settings import load_settings
from assistant.answer.corpus import Corpus
import bm25s, chromadb, numpy
import nltk.stem.snowball, nltk.tokenize.punkt  # imported lazily by the first open: not its cost
s = load_settings(environ={}, index_dir=sys.argv[1])
rss0 = kb('VmRSS')
t1 = time.perf_counter()
c = Corpus(s)
t2 = time.perf_counter()
print(json.dumps({'imports_s': t1 - t0, 'open_s': t2 - t1, 'rss_before_mb': rss0 / 1024,
                  'rss_after_mb': kb('VmRSS') / 1024, 'hwm_mb': kb('VmHWM') / 1024}))
"""

_BM25_PROBE = r"""
import json, sys, time
def kb(f):
    for line in open('/proc/self/status'):
        if line.startswith(f + ':'):
            return int(line.split()[1])
import bm25s, numpy as np
rss0 = kb('VmRSS')
t0 = time.perf_counter()
m = bm25s.BM25.load(sys.argv[1], mmap=False, show_progress=False, verbosity=0)
t1 = time.perf_counter()
arrays = sum(v.nbytes for v in m.scores.values() if hasattr(v, 'nbytes'))
vocab = len(getattr(m, 'vocab_dict', {}) or {})
toks = ['the', 'minister', 'said', 'election', 'president', 'vaccine']
q = [t for t in toks if t in (m.vocab_dict or {})]
t2 = time.perf_counter()
for _ in range(20):
    m.get_scores(q)
t3 = time.perf_counter()
print(json.dumps({'load_s': t1 - t0, 'rss_delta_mb': (kb('VmRSS') - rss0) / 1024, 'arrays_mb': arrays / 1e6,
                  'vocab': vocab, 'get_scores_ms': (t3 - t2) / 20 * 1000}))
"""


def _probe(script: str, arg: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, arg], cwd=REPO, env=child_env(), capture_output=True,
                         text=True, timeout=1800)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


_REBUILD_PROBE = r"""
import json, sys, time
from pathlib import Path
from index_build.store.lexical import build_lexical, chunk_tokens
from index_build.store.docstore import DocStore
import index_build.core.text, bm25s
rec = DocStore(Path(sys.argv[1]) / "briefing.sqlite3", readonly=True)
t0 = time.perf_counter()
tokens = rec.lexical_tokens(chunk_tokens)
build_lexical(None, 0, tokens)
t1 = time.perf_counter()
rows = list(rec.chunks_with_meta())
t2 = time.perf_counter()
build_lexical(None, 0, [chunk_tokens(r[7], r[4]) for r in rows])
t3 = time.perf_counter()
print(json.dumps({'from_tokens_s': t1 - t0, 'from_text_s': t3 - t2, 'chunks': len(tokens)}))
"""


def lexical_one(settings) -> dict:
    """Opening an index right after its build (BM25 written by the build), a second open, bm25s
    load alone, and rebuilding BM25 from the stored tokens / from the texts."""
    lex = settings.index_dir / "lexical"
    first = _probe(_OPEN_PROBE, str(settings.index_dir))
    second = _probe(_OPEN_PROBE, str(settings.index_dir))
    bm25_dir = lex / "bm25"
    res = {"first": first, "second": second, "disk_mb": dir_mb(lex)}
    if bm25_dir.is_dir():
        res["bm25"] = _probe(_BM25_PROBE, str(bm25_dir))
    res["rebuild"] = _probe(_REBUILD_PROBE, str(settings.index_dir))
    log(f"  lexical: first open {first.get('open_s', float('nan')):.2f} s, reopen {second.get('open_s', float('nan')):.2f} s, "
        f"bm25 {res.get('bm25', {})}")
    return res


# -- queries ----------------------------------------------------------------------------
PARTS = ("retrieve_embed_query", "retrieve_dense", "retrieve_lexical", "retrieve_fuse")


class Asker:
    """One open index (an ``Assistant``) and what its warm asks measured."""

    def __init__(self, name: str, settings):
        from assistant.answer.service import Assistant
        from index_build.store.docstore import DocStore

        self.name, self.settings = name, settings
        rec = DocStore(settings.db_path, readonly=True)
        try:
            self.record_ids = dict(rec.db.execute("SELECT doc_id, record_id FROM documents"))
        finally:
            rec.close()
        t0 = time.perf_counter()
        self.assistant = Assistant(settings)
        self.open_s = time.perf_counter() - t0
        self.totals: list[float] = []
        self.cpus: list[float] = []
        self.parts: dict[str, list[float]] = {k: [] for k in (*PARTS, "retrieve_other", "answer")}
        self.firsts: list[int | None] = []
        self.bm25_firsts: list[int | None] = []

    def warm(self, questions: list[dict]) -> None:
        for q in questions:  # the model, the sentence splitter, caches
            self.assistant.ask(q["question"], [], top_k=TOP_K)

    def ask(self, q: dict) -> None:
        from assistant.evaluate import GoldItem, _relevant

        item = GoldItem(id=q["id"], question=q["question"], history=(), answerable=True, evidence=(),
                        key_facts=(), answer=str(q.get("answer") or ""), evidence_doc=q["evidence_doc"])
        c0 = time.process_time()  # this process, all threads; finer than os.times()
        answer = self.assistant.ask(q["question"], [], top_k=TOP_K)
        self.cpus.append((time.process_time() - c0) * 1000)
        t = answer.timings_ms
        self.totals.append(t.get("total", 0.0))
        for k in PARTS:
            self.parts[k].append(t.get(k, 0.0))
        self.parts["retrieve_other"].append(max(0.0, t.get("retrieve", 0.0) - sum(t.get(k, 0.0) for k in PARTS)))
        self.parts["answer"].append(t.get("answer", 0.0))
        # Retrieval ranks of what was retrieved: an abstention lists only its near misses as
        # `passages` and keeps the retrieved ones in `considered` (as assistant.evaluate reads them).
        retrieved = answer.considered or answer.passages
        ranks = [p.rank for p in retrieved if _relevant(item, p.text, self.record_ids.get(p.doc_id))]
        self.firsts.append(min(ranks) if ranks else None)
        self.bm25_firsts.append(self._bm25_first(item))

    def _bm25_first(self, item) -> int | None:
        """Rank of the first relevant chunk by BM25 alone (the index's own bm25s), for context."""
        import numpy as np

        from assistant.evaluate import _relevant
        from index_build.core.text import tokenize

        view = self.assistant.corpus.snapshot() if hasattr(self.assistant.corpus, "snapshot") else self.assistant.corpus
        bm25, df = getattr(view, "bm25", None), getattr(view, "df", None)
        if bm25 is None or df is None:
            return None
        tokens = [t for t in tokenize(item.question) if t in df]
        if not tokens:
            return None
        scores = np.asarray(bm25.get_scores(tokens))
        top = np.argsort(-scores, kind="stable")[:TOP_K]
        for rank, i in enumerate(top, start=1):
            if scores[i] > 0 and _relevant(item, view.texts[i], self.record_ids.get(view.doc_ids[i])):
                return rank
        return None

    def filtered(self, questions: list[dict]) -> dict:
        """Retrieval time with a filter (a source file; a date range), interleaving is not
        needed here: each filter is compared with unfiltered asks of the same questions."""
        from assistant.models import Filters

        cases = {"none": Filters(), "source": Filters(sources=("part-0000.jsonl",)),
                 "since": Filters(since=FILTER_SINCE)}
        times: dict[str, list[float]] = {k: [] for k in cases}
        for q in questions:
            for name, f in cases.items():
                answer = self.assistant.ask(q["question"], [], f, top_k=TOP_K)
                times[name].append(answer.timings_ms.get("retrieve", 0.0))
        return {k: statistics.median(v) for k, v in times.items()}

    def result(self) -> dict:
        n, firsts = len(self.firsts), self.firsts
        res = {
            "questions": n, "open_s": self.open_s, "p50_ms": statistics.median(self.totals),
            "p95_ms": pct(self.totals, 0.95), "mean_ms": statistics.fmean(self.totals),
            "cpu_p50_ms": statistics.median(self.cpus), "cpu_p95_ms": pct(self.cpus, 0.95),
            "parts_p50": {k: statistics.median(v) for k, v in self.parts.items()},
            "parts_mean": {k: statistics.fmean(v) for k, v in self.parts.items()},
            "hit@1": sum(f is not None and f <= 1 for f in firsts) / n,
            "hit@5": sum(f is not None and f <= 5 for f in firsts) / n,
            "hit@10": sum(f is not None and f <= 10 for f in firsts) / n,
            "mrr@10": sum(1.0 / f for f in firsts if f is not None and f <= 10) / n,
            "bm25_hit@5": sum(f is not None and f <= 5 for f in self.bm25_firsts) / n,
            "bm25_mrr@10": sum(1.0 / f for f in self.bm25_firsts if f is not None) / n,
        }
        log(f"  query {self.name}: p50 {res['p50_ms']:.1f} ms (CPU {res['cpu_p50_ms']:.1f} ms), p95 {res['p95_ms']:.1f} ms, "
            f"hit@5 {res['hit@5']:.3f}, MRR@10 {res['mrr@10']:.3f}; "
            f"parts p50 {({k: round(v, 1) for k, v in res['parts_p50'].items()})}")
        return res


def query_all(targets: dict[str, object], questions: list[dict]) -> dict[str, dict]:
    """Warm asks on every index, interleaved question by question (the order rotating), so
    that a change in the machine's load during the run falls on all of them alike."""
    askers = []
    for name, settings in targets.items():
        log(f"query: opening {name}")
        askers.append(Asker(name, settings))
    for a in askers:
        a.warm(questions[:5])
    la0 = loadavg()
    for i, q in enumerate(questions):
        for a in askers[i % len(askers):] + askers[:i % len(askers)]:
            a.ask(q)
    la1 = loadavg()
    out = {}
    for a in askers:
        out[a.name] = {**a.result(), "loadavg": [la0, la1]}
    for a in askers:
        if a.name.startswith("static-"):
            out[a.name]["filtered_retrieve_p50"] = a.filtered(questions[:FILTER_QUESTIONS])
            log(f"  filters {a.name}: retrieve p50 {out[a.name]['filtered_retrieve_p50']}")
    out["_rss_mb"] = memory_mb()["rss"]
    del askers
    return out


# -- Chroma server ----------------------------------------------------------------------
class ChromaServer:
    def __init__(self, path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        path.mkdir(parents=True, exist_ok=True)
        self.logfile = open(path / "server.log", "w")
        self.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=self.logfile, stderr=subprocess.STDOUT,
                                     env=child_env())
        deadline = time.monotonic() + 120
        while not self._heartbeat():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not start: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def _heartbeat(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process (from /proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def server_build(server: "ChromaServer", work: Path, sources: Path) -> tuple[object, dict]:
    settings = settings_for(work / "index-server", sources, "static", chroma_url=server.url, collection="scale_bench")
    log(f"server: building into {server.url}")
    c0 = proc_cpu_s(server.proc.pid)
    build = build_one(settings, "static", RAW_SAMPLE)
    build["server_cpu_s"] = proc_cpu_s(server.proc.pid) - c0
    build["server_peak_rss_mb"] = (status_kb(server.proc.pid, "VmHWM") or 0) / 1024
    return settings, build


# -- briefing serve + concurrent users --------------------------------------------------
class Serve:
    def __init__(self, index_dir: Path, sources: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.ready_at: float | None = None
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(BRIEFING), "--index-dir", str(index_dir), "serve", "--port", str(self.port), "--sources", str(sources)],
            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=index_dir.parent)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "Briefing is running at" in line and self.ready_at is None:
                self.ready_at = time.perf_counter()

    def wait(self, timeout: float = 900) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("briefing serve exited:\n" + "\n".join(self.lines[-40:]))
            if self.ready_at is not None:
                try:
                    with urllib.request.urlopen(self.url + "/", timeout=10) as r:
                        if r.status == 200:
                            return time.perf_counter() - self.started
                except OSError:
                    pass
            time.sleep(0.25)
        raise TimeoutError("briefing serve not ready:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def users_run(url: str, users: int, seconds: float, questions: list[str]) -> dict:
    from gradio_client import Client

    latencies: list[float] = []
    work: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    window = [0.0, 0.0]
    start = threading.Barrier(users + 1, action=lambda: window.__setitem__(0, time.perf_counter()))
    clients = []

    def connect(k: int) -> None:
        clients.append((k, Client(url + "/", verbose=False)))

    connectors = [threading.Thread(target=connect, args=(k,)) for k in range(users)]
    t0 = time.perf_counter()
    for t in connectors:
        t.start()
    for t in connectors:
        t.join()
    connect_s = time.perf_counter() - t0

    def user(k: int, client) -> None:
        start.wait()
        i = k * 7
        while time.perf_counter() < window[0] + seconds:
            q = questions[i % len(questions)]
            i += 1
            s = time.perf_counter()
            try:
                answer = client.predict(q, [], 5, api_name="/ask")
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    failures.append(f"{type(e).__name__}: {e}"[:300])
                continue
            with lock:
                latencies.append(time.perf_counter() - s)
                work.append(float(answer.get("timings_ms", {}).get("total", 0.0)))

    threads = [threading.Thread(target=user, args=kc, daemon=True) for kc in clients]
    for t in threads:
        t.start()
    start.wait()
    for t in threads:
        t.join(timeout=seconds + 600)
    elapsed = time.perf_counter() - window[0]
    n = len(latencies)
    res = {"users": users, "seconds": seconds, "elapsed_s": elapsed, "connect_s": connect_s, "answers": n,
           "errors": len(failures), "error_examples": failures[:3], "throughput": n / elapsed if elapsed else 0.0,
           "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
           "p95_ms": pct(latencies, 0.95) * 1000 if latencies else None,
           "max_ms": max(latencies) * 1000 if latencies else None,
           "work_p50_ms": statistics.median(work) if work else None}
    log(f"  {users} users: {n} answers in {elapsed:.1f} s = {res['throughput']:.1f}/s, "
        f"p50 {res['p50_ms'] or 0:.0f} ms, p95 {res['p95_ms'] or 0:.0f} ms, errors {len(failures)}")
    return res


def serve_step(index_dir: Path, sources: Path, questions: list[dict], users: list[int], seconds: float) -> dict:
    log(f"serve: starting briefing serve on {index_dir.name}")
    srv = Serve(index_dir, sources)
    try:
        start_s = srv.wait()
        pid = srv.proc.pid
        res = {"start_s": start_s, "rss_start_mb": (status_kb(pid, "VmRSS") or 0) / 1024,
               "hwm_start_mb": (status_kb(pid, "VmHWM") or 0) / 1024, "runs": [], "loadavg": [loadavg()]}
        log(f"  ready in {start_s:.1f} s, RSS {res['rss_start_mb']:.0f} MB")
        qs = [q["question"] for q in questions]
        from gradio_client import Client

        warm = Client(srv.url + "/", verbose=False)
        for q in qs[-3:]:  # warm-up: the first asks load the query model and the sentence splitter
            warm.predict(q, [], 5, api_name="/ask")
        for n in users:
            res["runs"].append(users_run(srv.url, n, seconds, qs))
        res["rss_end_mb"] = (status_kb(pid, "VmRSS") or 0) / 1024
        res["peak_rss_mb"] = (status_kb(pid, "VmHWM") or 0) / 1024
        res["loadavg"].append(loadavg())
        log(f"  peak RSS {res['peak_rss_mb']:.0f} MB")
    finally:
        srv.stop()
    return res


# -- the run ----------------------------------------------------------------------------
def run(args, work: Path, results: dict) -> dict:
    steps = set(args.steps)
    questions = dev_sample(args.questions)
    sizes = sorted(args.sizes)
    minilm_sizes = sorted(args.minilm_sizes) if "minilm" in steps else []
    all_sizes = sorted(set(sizes) | set(minilm_sizes) | ({args.server_size} if "server" in steps else set()))
    plans = plan_corpora(all_sizes, questions)
    results["questions"] = len(questions)
    results["corpora"] = {str(s): {k: v for k, v in p.items() if k != "records"} for s, p in plans.items()}
    for key in ("static", "minilm"):
        results.setdefault(key, {})

    def save() -> None:
        (work / "results.json").write_text(json.dumps(results, indent=1, default=str))

    def sources_of(size: int) -> Path:
        path = work / f"sources-{label(size)}"
        write_sources(path, plans[size]["records"])
        return path

    def build(profile: str, size: int, sample: int):
        settings = settings_for(work / f"index-{profile}-{label(size)}", sources_of(size), profile)
        entry = results[profile].setdefault(str(size), {})
        if "build" in steps or profile == "minilm":
            if args.rebuild or not settings.db_path.is_file() or "build" not in entry:
                log(f"{profile} {label(size)}: {plans[size]['docs']} docs (~{plans[size]['estimate']} chunks est.)")
                entry["build"] = build_one(settings, profile, sample, bracket=profile == "minilm")
                entry.pop("lexical", None)
                save()
        if settings.db_path.is_file():
            entry["documents"], entry["chunks"] = index_counts(settings)
        return settings

    server = None
    targets: dict[str, object] = {}
    try:
        # 1. Builds. The server build follows the embedded build of the same corpus at once,
        #    so that both see the same load on the machine.
        for size in sizes:
            settings = build("static", size, RAW_SAMPLE)
            if settings.db_path.is_file():
                targets[f"static-{size}"] = settings
            if "server" in steps and size == args.server_size:
                shutil.rmtree(work / "chroma-server", ignore_errors=True)
                server = ChromaServer(work / "chroma-server")
                s_settings, s_build = server_build(server, work, settings.sources_dir)
                results["server"] = {"size": size, "build": s_build}
                targets["server"] = s_settings
                save()
        for size in minilm_sizes:
            targets[f"minilm-{size}"] = build("minilm", size, MINILM_RAW_SAMPLE)

        # 2. Opening the index: BM25 built on first open, then loaded.
        if "lexical" in steps:
            for size in sizes:
                settings = targets.get(f"static-{size}")
                if settings is not None:
                    log(f"lexical {label(size)}")
                    results["static"][str(size)]["lexical"] = lexical_one(settings)
                    save()

        # 3. Warm queries on every index, interleaved.
        if "query" in steps and targets:
            if "server" in steps and "server" not in targets:
                log("server: no server build this run (its size is not among --sizes); skipped")
            got = query_all(targets, questions)
            results["query_rss_mb"] = got.pop("_rss_mb")
            for name, res in got.items():
                if name == "server":
                    results.setdefault("server", {})["query"] = res
                    res["server_peak_rss_mb"] = (status_kb(server.proc.pid, "VmHWM") or 0) / 1024 if server else None
                else:
                    profile, size = name.split("-")
                    results[profile][size]["query"] = res
            save()
    finally:
        if server is not None:
            server.stop()

    sv = results.get("server")
    if sv and sv.get("build"):
        e = results["static"].get(str(sv["size"]), {})
        if e.get("build"):
            sv["build_ratio"] = sv["build"]["build_rate"] / e["build"]["build_rate"]
            sv["build_cpu_ratio"] = (e["build"]["cpu_s"] / e["build"]["embedded"]) / (
                (sv["build"]["cpu_s"] + sv["build"].get("server_cpu_s", 0.0)) / sv["build"]["embedded"])
        if e.get("query") and sv.get("query"):
            sv["query_p50_ratio"] = sv["query"]["p50_ms"] / e["query"]["p50_ms"]
            sv["dense_p50_ratio"] = sv["query"]["parts_p50"]["retrieve_dense"] / max(
                1e-9, e["query"]["parts_p50"]["retrieve_dense"])

    # 4. briefing serve on the largest static index, with concurrent users.
    if "serve" in steps:
        size = max(sizes)
        index_dir = work / f"index-static-{label(size)}"
        if (index_dir / "briefing.sqlite3").is_file():
            results["serve"] = serve_step(index_dir, work / f"sources-{label(size)}", questions, args.users,
                                          args.user_seconds)
            results["serve"]["size"] = size
            results["serve"]["chunks"] = results["static"].get(str(size), {}).get("chunks")
            save()
    return results


# -- report -----------------------------------------------------------------------------
def _ok(flag: bool | None) -> str:
    return "—" if flag is None else ("yes" if flag else "**no**")


def _ms(v) -> str:
    return "—" if v is None else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _sizes(results: dict, profile: str) -> list[tuple[int, dict]]:
    return sorted(((int(k), v) for k, v in results.get(profile, {}).items()), key=lambda kv: kv[0])


def _target_for(chunks: int) -> float | None:
    """The latency target of the nearest named size (10k or 100k chunks)."""
    for size, target in sorted(LATENCY_TARGETS.items()):
        if 0.8 * size <= chunks <= 1.3 * size:
            return target
    return None


def minilm_extrapolation(results: dict) -> list[dict]:
    """MiniLM at the static sizes it was not measured at: build time from its measured raw
    rate and build ratio; latency = static latency there − static query embedding + MiniLM's."""
    mini = _sizes(results, "minilm")
    stat = _sizes(results, "static")
    if not mini or not stat:
        return []
    m_size, m = mini[-1]
    if "build" not in m or "query" not in m:
        return []
    out = []
    raw, ratio = m["build"]["raw_rate"], m["build"]["ratio"]
    m_embed = m["query"]["parts_p50"]["retrieve_embed_query"]
    measured = {s for s, _ in mini}
    for size, s in stat:
        if size in measured or "query" not in s:
            continue
        chunks = s.get("chunks") or size
        s_embed = s["query"]["parts_p50"]["retrieve_embed_query"]
        out.append({"size": size, "chunks": chunks, "build_s": chunks / (raw * min(ratio, 1.0)),
                    "p50_ms": s["query"]["p50_ms"] - s_embed + m_embed, "p95_ms": s["query"]["p95_ms"] - s_embed + m_embed,
                    "from": m_size})
    return out


def render(results: dict, info: dict, cmd: str) -> str:
    out: list[str] = ["## Scale (`bench/scale_bench.py`)", ""]
    dur = results.get("duration_s")
    out.append(
        f"Measured {info['date']} on {machine_line(info)}. Command: `{cmd}`"
        + (f" ({dur / 60:.1f} min)" if dur else "") + ". 1-minute load average at start / end: "
        + " / ".join(f"{x:.1f}" for x in results.get("loadavg", []) if x is not None)
        + f" on {info['usable_cores']} cores — other jobs shared the machine, so wall-clock numbers are "
        "noisy; ratios are taken within one run and CPU-time ratios are given beside them.")
    out += ["", "Plots: [build](bench-build.png) · [latency](bench-latency.png) · [quality](bench-quality.png) · "
                "[lexical index](bench-lexical.png) · [concurrency](bench-concurrency.png)", ""]

    # corpora
    rows = []
    for size, s in _sizes(results, "static"):
        c = results["corpora"].get(str(size), {})
        rows.append([label(size), f"{s.get('documents', c.get('docs', '?')):,}", f"**{s.get('chunks', 0):,}**",
                     f"{c.get('evidence', 0):,}", f"{c.get('repeats', 0):,}"])
    out += [f"**Corpora** (nested; the evidence docs of {results.get('questions', '?')} evenly spaced dev questions "
            "+ distractors in one fixed shuffled order of all other docs of `articles.jsonl.gz`; the whole file is "
            "~93k chunks at 200 tokens, so the largest corpus **repeats** news articles with distinct ids "
            "(`r2-…`) and a headline marked “(repeat)” — their embedded text differs, so they are embedded, "
            "not re-used; chunk size stays the default 200 tokens, overlap 40):", "",
            markdown_table(["size", "documents", "chunks", "evidence docs", "repeated articles"], rows), ""]

    # build
    rows = []
    for profile in ("static", "minilm"):
        for _size, s in _sizes(results, profile):
            b = s.get("build")
            if not b:
                continue
            st = b["stages"]
            top = sorted(((k, v) for k, v in st.items() if k != "embedding (model)"), key=lambda kv: -kv[1])[:2]
            raw = f"{b['raw_rate']:.1f}" if b["raw_rate"] < 100 else f"{b['raw_rate']:.0f}"
            if b.get("raw_before_rate"):
                raw += f" (before {b['raw_before_rate']:.1f}, after {b['raw_after_rate']:.1f}; {b['raw_texts']:,} texts each)"
            else:
                raw += f" ({b['raw_texts']:,} texts)"
            inb = b.get("in_build_rate")
            rows.append([profile, f"{b['chunks']:,}", f"{b['seconds']:.1f}",
                         f"{b['build_rate']:.1f}" if b["build_rate"] < 100 else f"{b['build_rate']:.0f}",
                         raw, (f"{inb:.1f}" if inb and inb < 100 else f"{inb:.0f}") if inb else "", f"**{b['ratio']:.2f}**",
                         f"{b['ratio_cpu']:.2f}", _ok(b["ratio"] >= RATIO_TARGET),
                         f"{100 * b['embed_share']:.0f} %",
                         "; ".join(f"{k} {100 * v / b['seconds']:.0f} %" for k, v in top),
                         f"{b['rss_before_mb']:.0f} → {b['peak_rss_mb']:.0f}"])
    for e in minilm_extrapolation(results):
        rows.append(["minilm *(extrapolated)*", f"{e['chunks']:,}", f"*{e['build_s']:.0f}* (*{e['build_s'] / 3600:.1f} h*)",
                     "", "", "", "", "", "", "", f"from its {label(e['from'])} ratio and raw rate", ""])
    out += ["**Build throughput against the raw embedder** (fresh index per size, model loaded first; raw = the "
            "same embedder on a random sample of the same embed texts read back from the record, one call; "
            f"target build ÷ raw ≥ {RATIO_TARGET}):", "",
            markdown_table(["profile", "chunks", "build s", "build chunks/s", "raw chunks/s",
                            "model chunks/s inside the build", "build ÷ raw", "÷ by CPU s", "met", "in `embed()`",
                            "largest other stages (share of build)", "RSS MB before → peak"], rows), "",
            "*÷ by CPU s*: raw CPU seconds per chunk ÷ the build's (all threads of this process; less sensitive to "
            "other load). *Model chunks/s inside the build*: chunks ÷ time spent in `embed()` during the build (the "
            "same texts at the same moment). RSS is this benchmark process's (it includes what earlier steps left).", ""]
    big = _sizes(results, "static")
    if big and big[-1][1].get("build"):
        b = big[-1][1]["build"]
        out += [f"Where the {b['chunks']:,}-chunk static build's {b['seconds']:.0f} s go:", "",
                markdown_table(["stage", "seconds", "share"],
                               [[k, f"{v:.1f}", f"{100 * v / b['seconds']:.0f} %"] for k, v in b["stages"].items()]), ""]

    # latency
    rows = []
    for profile in ("static", "minilm"):
        for size, s in _sizes(results, profile):
            q = s.get("query")
            if not q:
                continue
            p = q["parts_p50"]
            target = _target_for(s.get("chunks") or size) if profile == "static" else None
            rows.append([profile, f"{s.get('chunks', size):,}", f"**{_ms(q['p50_ms'])}**", _ms(q["p95_ms"]),
                         _ms(q.get("cpu_p50_ms")), _ms(p["retrieve_embed_query"]), _ms(p["retrieve_dense"]), _ms(p["retrieve_lexical"]),
                         _ms(p["retrieve_fuse"]), _ms(p["retrieve_other"]), _ms(p["answer"]),
                         f"≤ {target:.0f}" if target else "", _ok(q["p50_ms"] <= target) if target else ""])
    for e in minilm_extrapolation(results):
        rows.append(["minilm *(extrapolated)*", f"{e['chunks']:,}", f"*{_ms(e['p50_ms'])}*", f"*{_ms(e['p95_ms'])}*",
                     "", "", "", "", "", "", "", "", ""])
    out += ["**Warm query latency** (`Assistant.ask`, extractive, top_k=10, in process, after 5 warm-up questions; "
            "ms; the parts are medians of `Answer.timings_ms`: `retrieve_embed_query`, `retrieve_dense` (Chroma), "
            "`retrieve_lexical` (BM25), `retrieve_fuse`, the rest of retrieval (condense, filters, snapshot), "
            "`answer` (sentence selection, citations, verification); *CPU p50*: this process's CPU time per ask, "
            "what the ask costs on an idle core):", "",
            markdown_table(["profile", "chunks", "p50", "p95", "CPU p50", "embed query", "dense", "BM25", "fuse",
                            "other retrieve", "answer", "target p50", "met"], rows), ""]
    frows = []
    for size, s in _sizes(results, "static"):
        f = (s.get("query") or {}).get("filtered_retrieve_p50")
        if f:
            frows.append([f"{s.get('chunks', size):,}", _ms(f["none"]), f"**{_ms(f['source'])}**", f"**{_ms(f['since'])}**"])
    if frows:
        out += [f"**Retrieval with filters** (`retrieve` part of `timings_ms`, p50 over {FILTER_QUESTIONS} questions, ms; "
                "*source*: one `.jsonl` file of 1,000 records, `Filters(sources=...)`; *since*: "
                f"`Filters(since=\"{FILTER_SINCE}\")`, which Chroma gets as a `where` clause on `date_key`):", "",
                markdown_table(["chunks", "no filter", "source filter", "date filter"], frows), ""]
    if minilm_extrapolation(results):
        out += ["MiniLM rows in italics are **extrapolated**, not measured: build time = chunks ÷ (its raw rate × "
                "its measured build ratio, capped at 1); latency = the static index's latency at that size − the "
                "static query embedding + MiniLM's measured query embedding (its 384-dimensional vectors make "
                "Chroma's part somewhat slower than the static 256 dimensions).", ""]

    # quality
    rows = []
    for profile in ("static", "minilm"):
        for size, s in _sizes(results, profile):
            q = s.get("query")
            if q:
                rows.append([profile, f"{s.get('chunks', size):,}", f"{q['hit@1']:.3f}", f"**{q['hit@5']:.3f}**",
                             f"{q['hit@10']:.3f}", f"**{q['mrr@10']:.3f}**",
                             f"{q.get('bm25_hit@5', float('nan')):.3f} / {q.get('bm25_mrr@10', float('nan')):.3f}"])
    out += [f"**Retrieval quality against size** (RealTimeQA dev, the same {results.get('questions', '?')} questions "
            "at every size; a hit is a passage of the question's evidence doc or one containing the answer text of "
            "4+ characters):", "", markdown_table(["profile", "chunks", "hit@1", "hit@5", "hit@10", "MRR@10",
                                                    "BM25 alone: hit@5 / MRR@10"], rows), ""]

    # lexical
    rows = []
    for size, s in _sizes(results, "static"):
        lx = s.get("lexical")
        if not lx:
            continue
        f, sc, bm, rb = lx.get("first", {}), lx.get("second", {}), lx.get("bm25", {}), lx.get("rebuild", {})
        rows.append([f"{s.get('chunks', size):,}",
                     f"{f.get('open_s', float('nan')):.2f}", f"{sc.get('open_s', float('nan')):.2f}",
                     f"{rb.get('from_tokens_s', float('nan')):.1f}", f"{rb.get('from_text_s', float('nan')):.1f}",
                     f"{bm.get('load_s', float('nan')):.3f}", f"{bm.get('rss_delta_mb', float('nan')):.0f}",
                     f"{bm.get('arrays_mb', float('nan')):.0f}", f"{lx.get('disk_mb', 0):.0f}",
                     f"{bm.get('get_scores_ms', float('nan')):.1f}",
                     f"{sc.get('rss_after_mb', float('nan')) - sc.get('rss_before_mb', float('nan')):.0f}"])
    out += ["**Lexical index (BM25) and opening the index** (each in a fresh process: the first `Corpus` open after "
            "the build, which wrote BM25; a second open; BM25 built again from the tokens stored in the record — what "
            "the build does after each change — and from the chunk texts, tokenizing all of them; "
            "`bm25s.BM25.load` alone):", "",
            markdown_table(["chunks", "1st open s", "2nd open s", "BM25 from stored tokens s", "BM25 from texts s",
                            "BM25 load s",
                            "BM25 RSS MB", "BM25 arrays MB", "on disk MB", "`get_scores` ms (6 terms)",
                            "whole open RSS MB"], rows), ""]

    # server
    sv = results.get("server")
    if sv and sv.get("build") and sv.get("query") and str(sv["size"]) in results.get("static", {}):
        b, q = sv["build"], sv["query"]
        e = results["static"][str(sv["size"])]
        rows = [["build throughput, server ÷ embedded (wall)", f"**{sv.get('build_ratio', float('nan')):.2f}**",
                 f"{b['build_rate']:.0f} vs {e['build']['build_rate']:.0f} chunks/s; {b['seconds']:.0f} vs "
                 f"{e['build']['seconds']:.0f} s, built one after the other"],
                ["build throughput by CPU, server ÷ embedded", f"{sv.get('build_cpu_ratio', float('nan')):.2f}",
                 f"CPU s per chunk: embedded {1000 * e['build']['cpu_s'] / e['build']['embedded']:.1f} ms; with the server "
                 f"{1000 * b['cpu_s'] / b['embedded']:.1f} ms here + {1000 * b.get('server_cpu_s', 0) / b['embedded']:.1f} ms "
                 "in `chroma run`"],
                ["build ÷ raw embedder, with the server", f"{b['ratio']:.2f}", f"embedded: {e['build']['ratio']:.2f}"],
                ["warm query p50, server ÷ embedded", f"**{sv.get('query_p50_ratio', float('nan')):.2f}**",
                 f"{_ms(q['p50_ms'])} vs {_ms(e['query']['p50_ms'])} ms (p95 {_ms(q['p95_ms'])} vs {_ms(e['query']['p95_ms'])})"],
                ["dense part (Chroma query) p50, server ÷ embedded", f"{sv.get('dense_p50_ratio', float('nan')):.2f}",
                 f"{_ms(q['parts_p50']['retrieve_dense'])} vs {_ms(e['query']['parts_p50']['retrieve_dense'])} ms"],
                ["retrieval quality, server / embedded (hit@5; MRR@10)",
                 f"{q['hit@5']:.3f} / {e['query']['hit@5']:.3f}; {q['mrr@10']:.3f} / {e['query']['mrr@10']:.3f}", ""],
                ["`chroma run` peak RSS", f"{q.get('server_peak_rss_mb') or b.get('server_peak_rss_mb', 0):.0f} MB", ""]]
        out += [f"**Embedded Chroma against a Chroma server** (a real `chroma run --path D --host 127.0.0.1 --port N` on "
                f"this machine, static profile, the {label(sv['size'])} corpus; the two builds ran one after the other and "
                "the queries interleaved with the others above):", "",
                markdown_table(["measure", "ratio / value", "detail"], rows), ""]

    # serve
    se = results.get("serve")
    if se:
        rows = [[r["users"], f"{r['seconds']:.0f}", r["answers"], f"**{r['throughput']:.1f}**", _ms(r["p50_ms"]),
                 f"**{_ms(r['p95_ms'])}**", _ms(r["max_ms"]), _ms(r["work_p50_ms"]), f"**{r['errors']}**"]
                for r in se["runs"]]
        out += [f"**`briefing serve` at {se.get('chunks') or se['size']:,} chunks** (static): usable {se['start_s']:.1f} s "
                f"after start (RSS {se['rss_start_mb']:.0f} MB); **peak RSS {se['peak_rss_mb']:.0f} MB** after all "
                f"the users below (target ≤ {RSS_TARGET_MB} MB: {_ok(se['peak_rss_mb'] <= RSS_TARGET_MB)}). "
                "Concurrent users: threads, each with its own `gradio_client.Client`, asking `/ask` back to back "
                "(questions from the sample) for a fixed time; latency is the client's, server work the answer's "
                "own `timings_ms.total`:", "",
                markdown_table(["users", "seconds", "answers", "answers/s", "p50 ms", "p95 ms", "max ms",
                                "server work p50 ms", "errors"], rows), ""]

    out += ["**Targets**:", "", markdown_table(["target", "measured", "met"], targets(results)), ""]
    found = findings(results)
    if found:
        out += ["**Reading the numbers** (generated from this run):", ""] + [f"- {f}" for f in found] + [""]
    notes = results.get("notes")
    if notes:
        out += [notes, ""]
    return "\n".join(out)


def findings(results: dict) -> list[str]:
    out = []
    st = [(size, s) for size, s in _sizes(results, "static") if s.get("build")]
    if st:
        size, s = st[-1]
        b = s["build"]
        stages = b["stages"]
        read = stages.get("read + clean + chunk (+ BM25 tokens)", stages.get("read + clean + chunk", 0.0))
        chroma = stages.get("Chroma upsert/delete + prune", 0.0)
        out.append(
            f"Static build at {b['chunks']:,} chunks: the model embeds {b['raw_rate']:.0f} chunks/s on its own but is only "
            f"{100 * b['embed_share']:.0f} % of the build; reading + cleaning + chunking take {100 * read / b['seconds']:.0f} % "
            f"and Chroma writes {100 * chroma / b['seconds']:.0f} %. With an embedder this fast, build ÷ raw ≥ 0.85 would need "
            "the rest of the build to be nearly free (or run beside the embedding on the other core); it is missed at "
            + ("every size" if all(x[1]["build"]["ratio"] < RATIO_TARGET for x in st) else "some sizes") + ". Chroma is given vectors and metadata only (the passage text stays in the record): with the texts, "
            "its full-text index doubled its write cost (10k chunks: 20.3 s of CPU with them, 9.4 s without, measured "
            "apart from this run).")
    mb = [(size, s) for size, s in _sizes(results, "minilm") if s.get("build")]
    if mb:
        size, s = mb[-1]
        b = s["build"]
        big = max((s.get("chunks") or size for size, s in _sizes(results, "static")), default=0)
        out.append(f"MiniLM build at {b['chunks']:,} chunks: build ÷ raw {b['ratio']:.2f} — the embedding is "
                   f"{100 * b['embed_share']:.0f} % of the build, so the rest of the pipeline hardly shows; its raw rate here "
                   f"was {b['raw_rate']:.1f} chunks/s (about 15 on 2 idle cores, DESIGN.md), so {big:,} chunks would take "
                   f"about {big / 15 / 3600:.1f} h on an idle machine and {big / b['raw_rate'] / 3600:.1f} h at this run's rate "
                   "(extrapolated, not measured).")
    sq = [(s.get("chunks", size), s["query"]) for size, s in _sizes(results, "static") if s.get("query")]
    if len(sq) >= 2 and all("bm25_hit@5" in q for _, q in sq):
        (c0, q0), (c1, q1) = sq[0], sq[-1]
        gain = statistics.fmean(q["hit@5"] - q["bm25_hit@5"] for _, q in sq)
        mq = [(s.get("chunks", size), s["query"]) for size, s in _sizes(results, "minilm") if s.get("query")]
        m = (f"; MiniLM, measured at {mq[-1][0]:,} chunks, reaches hit@5 {mq[-1][1]['hit@5']:.3f} there against "
             f"{q0['hit@5']:.3f} for static at {c0:,}") if mq else ""
        out.append(f"Quality: with the static profile hit@5 falls from {q0['hit@5']:.3f} at {c0:,} chunks to "
                   f"{q1['hit@5']:.3f} at {c1:,} (MRR@10 {q0['mrr@10']:.3f} → {q1['mrr@10']:.3f}). BM25 alone falls the "
                   f"same way ({q0['bm25_hit@5']:.3f} → {q1['bm25_hit@5']:.3f}); the static dense side adds only "
                   f"{gain:+.3f} hit@5 on average, so static retrieval is essentially BM25, which loses precision as "
                   "100× more articles and all 4,961 quiz passages of other weeks (the closest distractors) compete"
                   f"{m}. Large archives that need quality need the MiniLM profile (its build time above).")
    if sq:
        c, q = sq[-1]
        p = q["parts_mean"]
        retrieve = sum(p[k] for k in ("retrieve_embed_query", "retrieve_dense", "retrieve_lexical", "retrieve_fuse",
                                      "retrieve_other"))
        out.append(f"Query at {c:,} chunks: retrieval (embed, Chroma, BM25 over all chunks, fusion) takes "
                   f"{retrieve:.1f} ms of a {q['mean_ms']:.0f} ms mean ask; composing the extractive answer (sentence "
                   f"splitting and scoring of the top passages, citations) takes {p['answer']:.0f} ms and does not grow "
                   "with the corpus. BM25 scores every chunk per query with bm25s's sparse matrix "
                   f"({p['retrieve_lexical']:.1f} ms): no Python loop over the chunks.")
    fq = [(s.get("chunks", size), s["query"]["filtered_retrieve_p50"]) for size, s in _sizes(results, "static")
          if (s.get("query") or {}).get("filtered_retrieve_p50")]
    if fq:
        c, f = fq[-1]
        out.append(f"Filters at {c:,} chunks: retrieval takes {f['source']:.0f} ms with a source filter and "
                   f"{f['since']:.0f} ms with a date filter, against {f['none']:.0f} ms without. Filters become a row mask "
                   "(tested once per distinct source or publisher, `Corpus.mask`); one that keeps at least "
                   "20 % of the chunks is applied to a wider unfiltered Chroma query, a narrower one goes to Chroma as "
                   "a `where` clause, which Chroma evaluates against every chunk's metadata before the vector search.")
    lx = [(s.get("chunks", size), s["lexical"]) for size, s in _sizes(results, "static") if s.get("lexical")]
    if lx:
        c, lex = lx[-1]
        r = lex.get("rebuild") or {}
        if "from_tokens_s" in r:
            out.append(f"BM25 is written by the build for each new generation: {r['from_tokens_s']:.1f} s at {c:,} chunks "
                       f"from the tokens stored in the record, against {r['from_text_s']:.1f} s tokenizing every chunk "
                       "anew (what the first question after an index used to wait for); only new chunks are tokenized, "
                       f"when they are read. The first open after the build loads it: {lex['first'].get('open_s', 0):.1f} s.")
    se = results.get("serve")
    if se and se.get("runs"):
        best = max(se["runs"], key=lambda r: r["throughput"])
        errs = sum(r["errors"] for r in se["runs"])
        out.append(f"`briefing serve`: throughput peaks at {best['throughput']:.1f} answers/s ({best['users']} users); "
                   "more users queue (Gradio runs at most 4 asks at once; each ask is CPU-bound Python on 2 cores), "
                   "so latency grows with the number of users"
                   + (" while nothing fails." if errs == 0 else f"; {errs} asks failed: "
                      + "; ".join(sorted({e for r in se["runs"] for e in r.get("error_examples", [])})) + "."))
    return out


def targets(results: dict) -> list[list[str]]:
    rows = []
    for profile in ("static", "minilm"):
        for _size, s in _sizes(results, profile):
            b = s.get("build")
            if b:
                rows.append([f"build ÷ raw ≥ {RATIO_TARGET}, {profile}, {b['chunks']:,} chunks", f"{b['ratio']:.2f}",
                             _ok(b["ratio"] >= RATIO_TARGET)])
    for size, s in _sizes(results, "static"):
        q = s.get("query")
        t = _target_for(s.get("chunks") or size)
        if q and t:
            cpu = q.get("cpu_p50_ms")
            rows.append([f"warm p50 ≤ {t:.0f} ms at {s.get('chunks', size):,} chunks (static)",
                         f"{_ms(q['p50_ms'])} ms wall" + (f" ({_ms(cpu)} ms CPU)" if cpu is not None else ""),
                         _ok(q["p50_ms"] <= t) + (f" (CPU: {_ok(cpu <= t)})" if cpu is not None else "")])
    for e in minilm_extrapolation(results):
        t = _target_for(e["chunks"])
        if t:
            rows.append([f"warm p50 ≤ {t:.0f} ms at {e['chunks']:,} chunks (minilm, *extrapolated*)",
                         f"*{_ms(e['p50_ms'])} ms*", _ok(e["p50_ms"] <= t)])
    se = results.get("serve")
    if se:
        rows.append([f"`briefing serve` peak RSS ≤ {RSS_TARGET_MB} MB at {se.get('chunks') or se['size']:,} chunks",
                     f"{se['peak_rss_mb']:.0f} MB", _ok(se["peak_rss_mb"] <= RSS_TARGET_MB)])
        errs = sum(r["errors"] for r in se["runs"])
        rows.append(["zero errors with " + ", ".join(str(r["users"]) for r in se["runs"]) + " users", f"{errs}", _ok(errs == 0)])
    st = _sizes(results, "static")
    qs = [(s.get("chunks", size), s["query"]) for size, s in st if s.get("query")]
    if len(qs) >= 2:
        (c0, q0), (c1, q1) = qs[0], qs[-1]
        rows.append([f"quality does not collapse, static ({c0:,} → {c1:,} chunks; our criterion: hit@5 keeps ≥ 75 % "
                     "of its value)",
                     f"hit@5 {q0['hit@5']:.3f} → {q1['hit@5']:.3f}, MRR@10 {q0['mrr@10']:.3f} → {q1['mrr@10']:.3f}",
                     _ok(q1["hit@5"] >= 0.75 * q0["hit@5"])])
    return rows


# -- plots ------------------------------------------------------------------------------
def plots(results: dict, info: dict) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    DOCS.mkdir(exist_ok=True)
    stamp = f"{info['date']} · {info['usable_cores']} cores · load {results.get('loadavg', [0])[0] or 0:.1f}"
    made: list[Path] = []
    static = [(s.get("chunks") or size, s) for size, s in _sizes(results, "static")]
    mini = [(s.get("chunks") or size, s) for size, s in _sizes(results, "minilm")]
    extra = minilm_extrapolation(results)

    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 1 else f"{v:g}")

    def fmt(ax, y: bool = False) -> None:
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
        if y:
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))

    def save(fig, name: str) -> None:
        fig.text(0.99, 0.005, stamp, ha="right", va="bottom", fontsize=7, color="gray")
        fig.tight_layout(rect=(0, 0.02, 1, 1))
        path = DOCS / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)

    # build
    sb = [(c, s["build"]) for c, s in static if s.get("build")]
    mb = [(c, s["build"]) for c, s in mini if s.get("build")]
    if sb or mb:
        fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.6))
        for rows, name, color in ((sb, "static", "tab:blue"), (mb, "minilm", "tab:orange")):
            if rows:
                xs = [c for c, _ in rows]
                a1.plot(xs, [b["build_rate"] for _, b in rows], "o-", color=color, label=f"{name}: build")
                a1.plot(xs, [b["raw_rate"] for _, b in rows], "s--", color=color, alpha=0.6, label=f"{name}: raw embedder")
                a2.plot(xs, [b["ratio"] for _, b in rows], "o-", color=color, label=f"{name} (wall)")
                a2.plot(xs, [b["ratio_cpu"] for _, b in rows], "x:", color=color, alpha=0.7, label=f"{name} (CPU s)")
        if extra:
            a1.plot([e["chunks"] for e in extra], [e["chunks"] / e["build_s"] for e in extra], "o:", color="tab:orange",
                    mfc="none", label="minilm: build (extrapolated)")
        a1.set_xscale("log"), a1.set_yscale("log")
        a1.set_xlabel("chunks"), a1.set_ylabel("chunks / s"), a1.set_title("Build vs raw embedder throughput")
        a1.legend(fontsize=8), a1.grid(alpha=0.3, which="both"), fmt(a1, y=True)
        a2.axhline(RATIO_TARGET, color="green", ls="--", lw=1, label=f"target {RATIO_TARGET}")
        a2.set_xscale("log"), a2.set_ylim(0, max(1.2, max([b["ratio"] for _, b in sb + mb] or [1]) * 1.1))
        a2.set_xlabel("chunks"), a2.set_ylabel("build ÷ raw"), a2.set_title("Build ÷ raw embedder throughput")
        a2.legend(fontsize=8), a2.grid(alpha=0.3), fmt(a2)
        if sb:
            stages = list(sb[0][1]["stages"])
            bottom = [0.0] * len(sb)
            cmap = plt.get_cmap("tab10")
            xl = [f"static\n{c:,}" for c, _ in sb] + [f"minilm\n{c:,}" for c, _ in mb]
            allb = [b for _, b in sb] + [b for _, b in mb]
            bottom = [0.0] * len(allb)
            for i, st in enumerate(stages):
                vals = [100 * b["stages"][st] / b["seconds"] for b in allb]
                a3.bar(range(len(allb)), vals, bottom=bottom, color=cmap(i % 10), label=st)
                bottom = [x + y for x, y in zip(bottom, vals)]
            a3.set_xticks(range(len(allb)), xl, fontsize=8)
            a3.set_ylabel("% of build wall time"), a3.set_title("Where build time goes")
            a3.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        save(fig, "bench-build.png")

    # latency
    sq = [(c, s["query"]) for c, s in static if s.get("query")]
    mq = [(c, s["query"]) for c, s in mini if s.get("query")]
    if sq:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.6))
        xs = [c for c, _ in sq]
        a1.plot(xs, [q["p50_ms"] for _, q in sq], "o-", color="tab:blue", label="static p50")
        a1.plot(xs, [q["p95_ms"] for _, q in sq], "o--", color="tab:blue", alpha=0.6, label="static p95")
        if mq:
            a1.plot([c for c, _ in mq], [q["p50_ms"] for _, q in mq], "s-", color="tab:orange", label="minilm p50")
            a1.plot([c for c, _ in mq], [q["p95_ms"] for _, q in mq], "s--", color="tab:orange", alpha=0.6, label="minilm p95")
        if extra:
            a1.plot([e["chunks"] for e in extra], [e["p50_ms"] for e in extra], "s:", color="tab:orange", mfc="none",
                    label="minilm p50 (extrapolated)")
        fsq = [(c, q["filtered_retrieve_p50"]) for c, q in sq if q.get("filtered_retrieve_p50")]
        if fsq:
            a1.plot([c for c, _ in fsq], [f["source"] for _, f in fsq], "^:", color="tab:purple",
                    label="static retrieve p50, source filter")
            a1.plot([c for c, _ in fsq], [f["since"] for _, f in fsq], "v:", color="tab:brown",
                    label="static retrieve p50, date filter")
        for size, t in LATENCY_TARGETS.items():
            a1.plot([size], [t], marker="v", color="green", ms=10, ls="none")
            a1.annotate(f"target p50 ≤ {t:.0f} ms", (size, t), textcoords="offset points", xytext=(-110, 4), fontsize=8,
                        color="green")
        a1.set_xscale("log"), a1.set_xlabel("chunks"), a1.set_ylabel("ms"), a1.set_ylim(bottom=0)
        a1.set_title("Warm ask latency (extractive)"), a1.legend(fontsize=8), a1.grid(alpha=0.3), fmt(a1)
        parts = ["retrieve_embed_query", "retrieve_dense", "retrieve_lexical", "retrieve_fuse", "retrieve_other", "answer"]
        names = ["embed query", "dense (Chroma)", "BM25", "fuse", "other retrieve", "answer"]
        rows = [(f"static\n{c:,}", q) for c, q in sq] + [(f"minilm\n{c:,}", q) for c, q in mq]
        bottom = [0.0] * len(rows)
        cmap = plt.get_cmap("tab10")
        for i, (p, nm) in enumerate(zip(parts, names)):
            vals = [q["parts_mean"][p] for _, q in rows]
            a2.bar(range(len(rows)), vals, bottom=bottom, color=cmap(i), label=nm)
            bottom = [x + y for x, y in zip(bottom, vals)]
        a2.set_xticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
        a2.set_ylabel("ms (mean per ask)"), a2.set_title("Where query time goes")
        a2.legend(fontsize=8)
        save(fig, "bench-latency.png")

        fig, ax = plt.subplots(figsize=(7, 4.4))
        for rows_, name, color in ((sq, "static", "tab:blue"), (mq, "minilm", "tab:orange")):
            if rows_:
                xs = [c for c, _ in rows_]
                ax.plot(xs, [q["hit@5"] for _, q in rows_], "o-", color=color, label=f"{name} hit@5")
                ax.plot(xs, [q["mrr@10"] for _, q in rows_], "s--", color=color, label=f"{name} MRR@10")
                if name == "static" and all("bm25_hit@5" in q for _, q in rows_):
                    ax.plot(xs, [q["bm25_hit@5"] for _, q in rows_], "^:", color="gray", label="BM25 alone hit@5")
        ax.set_xscale("log"), ax.set_ylim(0, 1), ax.set_xlabel("chunks"), ax.grid(alpha=0.3)
        ax.set_title(f"RealTimeQA dev retrieval vs corpus size ({results.get('questions')} questions)")
        ax.legend(fontsize=8), fmt(ax)
        save(fig, "bench-quality.png")

    # lexical
    sl = [(c, s["lexical"]) for c, s in static if s.get("lexical") and "bm25" in s["lexical"]]
    if sl:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4))
        xs = [c for c, _ in sl]
        a1.plot(xs, [lx["bm25"]["rss_delta_mb"] for _, lx in sl], "o-", label="BM25 RSS after load")
        a1.plot(xs, [lx["bm25"]["arrays_mb"] for _, lx in sl], "s--", label="BM25 score arrays")
        a1.plot(xs, [lx["disk_mb"] for _, lx in sl], "^:", label="BM25 on disk")
        a1.plot(xs, [lx["second"]["rss_after_mb"] - lx["second"]["rss_before_mb"] for _, lx in sl], "d-",
                label="whole index open (chunk table, BM25, Chroma, model)")
        a1.set_xscale("log"), a1.set_yscale("log"), a1.set_xlabel("chunks"), a1.set_ylabel("MB")
        a1.set_title("Memory"), a1.legend(fontsize=8), a1.grid(alpha=0.3, which="both"), fmt(a1, y=True)
        a2.plot(xs, [lx.get("rebuild", {}).get("from_text_s", float("nan")) for _, lx in sl], "o:",
                label="BM25 from texts (tokenize all; was: first open)")
        a2.plot(xs, [lx.get("rebuild", {}).get("from_tokens_s", float("nan")) for _, lx in sl], "o-",
                label="BM25 from stored tokens (in the build)")
        a2.plot(xs, [lx["bm25"]["load_s"] for _, lx in sl], "s--", label="BM25 load (bm25s)")
        a2.plot(xs, [lx["second"]["open_s"] for _, lx in sl], "d-", label="index open (persisted BM25)")
        a2.set_xscale("log"), a2.set_yscale("log"), a2.set_xlabel("chunks"), a2.set_ylabel("seconds")
        a2.set_title("Lexical index build / load time"), a2.legend(fontsize=8), a2.grid(alpha=0.3, which="both"), fmt(a2)
        save(fig, "bench-lexical.png")

    # concurrency
    se = results.get("serve")
    if se and se.get("runs"):
        runs = se["runs"]
        fig, a1 = plt.subplots(figsize=(7.5, 4.4))
        xs = [r["users"] for r in runs]
        a1.bar([str(x) for x in xs], [r["throughput"] for r in runs], color="tab:blue", alpha=0.7, label="answers/s")
        a1.set_xlabel("concurrent users"), a1.set_ylabel("answers / s", color="tab:blue")
        a2 = a1.twinx()
        a2.plot([str(x) for x in xs], [r["p95_ms"] or 0 for r in runs], "o-", color="tab:red", label="p95 ms")
        a2.plot([str(x) for x in xs], [r["p50_ms"] or 0 for r in runs], "s--", color="tab:orange", label="p50 ms")
        a2.set_ylabel("latency ms", color="tab:red"), a2.set_ylim(bottom=0)
        errs = sum(r["errors"] for r in runs)
        a1.set_title(f"briefing serve, {se.get('chunks') or se['size']:,} chunks: {errs} errors, "
                     f"peak RSS {se['peak_rss_mb']:.0f} MB")
        h1, l1 = a1.get_legend_handles_labels()
        h2, l2 = a2.get_legend_handles_labels()
        a1.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
        save(fig, "bench-concurrency.png")
    return made


# -- main -------------------------------------------------------------------------------
def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=lambda s: [x for x in s.split(",") if x], default=list(STEPS),
                    help=f"comma-separated, from {','.join(STEPS)} (default: all)")
    ap.add_argument("--sizes", type=_ints, default=[1000, 10_000, 100_000], help="static corpus sizes (chunks)")
    ap.add_argument("--minilm-sizes", type=_ints, default=[1000], help="sizes measured with MiniLM (others extrapolated)")
    ap.add_argument("--questions", type=int, default=150, help="dev questions (evenly spaced)")
    ap.add_argument("--users", type=_ints, default=[1, 8, 32], help="concurrent users against briefing serve")
    ap.add_argument("--user-seconds", type=float, default=12, help="seconds of load per user count")
    ap.add_argument("--server-size", type=int, default=10_000, help="corpus size for the Chroma server comparison")
    ap.add_argument("--work-dir", type=Path, default=None, help="keep sources, indexes and results here (reused)")
    ap.add_argument("--rebuild", action="store_true", help="with --work-dir: build the indexes again")
    ap.add_argument("--from-json", type=Path, default=None, help="only render these results (no measurement)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--no-write", action="store_true", help="leave docs/BENCHMARKS.md alone")
    ap.add_argument("--no-plots", action="store_true", help="do not write docs/bench-*.png")
    args = ap.parse_args(argv)
    bad = set(args.steps) - set(STEPS)
    if bad:
        ap.error(f"unknown steps {sorted(bad)}; choose from {','.join(STEPS)}")

    info = machine_info()
    cmd = ".venv/bin/python -m bench.scale_bench" + ("" if argv is None and len(sys.argv) == 1 else
                                                     " " + " ".join(argv if argv is not None else sys.argv[1:]))
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        info = results.get("info", info)
        cmd = results.get("cmd", cmd)
    else:
        started = time.perf_counter()
        la = loadavg()

        def go(work: Path) -> dict:
            prev = work / "results.json"
            results = json.loads(prev.read_text()) if prev.is_file() else {}
            results["loadavg"] = [la]
            out = run(args, work, results)
            out["loadavg"].append(loadavg())
            return out

        if args.work_dir:
            work = args.work_dir.resolve()
            if work.is_relative_to(REPO):
                raise SystemExit("--work-dir must be outside the repository (the data must not land in it)")
            work.mkdir(parents=True, exist_ok=True)
            results = go(work)
        else:
            with temp_dir("briefing-scale-") as work:
                results = go(work)
        results["duration_s"] = time.perf_counter() - started
        results["info"], results["cmd"] = info, cmd
        if args.work_dir:
            (args.work_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    section = render(results, info, cmd)
    print(section)
    if not args.no_plots:
        for path in plots(results, info):
            log(f"wrote {path.relative_to(REPO)}")
    if not args.no_write:
        path = update_section("scale", section, info=info)
        log(f"wrote section scale of {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.exit(main())
