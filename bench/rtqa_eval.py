"""RealTimeQA retrieval benchmark: our assistant against a plain LlamaIndex retriever.

    .venv/bin/python -m bench.rtqa_eval [--profile minilm|static] [--distractors N] [--questions N]
                                        [--full] [--no-seed] [--work-dir DIR] [--threads N] [--no-write]
                                        [--json FILE]

In one process, on the RealTimeQA pack (``../shared/bench-data/rtqa``, see its README):

1. **Corpus**, written to a temporary directory as ``.jsonl`` collections (1,000 records per
   file, so no file reaches the 64 MB source limit): the evidence docs (``e-`` ids) of the dev
   questions plus the first ``--distractors`` news articles (``a-`` ids, default 1,000, file
   order, which is hash order); with ``--full``, the whole ``articles.jsonl.gz`` (12,836 docs,
   including held-back evidence docs). ``--questions N`` takes N dev questions spread evenly
   over the file (and only their evidence docs) instead of all 2,495.
2. **Our index**: ``index_build.build.build_index`` with the chosen embedder profile.
3. **Ours**: ``Assistant.ask`` (extractive, ``top_k=10``) through ``assistant.evaluate.evaluate``:
   hit@1/5/10, MRR@10, answer_match, and warm latency p50/p95 (one warm-up question first).
4. **Baseline** (what a user would build instead): a LlamaIndex ``VectorStoreIndex`` over
   ``TextNode``s holding exactly our chunks, with our embedder wrapped as a LlamaIndex
   ``BaseEmbedding`` (queries are embedded through it). The node embeddings are the ones our
   build stored in the SQLite record (the chunk's headline + passage, as a LlamaIndex node with
   a title in its metadata would embed), read back instead of embedding everything twice.
   ``index.as_retriever(similarity_top_k=10)``, scored with the same relevance rule
   (``assistant.evaluate._relevant``: from ``evidence_doc``, or containing the answer text of
   4+ characters). The vector store is LlamaIndex's default in-memory ``SimpleVectorStore``,
   whose exact cosine top-k is done here with one numpy matrix product instead of its
   per-query list-to-array conversion (1.3 s a query at 15k nodes); the script checks on a few
   questions that both give the same ranking.
5. **Seed latency** (unless ``--no-seed``): warm ``ask`` p50/p95 on an index of ``sources/``
   with the same profile, over the seed gold questions (3 rounds after a warm-up round).

Prints a table and replaces section ``rtqa-<profile>`` (default corpus, all questions),
``rtqa-<profile>-full`` (``--full``) or ``rtqa-<profile>-small`` (other sizes) of
docs/BENCHMARKS.md. Nothing from the pack is written into the repository.

``make bench`` (bench/run_all.py) runs the bounded ``--questions 400 --distractors 160``
(section ``rtqa-minilm-small``, a few minutes on 2 idle cores). The one-off measurements are
``--profile minilm`` (about 13.6k chunks: ~10 min of MiniLM embedding on 2 idle cores) and
``--profile static --full`` (93k chunks). ``--work-dir DIR`` keeps sources and index in DIR: a
second run re-uses the index (the build is incremental; embeddings are keyed by text), so an
interrupted measurement resumes where its embedding stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    ARTICLES,
    DATA_DIR,
    REPO,
    load_articles,
    loadavg,
    machine_info,
    markdown_table,
    temp_dir,
    update_section,
    write_slice,
)

DEV = DATA_DIR / "dev.jsonl"
SEED_GOLD = (REPO / "tests" / "data" / "seed-dev.jsonl", REPO / "tests" / "data" / "seed-extra.jsonl")
PER_FILE = 1000
TOP_K = 10


def log(msg: str) -> None:
    print(f"[rtqa {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- data -------------------------------------------------------------------------------
def dev_questions(n: int | None = None) -> list[dict]:
    if not DEV.is_file():
        raise SystemExit(f"benchmark data not found: {DEV} (set BRIEFING_BENCH_DATA to the rtqa folder)")
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    if n is not None and n < len(rows):
        rows = [rows[i * len(rows) // n] for i in range(n)]
    return rows


def corpus_records(questions: list[dict], distractors: int, full: bool) -> list[dict]:
    if full:
        return load_articles(10 ** 9, prefix="")
    wanted = {q["evidence_doc"] for q in questions}
    evidence = [r for r in load_articles(10 ** 9, prefix="e-") if r["id"] in wanted]
    missing = wanted - {r["id"] for r in evidence}
    if missing:
        log(f"warning: {len(missing)} evidence docs are not in {ARTICLES.name}")
    return load_articles(distractors, prefix="a-") + evidence


# -- timing helpers ---------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


# -- the baseline -----------------------------------------------------------------------
def llama_embedding(embedder):
    """Our embedder as a LlamaIndex ``BaseEmbedding``."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class OurEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner, **kwargs):
            super().__init__(model_name=inner.name, embed_batch_size=64, **kwargs)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(list(texts)).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return OurEmbedding(embedder)


