"""Index build benchmark: throughput against the raw embedder, incremental re-runs, memory.

    .venv/bin/python -m bench.build_bench [--articles N] [--profile minilm|static|both]
                                          [--no-cprofile] [--keep] [--no-write] [--json FILE]

For each embedder profile (each in its own process), on a slice of RealTimeQA news articles (``a-`` ids, in file order;
default 200 for minilm, 2,000 for static), in one process:

1. **Raw embedder throughput** on exactly the texts the build will embed: the slice is read
   and chunked with the build's own reader and chunker, the unique ``embed_text`` values
   (the build de-duplicates by the same key) are embedded in one ``embed()`` call by the
   same embedder object, after a warm-up call so model loading is excluded; once before
   and once after the full build, averaged (other load on the machine drifts).
2. **Full build** into a fresh index directory, passing that loaded embedder (model load is
   reported separately). Ratio = build chunks/s ÷ raw chunks/s (target ≥ 0.85). The build's
   own progress callback and a timing wrapper around the embedder split its time into stages.
3. **Re-run with no changes** (three times, median; and once in a fresh process with its
   imports): time ÷ full build time (target ≤ 1 %).
4. **One article changed**: one paragraph inserted in the middle of the median-sized article
   (by chunk count), its file rewritten, the build re-run. Target: ≤ 2 × (time to embed all
   of that article's chunks, warm, median of 3) + 1 s. Measured in three layouts: one ``.txt``
   file per article (the main layout, used for 1–3); the article's group of 50 articles as
   one ``.jsonl`` file (the rest still ``.txt``); and one ``.jsonl`` collection holding the
   whole slice. The layouts are switched in the same index; stored embeddings are re-used
   (the record keys them by embedded text), so those builds embed almost nothing.
5. **Peak RSS** of the process during the full build (VmHWM reset just before it, so the
   number includes the loaded model but not the raw-embedding phase).

6. **Hot spots**: the switch of 50 articles to one ``.jsonl`` (it reads, chunks and stores them
   again but embeds almost nothing) runs under cProfile (``--no-cprofile`` to skip).

Prints a table and replaces the ``build`` and ``build-<profile>`` sections of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    REPO,
    article_txt,
    articles_jsonl,
    cpu_seconds,
    edit_text,
    load_articles,
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

DEFAULT_ARTICLES = {"minilm": 200, "static": 2000}
PROFILES = ("minilm", "static")
RATIO_TARGET = 0.85
RERUN_TARGET = 0.01
PER_FILE = 50


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class TimedEmbedder:
    """Delegates to the real embedder and adds up the time spent inside ``embed``."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = 0.0
        self.texts = 0
        self.calls = 0

    def reset(self) -> None:
        self.seconds, self.texts, self.calls = 0.0, 0, 0

    def embed(self, texts):
        t0 = time.perf_counter()
        out = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        self.calls += 1
        return out


class StageClock:
    """A build progress callback that notes when each stage was first and last reported."""

    def __init__(self):
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now


def _stages(t0: float, t1: float, clock: StageClock, model_s: float) -> dict[str, float]:
    """Split one build's wall time using its progress reports (see build._run)."""
    scan_end = clock.last.get("scan", t0)
    read_end = clock.last.get("read", scan_end)
    embed_start = clock.first.get("embed", read_end)
    embed_end = clock.last.get("embed", embed_start)
    store_start = clock.first.get("store", embed_end)
    store_end = clock.last.get("store", store_start)
    lexical_start = clock.first.get("lexical", store_end)
    lexical_end = clock.last.get("lexical", lexical_start)
    return {
        "open + reconcile + scan/hash": scan_end - t0,
        "read + clean + chunk (+ BM25 tokens)": read_end - scan_end,
        "embed keys + record lookup": embed_start - read_end,
        "embedding (model)": model_s,
        "embedding bookkeeping (SQLite writes)": max(0.0, embed_end - embed_start - model_s),
        "record transaction (SQLite)": store_start - embed_end,
        "Chroma upsert/delete + prune": store_end - store_start,
        "BM25 index (from stored tokens)": lexical_end - lexical_start,
        "close + rest": t1 - store_end - (lexical_end - lexical_start),
    }


def _settings(index_dir: Path, sources: Path, profile: str):
    from index_build.core.settings import load_settings

    return load_settings(environ={}, index_dir=index_dir, sources_dir=sources, embedder=profile)


def prepare(settings, root: Path) -> dict:
    """Read and chunk the sources exactly as the build does; the unique embed texts in the
    order the build embeds them."""
    from index_build.chunk import chunk_document
    from index_build.read import read_source
    from index_build.sources import scan_sources

    files = scan_sources(root, [])
    max_bytes = int(settings.max_source_mb * 1024 * 1024)
    c0, t0 = cpu_seconds(), time.perf_counter()
    docs_by_source = {}
    for path in files:
        docs_by_source[path.relative_to(root).as_posix()] = read_source(path, root, max_bytes, [])
    c1, t1 = cpu_seconds(), time.perf_counter()
    chunks_by_source = {
        source: [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]
        for source, docs in docs_by_source.items()
    }
    c2, t2 = cpu_seconds(), time.perf_counter()
    texts = list(dict.fromkeys(c.embed_text for chunks in chunks_by_source.values() for c in chunks))
    return {
        "files": len(files),
        "documents": sum(len(d) for d in docs_by_source.values()),
        "chunks": sum(len(c) for c in chunks_by_source.values()),
        "chunks_by_source": {s: len(c) for s, c in chunks_by_source.items()},
        "texts": texts,
        "read_s": t1 - t0,
        "chunk_s": t2 - t1,
        "read_cpu_s": c1 - c0,
        "chunk_cpu_s": c2 - c1,
    }


def _build(settings, embedder: TimedEmbedder, profiler: cProfile.Profile | None = None) -> dict:
    from index_build.build import build_index

    clock = StageClock()
    embedder.reset()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    report = build_index(settings, settings.sources_dir, embedder=embedder, progress=clock)
    if profiler:
        profiler.disable()
    t1 = time.perf_counter()
    return {
        "seconds": t1 - t0, "cpu_s": cpu_seconds() - c0, "report": report.as_json(),
        "model_s": embedder.seconds, "stages": _stages(t0, t1, clock, embedder.seconds),
    }