def fast_simple_store():
    """LlamaIndex's default ``SimpleVectorStore`` with its exact cosine top-k computed by one
    matrix product (the stock loop converts every stored list to an array per query)."""
    from llama_index.core.vector_stores import SimpleVectorStore
    from llama_index.core.vector_stores.types import VectorStoreQueryMode, VectorStoreQueryResult

    class FastSimpleVectorStore(SimpleVectorStore):
        def _matrix(self):
            cache = getattr(self, "_fast_cache", None)
            if cache is None or cache[0] != len(self.data.embedding_dict):
                ids = list(self.data.embedding_dict)
                mat = np.asarray([self.data.embedding_dict[i] for i in ids], dtype=np.float32)
                norms = np.linalg.norm(mat, axis=1, keepdims=True)
                norms[norms == 0] = 1.0
                cache = (len(ids), ids, mat / norms)
                object.__setattr__(self, "_fast_cache", cache)
            return cache[1], cache[2]

        def query(self, query, **kwargs):
            if query.filters is not None or query.mode != VectorStoreQueryMode.DEFAULT:
                return super().query(query, **kwargs)
            ids, mat = self._matrix()
            q = np.asarray(query.query_embedding, dtype=np.float32)
            q = q / (np.linalg.norm(q) or 1.0)
            sims = mat @ q
            if query.node_ids is not None:  # VectorStoreIndex passes the ids of its nodes
                allowed = set(query.node_ids)
                if len(allowed) < len(ids) or not all(i in allowed for i in ids):
                    sims = np.where([i in allowed for i in ids], sims, -np.inf)
            k = min(query.similarity_top_k, len(ids))
            top = np.argpartition(-sims, k - 1)[:k]
            top = top[np.argsort(-sims[top], kind="stable")]
            return VectorStoreQueryResult(similarities=[float(sims[i]) for i in top], ids=[ids[i] for i in top])

    return FastSimpleVectorStore()


def plain_vectors(texts: list[str], embedder, cache: Path | None) -> np.ndarray:
    """Embeddings of the bare passage texts (what a node without metadata embeds), cached by text."""
    import hashlib

    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"]))
    todo = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
    batch = 256
    for i in range(0, len(todo), batch):
        part = todo[i:i + batch]
        for (k, _), v in zip(part, embedder.embed([t for _, t in part])):
            known[k] = np.asarray(v, dtype=np.float32)
        log(f"baseline: embedded {min(i + batch, len(todo))}/{len(todo)} bare passages")
        if cache is not None and ((i // batch) % 8 == 7 or i + batch >= len(todo)):  # resumable
            np.savez(cache, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


def build_baseline(settings, embedder, variant: str = "plain", cache: Path | None = None):
    """A ``VectorStoreIndex`` over ``TextNode``s holding exactly our chunks.

    ``plain``: the node is the passage text alone (a node without metadata, as a user who loads
    the articles as LlamaIndex ``Document(text=...)`` and splits them gets), embedded here.
    ``headline``: the node's text is preceded by its document's headline (as LlamaIndex embeds a
    node with a ``title`` in its metadata); these are exactly the vectors our build stored in the
    record, read back instead of embedding everything twice.
    """
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode

    from index_build.store.docstore import DocStore

    rec = DocStore(settings.db_path, readonly=True)
    try:
        record_ids = dict(rec.db.execute("SELECT doc_id, record_id FROM documents"))
        rows = list(rec.chunks_with_meta())
        if variant == "headline":
            vectors = rec.get_embeddings([r[5] for r in rows])
    finally:
        rec.close()
    if variant != "headline":
        vectors = plain_vectors([r[4] for r in rows], embedder, cache)
    nodes = [
        TextNode(id_=r[0], text=r[4], embedding=v.tolist(),
                 metadata={"doc_id": r[1], "record_id": record_ids.get(r[1]) or "", "title": r[7] or ""})
        for r, v in zip(rows, vectors)
    ]
    store = fast_simple_store()
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                             embed_model=llama_embedding(embedder), show_progress=False)
    return index, store, len(nodes)


def check_fast_store(index, store, questions: list[str]) -> bool:
    """The fast store ranks exactly as the stock ``SimpleVectorStore`` query does."""
    from llama_index.core.vector_stores import SimpleVectorStore
    from llama_index.core.vector_stores.types import VectorStoreQuery

    ok = True
    node_ids = list(index.index_struct.nodes_dict.values())
    for question in questions:
        emb = index._embed_model.get_query_embedding(question)
        q = VectorStoreQuery(query_embedding=emb, similarity_top_k=TOP_K, node_ids=node_ids)
        fast = store.query(q)
        stock = SimpleVectorStore.query(store, q)
        # The same similarity at every rank; ids may differ only where two passages score the
        # same to 1e-5 (identical passages in two articles, or float32 against float64 sums).
        ok &= len(fast.ids) == len(stock.ids) and all(
            a == b or abs(x - y) <= 1e-5
            for a, b, x, y in zip(fast.ids, stock.ids, fast.similarities, stock.similarities))
    return ok


def eval_baseline(index, items, record_ids: dict[str, str | None]) -> dict:
    from assistant.evaluate import _relevant

    retriever = index.as_retriever(similarity_top_k=TOP_K)
    retriever.retrieve(items[0].question)  # warm-up
    hits = {1: [], 5: [], 10: []}
    rr: list[float] = []
    times: list[float] = []
    for item in items:
        t0 = time.perf_counter()
        results = retriever.retrieve(item.question)
        times.append((time.perf_counter() - t0) * 1000)
        first = None
        for rank, r in enumerate(results[:TOP_K], start=1):
            node = r.node
            if _relevant(item, node.get_content(), node.metadata.get("record_id") or None):
                first = rank
                break
        for k in hits:
            hits[k].append(first is not None and first <= k)
        rr.append(1.0 / first if first else 0.0)
    mean = lambda xs: round(sum(xs) / len(xs), 4)  # noqa: E731
    return {"hit@1": mean(hits[1]), "hit@5": mean(hits[5]), "hit@10": mean(hits[10]), "mrr@10": mean(rr),
            "answer_match": None, "p50_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 0.95), 1)}


# -- ours -------------------------------------------------------------------------------
def eval_ours(assistant, items, record_ids) -> tuple[dict, list[dict]]:
    from assistant.evaluate import evaluate

    assistant.ask(items[0].question, [], top_k=TOP_K)  # warm-up: loads the model, touches the index

    def progress(n: int, total: int) -> None:
        if n % 250 == 0 or n == total:
            log(f"ours: {n}/{total}")

    return evaluate(assistant, items, progress=progress, record_ids=record_ids)


def seed_latency(profile: str, rounds: int = 3) -> dict:
    """Warm ``ask`` latency on an index of the seed sources (``sources/``)."""
    from assistant.answer.service import Assistant
    from assistant.evaluate import evaluate, load_gold
    from index_build.build import build_index
    from index_build.core.settings import load_settings

    with temp_dir("briefing-seed-") as work:
        settings = load_settings(environ={}, index_dir=work / "index", sources_dir=REPO / "sources", embedder=profile)
        build_index(settings, REPO / "sources")
        assistant = Assistant(settings)
        items = [i for path in SEED_GOLD for i in load_gold(path)]
        metrics, _ = evaluate(assistant, items)  # warm-up round (also gives the quality numbers)
        times: list[float] = []
        for _ in range(rounds):
            for item in items:
                times.append(assistant.ask(item.question, list(item.history), top_k=TOP_K).timings_ms["total"])
        return {"questions": len(items), "asks": len(times), "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(pct(times, 0.95), 1), "hit@5": metrics["hit@5"],
                "key_fact_recall": metrics["key_fact_recall"]}


# -- the run ----------------------------------------------------------------------------
def run(args, work: Path) -> dict:
    from assistant.answer.service import Assistant
    from assistant.evaluate import load_gold
    from index_build.build import build_index
    from index_build.core.settings import load_settings
    from index_build.embed import make_embedder
    from index_build.store.docstore import DocStore

    questions = dev_questions(args.questions)
    recs = corpus_records(questions, args.distractors, args.full)
    sources, index_dir = work / "sources", work / "index"
    log(f"corpus: {len(recs)} docs ({sum(r['id'].startswith('e-') for r in recs)} evidence) -> {sources}")
    shutil.rmtree(sources, ignore_errors=True)  # a reused --work-dir: no files of another corpus
    write_slice(sources, recs, layout="jsonl-files", per_file=PER_FILE)
    gold = work / "dev.jsonl"
    gold.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    items = load_gold(gold)

    settings = load_settings(environ={}, index_dir=index_dir, sources_dir=sources, embedder=args.profile)
    embedder = make_embedder(args.profile, settings.embed_batch_size, settings.embed_runtime)
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            log(f"build {stage}: {done}/{total}")

    log(f"building the {args.profile} index in {index_dir}")
    report = build_index(settings, sources, embedder=embedder, progress=progress)
    log(f"built: {report.documents} docs, {report.chunks} chunks, embedded {report.embedded} in {report.seconds:.0f} s")
    rec = DocStore(settings.db_path, readonly=True)
    try:
        record_ids = dict(rec.db.execute("SELECT doc_id, record_id FROM documents"))
    finally:
        rec.close()

    log(f"ours: {len(items)} questions")
    assistant = Assistant(settings)
    load_before = loadavg()
    ours, rows = eval_ours(assistant, items, record_ids)
    log(f"ours: {ours}")

    baselines: dict[str, dict] = {}
    same = True
    for variant in ("plain", "headline"):
        log(f"baseline ({variant}): building the LlamaIndex VectorStoreIndex")
        t0 = time.perf_counter()
        cache = work / f"baseline-plain-{args.profile}.npz" if args.work_dir else None
        index, store, n_nodes = build_baseline(settings, embedder, variant, cache)
        baseline_build_s = time.perf_counter() - t0
        same &= check_fast_store(index, store, [i.question for i in items[:2]])
        log(f"baseline ({variant}): {n_nodes} nodes in {baseline_build_s:.0f} s; fast store ranks as stock: {same}")
        baselines[variant] = eval_baseline(index, items, record_ids)
        log(f"baseline ({variant}): {baselines[variant]}")
        del index, store
    base = baselines["plain"]
    load_after = loadavg()

    result = {
        "profile": args.profile, "embedder": embedder.name, "full": args.full, "distractors": args.distractors,
        "questions": len(items), "all_questions": args.questions is None,
        "docs": report.documents, "chunks": report.chunks, "build_s": round(report.seconds, 1),
        "embedded": report.embedded, "ours": ours, "baseline": base, "baseline_headline": baselines["headline"],
        "baseline_nodes": n_nodes, "fast_store_checked": same,
        "loadavg": [load_before, load_after],
        "retrieval": retrieval_settings(),
    }
    if not args.no_seed:
        log("seed latency")
        result["seed"] = seed_latency(args.profile)
        log(f"seed: {result['seed']}")
    result["rows"] = rows
    return result


def retrieval_settings() -> dict:
    import assistant.answer.retrieve as r

    return {k: getattr(r, k) for k in dir(r) if k.isupper() and isinstance(getattr(r, k), (int, float))}


def _f(v) -> str:
    return "—" if v is None else f"{v:.3f}" if isinstance(v, float) and v <= 1 else str(v)


def section_name(args) -> str:
    if args.full:
        return f"rtqa-{args.profile}-full"
    if args.questions is None and args.distractors == 1000:
        return f"rtqa-{args.profile}"
    return f"rtqa-{args.profile}-small"


def render(res: dict, info: dict) -> str:
    o, b, h = res["ours"], res["baseline"], res["baseline_headline"]
    keys = ("hit@1", "hit@5", "hit@10", "mrr@10", "answer_match", "p50_ms", "p95_ms")
    rows = [["ours: `Assistant.ask` (hybrid, extractive, top_k=10)"] + [_f(o[k]) for k in keys],
            ["plain LlamaIndex `VectorStoreIndex` retriever, top 10 (passage text)"] + [_f(b[k]) for k in keys],
            ["**ours − plain**"] + [f"**{o[k] - b[k]:+.3f}**" for k in keys[:4]] + ["", "", ""],
            ["`VectorStoreIndex` whose nodes carry the headline (= our dense side alone)"] + [_f(h[k]) for k in keys],
            ["ours − headline variant"] + [f"{o[k] - h[k]:+.3f}" for k in keys[:4]] + ["", "", ""]]
    if res["full"]:
        corpus = "the whole `articles.jsonl.gz`"
    else:
        corpus = f"the evidence docs of the questions + the first {res['distractors']:,} `a-` articles"
    qs = "all" if res["all_questions"] else "an evenly spaced sample of"
    lines = [
        f"### RealTimeQA dev, {res['profile']} profile ({res['embedder']})",
        "",
        f"{qs} {res['questions']:,} dev questions; corpus: {corpus} = **{res['docs']:,} docs, "
        f"{res['chunks']:,} chunks** (200 tokens, overlap 40). Index build {res['build_s']:.0f} s"
        + (f" (embedded {res['embedded']:,} chunks; the rest were already in the record from an earlier "
           "run, so this is not a full build time). " if res["embedded"] < res["chunks"] else ". ")
        + f"{info['date']}; load average {res['loadavg'][0]:.1f} → {res['loadavg'][1]:.1f} "
        f"on {info['usable_cores']} cores (timings are wall clock on a shared machine).",
        "",
        markdown_table(["retriever", "hit@1", "hit@5", "hit@10", "MRR@10", "answer_match", "p50 ms", "p95 ms"], rows),
        "",
        "Latency: ours is the whole warm `ask` (condense, retrieve, extractive answer, verification); "
        "the baseline's is `retriever.retrieve` (query embedding + top-k). "
        f"Baselines: {res['baseline_nodes']:,} `TextNode`s = our chunks, same embedder. *Plain*: the passage "
        "text alone is embedded (a user who loads the articles as `Document(text=...)` and splits them the "
        "same way); *headline*: the node text is preceded by the document's headline, as LlamaIndex embeds a "
        "node with a `title` in its metadata (these are the vectors our build stored, read back). "
        f"Exact cosine top-k (checked against the stock `SimpleVectorStore`, same ranking up to ties of 1e-5: "
        f"{'yes' if res['fast_store_checked'] else 'NO'}). Retrieval constants: "
        + ", ".join(f"`{k}={v}`" for k, v in res["retrieval"].items()) + ".",
    ]
    if "seed" in res:
        s = res["seed"]
        lines += ["", f"Warm `ask` on the seed index (`sources/`, {res['profile']}): p50 **{s['p50_ms']} ms**, "
                  f"p95 {s['p95_ms']} ms over {s['asks']} asks ({s['questions']} seed questions × 3, after a "
                  f"warm-up round; seed hit@5 {s['hit@5']}, key_fact_recall {s['key_fact_recall']})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.rtqa_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=("minilm", "static"), default="minilm")
    ap.add_argument("--distractors", type=int, default=1000, help="news articles added to the evidence docs")
    ap.add_argument("--questions", type=int, default=None, help="dev questions (evenly spaced sample; default all)")
    ap.add_argument("--full", action="store_true", help="index the whole articles.jsonl.gz")
    ap.add_argument("--no-seed", action="store_true", help="skip the seed-index latency")
    ap.add_argument("--work-dir", type=Path, default=None,
                    help="keep sources and index here (re-runs reuse the index) instead of a temp dir")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for the MiniLM embedder (1 is faster on a busy machine)")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/BENCHMARKS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write the results (and per-question rows) here")
    args = ap.parse_args(argv)

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    info = machine_info()
    if args.work_dir:
        work = args.work_dir.resolve()
        if work.is_relative_to(REPO):
            raise SystemExit("--work-dir must be outside the repository (the data must not land in it)")
        work.mkdir(parents=True, exist_ok=True)
        res = run(args, work)
    else:
        with temp_dir("briefing-rtqa-") as work:
            res = run(args, work)
    rows = res.pop("rows")
    if args.json:
        args.json.write_text(json.dumps({**res, "rows": rows}, indent=1))
    section = render(res, info)
    print(section)
    if not args.no_write:
        path = update_section(section_name(args), section, info=info)
        log(f"wrote {path.relative_to(REPO)} (section {section_name(args)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