def _fresh_process_rerun(settings, profile: str) -> dict:
    """A no-change build in a new interpreter: what `briefing index` costs with its imports."""
    script = (
        "import json, resource, sys, time\n"
        "t0 = time.perf_counter()\n"
        "from index_build.core.settings import load_settings\n"
        "from index_build.build import build_index\n"
        "s = load_settings(environ={}, index_dir=sys.argv[1], sources_dir=sys.argv[2], embedder=sys.argv[3])\n"
        "t1 = time.perf_counter()\n"
        "r = build_index(s, s.sources_dir)\n"
        "print(json.dumps({'imports_s': t1 - t0, 'build_s': r.seconds, 'embedded': r.embedded,\n"
        "  'unchanged': r.unchanged, 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script, str(settings.index_dir), str(settings.sources_dir), profile],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:] or ["failed"], "wall_s": wall}
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall_s"] = wall
    return data


def _embed_time(embedder, texts: list[str], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        embedder.embed(texts)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _article_chunks(settings, root: Path, path: Path, record_id: str | None = None) -> list[str]:
    from index_build.chunk import chunk_document
    from index_build.read import read_source

    docs = read_source(path, root, int(settings.max_source_mb * 1024 * 1024), [])
    if record_id is not None:
        docs = [d for d in docs if d.record_id == record_id]
    return [c.embed_text for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]


def _one_change(settings, embedder: TimedEmbedder, root: Path, path: Path, new_content: str,
                record_id: str | None, layout: str) -> dict:
    path.write_text(new_content, encoding="utf-8")
    texts = _article_chunks(settings, root, path, record_id)
    embed_s = _embed_time(embedder.inner, texts)
    result = _build(settings, embedder)
    target = 2 * embed_s + 1.0
    rep = result["report"]
    return {
        "layout": layout, "seconds": result["seconds"], "article_chunks": len(texts),
        "article_embed_s": embed_s, "target_s": target, "pass": result["seconds"] <= target,
        "embedded": rep["embedded"], "updated": rep["updated"], "stages": result["stages"],
    }


def _hot_spots(profiler: cProfile.Profile, limit: int = 12) -> tuple[list[list], list[list]]:
    """(cumulative time of the build's own steps, top functions by own time)."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    steps = {
        ("sources.py", "hash_file"): "hash sources", ("sources.py", "scan_sources"): "scan sources",
        ("readers.py", "read_source"): "read_source (decode, repair, clean)",
        ("decode.py", "repair_text"): "  of which repair_text (ftfy + table)",
        ("chunk.py", "chunk_document"): "chunk_document",
        ("chunk.py", "sentence_spans"): "  of which sentence_spans (Punkt)",
        ("chunk.py", "count_tokens"): "  of which count_tokens (tiktoken)",
        ("models.py", "of"): "  of which Chunk.of (ids, embed text)",
        ("record.py", "missing_embeddings"): "record.missing_embeddings",
        ("bench/build_bench.py", "embed"): "embedder.embed",
        ("record.py", "put_embeddings"): "record.put_embeddings",
        ("record.py", "replace_source"): "record.replace_source",
        ("record.py", "remove_source"): "record.remove_source",
        ("record.py", "chunks_with_meta"): "record.chunks_with_meta",
        ("record.py", "get_embeddings"): "record.get_embeddings",
        ("vectors.py", "upsert"): "Chroma upsert",
        ("vectors.py", "delete"): "Chroma delete",
        ("record.py", "prune_embeddings"): "record.prune_embeddings",
        ("build.py", "open_index"): "open_index (SQLite + Chroma)",
        ("build.py", "reconcile"): "reconcile",
    }
    found: dict[str, list] = {}
    for (filename, _line, func), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for (suffix, name), label in steps.items():
            if func == name and filename.endswith(suffix):
                row = found.setdefault(label, [label, 0, 0.0])
                row[1] += nc
                row[2] += ct
    step_rows = [[r[0], r[1], f"{r[2]:.2f}"] for label in steps.values() if (r := found.get(label))]
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:limit]  # type: ignore[attr-defined]
    top_rows = [
        [f"`{Path(f).name}:{ln} {fn}`", nc, f"{tt:.2f}", f"{ct:.2f}"] for (f, ln, fn), (cc, nc, tt, ct, _c) in top
    ]
    return step_rows, top_rows


def run_profile(profile: str, n_articles: int, work: Path, use_cprofile: bool = False) -> dict:
    from index_build.embed import make_embedder

    res: dict = {"profile": profile, "articles": n_articles, "load_start": loadavg()}
    recs = load_articles(n_articles)
    res["articles"] = len(recs)
    src, idx = work / "sources", work / "index"
    where = write_slice(src, recs, layout="txt")
    settings = _settings(idx, src, profile)
    log(f"{profile}: {len(recs)} articles as .txt files in {src}")

    prep = prepare(settings, src)
    texts = prep.pop("texts")
    per_source = prep.pop("chunks_by_source")
    res["prep"] = prep
    res["unique_texts"] = len(texts)
    log(f"{profile}: read {prep['read_s']:.1f} s, chunked {prep['chunk_s']:.1f} s → {prep['chunks']} chunks")

    # Warm-up (model load excluded from the raw and build timings; reported on its own).
    embedder = make_embedder(settings.embedder, settings.embed_batch_size, settings.embed_runtime)
    t0 = time.perf_counter()
    embedder.embed(texts[:8])
    res["load_s"] = time.perf_counter() - t0
    log(f"{profile}: model loaded + warm-up in {res['load_s']:.1f} s; raw embedding {len(texts)} texts")

    def raw() -> tuple[float, float]:
        c0, t0 = cpu_seconds(), time.perf_counter()
        vectors = embedder.embed(texts)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert len(vectors) == len(texts)
        return wall, cpu

    # Raw throughput is measured before and after the full build and averaged, so a change
    # in other load on the machine during the run skews the ratio less.
    res["raw_before_s"], res["raw_before_cpu_s"] = raw()
    log(f"{profile}: raw {len(texts) / res['raw_before_s']:.1f} chunks/s; full build")

    timed = TimedEmbedder(embedder)
    res["rss_before_mb"] = memory_mb()["rss"]
    res["peak_reset"] = reset_peak_rss()
    full = _build(settings, timed)
    res["peak_rss_mb"] = memory_mb()["peak"]
    res["full"] = full
    rep = full["report"]
    log(f"{profile}: build {full['seconds']:.1f} s, {rep['embedded'] / full['seconds']:.1f} chunks/s; raw again")

    res["raw_after_s"], res["raw_after_cpu_s"] = raw()
    res["raw_s"] = (res["raw_before_s"] + res["raw_after_s"]) / 2
    res["raw_cpu_s"] = (res["raw_before_cpu_s"] + res["raw_after_cpu_s"]) / 2
    res["raw_rate"] = len(texts) / res["raw_s"]
    res["build_rate"] = rep["embedded"] / full["seconds"]
    res["ratio"] = res["build_rate"] / res["raw_rate"]
    res["ratio_with_load"] = (rep["embedded"] / (full["seconds"] + res["load_s"])) / res["raw_rate"]
    res["embed_share"] = full["model_s"] / full["seconds"]
    log(f"{profile}: raw {len(texts) / res['raw_after_s']:.1f} chunks/s; ratio {res['ratio']:.3f}")

    reruns = [_build(settings, timed) for _ in range(3)]
    assert all(r["report"]["embedded"] == 0 and r["report"]["added"] == 0 for r in reruns), reruns
    res["rerun_s"] = [r["seconds"] for r in reruns]
    res["rerun_median_s"] = statistics.median(res["rerun_s"])
    res["rerun_ratio"] = res["rerun_median_s"] / full["seconds"]
    res["rerun_fresh"] = _fresh_process_rerun(settings, profile)
    log(f"{profile}: no-change re-run {res['rerun_median_s']:.3f} s ({100 * res['rerun_ratio']:.2f} %)")

    # The article to change: the median one by chunk count.
    by_count = sorted(recs, key=lambda r: (per_source[where[r["id"]].name], r["id"]))
    target_rec = by_count[len(by_count) // 2]
    edited = edit_text(target_rec["text"])
    res["changed_article"] = target_rec["id"]
    changes = []
    changes.append(_one_change(settings, timed, src, where[target_rec["id"]], article_txt(target_rec, edited),
                               None, "one .txt per article"))
    log(f"{profile}: one .txt changed: {changes[-1]['seconds']:.2f} s (target {changes[-1]['target_s']:.2f} s)")

    # The other layouts, built by replacing sources in the same index (stored embeddings are
    # re-used, so these builds embed almost nothing): first only the target's group of
    # PER_FILE articles becomes one .jsonl file (the rest stay .txt), then the whole slice
    # becomes one .jsonl collection. The first switch (it reads, chunks and stores 50 articles
    # again but embeds almost nothing) is the one profiled, if asked.
    switches = []
    profiler = cProfile.Profile() if use_cprofile else None
    k = next(i for i, r in enumerate(recs) if r["id"] == target_rec["id"])
    group = recs[(k // PER_FILE) * PER_FILE: (k // PER_FILE + 1) * PER_FILE]
    for layout, label in (("group", f"one .jsonl of {len(group)} articles (the rest .txt)"),
                          ("jsonl", f"one .jsonl of all {len(recs)} articles")):
        if layout == "group":
            for r in group:
                where.pop(r["id"]).unlink()
            path = src / "group.jsonl"
            path.write_text(articles_jsonl(group), encoding="utf-8")
            members = group
        else:
            for p in src.iterdir():
                p.unlink()
            path = src / "articles.jsonl"
            path.write_text(articles_jsonl(recs), encoding="utf-8")
            members = recs
        prof = profiler if layout == "group" else None
        sw = _build(settings, timed, prof)
        switches.append({"layout": label, "seconds": sw["seconds"], "embedded": sw["report"]["embedded"],
                         "added": sw["report"]["added"], "removed": sw["report"]["removed"],
                         "chunks": sw["report"]["chunks"], "profiled": prof is not None,
                         "stages": sw["stages"]})
        log(f"{profile}: switched to {label}: {sw['seconds']:.1f} s, embedded {sw['report']['embedded']}")
        content = articles_jsonl(members, {target_rec["id"]: edited})
        changes.append(_one_change(settings, timed, src, path, content, str(target_rec["id"]), label))
        log(f"{profile}: one article changed in {label}: {changes[-1]['seconds']:.2f} s "
            f"(target {changes[-1]['target_s']:.2f} s)")
    res["changes"] = changes
    res["switches"] = switches
    if profiler:
        res["hot_steps"], res["hot_top"] = _hot_spots(profiler)
    res["load_end"] = loadavg()
    return res


def _ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def render(res: dict, info: dict) -> str:
    p = res["profile"]
    prep, full = res["prep"], res["full"]
    rep = full["report"]
    fresh = res["rerun_fresh"]
    rows = [
        ["slice", f"{res['articles']} articles (`a-` ids, file order) as {prep['files']} .txt files "
                  f"→ {prep['documents']} documents, {prep['chunks']} chunks, {res['unique_texts']} unique embed texts", "", ""],
        ["read + clean (outside the build, once)", f"{prep['read_s']:.1f} s (CPU {prep['read_cpu_s']:.1f} s)", "", ""],
        ["chunk (outside the build, once)", f"{prep['chunk_s']:.1f} s = {prep['chunks'] / max(prep['chunk_s'], 1e-9):.0f} chunks/s "
                                            f"(CPU {prep['chunk_cpu_s']:.1f} s)", "", ""],
        ["model load + warm-up call", f"{res['load_s']:.1f} s", "", ""],
        ["raw embedder, same texts, one call (mean of before and after the build)",
         f"{res['raw_s']:.1f} s = **{res['raw_rate']:.1f} chunks/s** (before {res['raw_before_s']:.1f} s, "
         f"after {res['raw_after_s']:.1f} s; CPU {res['raw_cpu_s']:.0f} s)", "", ""],
        ["full build, fresh index, model loaded", f"{full['seconds']:.1f} s = **{res['build_rate']:.1f} chunks/s** "
                                                  f"({rep['embedded']} embedded; CPU {full['cpu_s']:.0f} s)", "", ""],
        ["**build ÷ raw throughput**", f"**{res['ratio']:.3f}**", f"≥ {RATIO_TARGET}", _ok(res["ratio"] >= RATIO_TARGET)],
        ["build ÷ raw, model load counted in the build", f"{res['ratio_with_load']:.3f}", "", ""],
        ["build ÷ raw by CPU time (raw CPU s ÷ build CPU s; less sensitive to other load)",
         f"{res['raw_cpu_s'] / full['cpu_s']:.3f}", "", ""],
        ["share of build time inside `embed()`", f"{res['embed_share']:.3f}", "", ""],
        ["peak RSS during the full build", f"**{res['peak_rss_mb']:.0f} MB** (RSS {res['rss_before_mb']:.0f} MB "
                                           f"before it, model loaded)" + ("" if res["peak_reset"] else "; peak not reset, includes raw phase"), "", ""],
        ["**re-run, no changes** (median of 3, in process)", f"**{res['rerun_median_s']:.3f} s = {100 * res['rerun_ratio']:.2f} %** "
                                                             f"of the full build ({', '.join(f'{s:.3f}' for s in res['rerun_s'])} s)",
         f"≤ {100 * RERUN_TARGET:.0f} %", _ok(res["rerun_ratio"] <= RERUN_TARGET)],
    ]
    if "error" in fresh:
        rows.append(["re-run, no changes, fresh process", f"failed: {fresh['error']}", "", ""])
    else:
        rows.append(["re-run, no changes, fresh process", f"{fresh['wall_s']:.2f} s wall = imports {fresh['imports_s']:.2f} s + "
                     f"build {fresh['build_s']:.3f} s + interpreter; peak RSS {fresh['maxrss_mb']:.0f} MB", "", ""])
    for ch in res["changes"]:
        rows.append([
            f"**one article changed** — {ch['layout']}",
            f"**{ch['seconds']:.2f} s** ({ch['embedded']} of its {ch['article_chunks']} chunks re-embedded; "
            f"embedding all {ch['article_chunks']} takes {ch['article_embed_s']:.3f} s)",
            f"≤ {ch['target_s']:.2f} s", _ok(ch["pass"]),
        ])
    for sw in res["switches"]:
        rows.append([f"layout switch: {sw['layout']} (same index, sources replaced)",
                     f"{sw['seconds']:.1f} s, {sw['embedded']} embedded" + (" (under cProfile)" if sw["profiled"] else ""), "", ""])
    la = [x for x in (res.get("load_start"), res.get("load_end")) if x is not None]
    rows.append(["1-min load average at start / end", " / ".join(f"{x:.2f}" for x in la), "", ""])

    big = next((c for c in res["changes"] if c["layout"].startswith("one .jsonl of all")), None)
    cols = [("full build", full["stages"], full["seconds"]),
            ("one .txt changed", res["changes"][0]["stages"], res["changes"][0]["seconds"])]
    if big:
        cols.append(("one article changed in the big .jsonl", big["stages"], big["seconds"]))
    stage_rows = [[stage] + [f"{st[stage]:.3f}" for _l, st, _t in cols] for stage in full["stages"]]
    stage_rows.append(["**total**"] + [f"**{tot:.3f}**" for _l, _s, tot in cols])
    headers = ["stage (seconds)"] + [c[0] for c in cols]

    out = [
        f"### Profile `{p}` ({'all-MiniLM-L6-v2, sentence-transformers' if p == 'minilm' else 'model2vec static, distilled from MiniLM'})",
        "",
        f"Measured {info['date']} on {machine_line(info)}.",
        f"Command: `.venv/bin/python -m bench.build_bench --profile {p} --articles {res['articles']}`.",
        "",
        markdown_table(["measure", "value", "target", "met"], rows),
        "",
        "Where the full build's time goes (from its progress reports and a timer around `embed()`):",
        "",
        markdown_table(headers, stage_rows),
        "",
        _outside_embed(full),
    ]
    if res.get("hot_steps"):
        out += [
            "",
            f"cProfile of the switch of {PER_FILE} articles from `.txt` files to one `.jsonl` (a build that "
            "reads, chunks and stores them again but embeds almost nothing: the build's own overhead, "
            "in an index of the whole slice); cumulative seconds under the profiler (which slows "
            "pure-Python code more than native code):",
            "",
            markdown_table(["step", "calls", "cumulative s"], res["hot_steps"]),
            "",
            "Top functions by own time:",
            "",
            markdown_table(["function", "calls", "own s", "cumulative s"], res["hot_top"]),
        ]
    return "\n".join(out)


def _outside_embed(full: dict) -> str:
    """One generated sentence: where the full build's time outside ``embed()`` goes."""
    total = full["seconds"]
    rest = {k: v for k, v in full["stages"].items() if k != "embedding (model)"}
    outside = sum(rest.values())
    top = sorted(rest.items(), key=lambda kv: kv[1], reverse=True)[:3]
    parts = ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in top)
    return (f"Outside `embed()` the full build spent {outside:.1f} s ({100 * outside / total:.0f} % of it); "
            f"the largest parts: {parts}.")


METHOD = """## Index build (`bench/build_bench.py`)

Per profile, in one process (see the module docstring for details): the slice is chunked
with the build's own reader and chunker and the same unique embed texts are embedded by
the same embedder object in one call, after a warm-up call, once before and once after
the full build (averaged) — the raw throughput; a full build into a fresh index directory
with that loaded embedder; three no-change re-runs; one article changed (a paragraph
inserted mid-article; the article with the median chunk count) in three source layouts —
one `.txt` per article (front matter with title and URL; the layout for the full build and
re-runs), the article's group of 50 as one `.jsonl` file (the rest `.txt`), and one
`.jsonl` holding the whole slice (layouts are switched in the same index, re-using stored
embeddings; the switch of 50 articles to one `.jsonl` runs under cProfile). Peak RSS is
the process's VmHWM, reset just before the full build.
Targets (issue 3): build ÷ raw ≥ 0.85; no-change re-run ≤ 1 % of the full build; one article
changed ≤ 2 × (time to embed that article's chunks) + 1 s. Timings on a shared machine vary
with other load (the 1-minute load average is reported); the share of the build spent
inside `embed()` is the least sensitive to it."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.build_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=(*PROFILES, "both"), default="both")
    ap.add_argument("--articles", type=int, default=None,
                    help=f"articles per slice (default: {DEFAULT_ARTICLES['minilm']} minilm, {DEFAULT_ARTICLES['static']} static)")
    ap.add_argument("--no-cprofile", dest="cprofile", action="store_false",
                    help="do not profile the layout-switch build (its hot-spot tables are left out)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary sources and index")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the raw results as JSON to this file (NAME-PROFILE.json with both)")
    args = ap.parse_args(argv)

    if args.profile == "both":
        # One process per profile, so one model's memory never counts in the other's peak RSS.
        failed = 0
        for profile in PROFILES:
            cmd = [sys.executable, "-m", "bench.build_bench", "--profile", profile]
            if args.articles:
                cmd += ["--articles", str(args.articles)]
            if not args.cprofile:
                cmd.append("--no-cprofile")
            cmd += ["--keep"] * args.keep + ["--no-write"] * args.no_write
            if args.json:
                cmd += ["--json", str(args.json.with_name(f"{args.json.stem}-{profile}{args.json.suffix}"))]
            failed += subprocess.run(cmd, cwd=REPO).returncode != 0
        return 1 if failed else 0

    profile = args.profile
    info = machine_info()
    print(machine_line(info))
    n = args.articles or DEFAULT_ARTICLES[profile]
    with temp_dir(f"briefing-bench-{profile}-", keep=args.keep) as work:
        res = run_profile(profile, n, work, use_cprofile=args.cprofile)
    section = render(res, info)
    print()
    print(section)
    print()
    if not args.no_write:
        update_section("build", METHOD, info=info)
        path = update_section(f"build-{profile}", section, info=info)
        log(f"wrote section build-{profile} of {path}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0

if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
