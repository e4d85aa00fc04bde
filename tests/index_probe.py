"""Inspect an index from outside: ``python -m tests.index_probe INDEX_DIR`` prints one JSON object.

Run in its own process on purpose: Chroma caches an open persistent directory per process
(another process's writes would not be seen), and a damaged Chroma segment can crash the
process that opens it instead of raising.

``--url``/``--collection`` inspect an index whose vectors live in a Chroma server;
``--lexical`` also opens the index the way the assistant does (``assistant.answer.corpus.Corpus``,
twice: once building the BM25 index, once loading the copy it persisted) and reports its
chunk ids, its number of BM25 documents and which chunks each ``--word`` matches.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np


def probe(index_dir: Path, chroma_url: str = "", collection: str = "", lexical: bool = False,
          words: list[str] | tuple[str, ...] = ()) -> dict:
    from index_build.core.settings import load_settings
    from index_build.store.docstore import SCHEMA_VERSION, DocStore
    from index_build.store.vectors import VectorStore

    environ = {"BRIEFING_CHROMA_URL": chroma_url} if chroma_url else {}
    settings = load_settings(environ=environ, index_dir=index_dir, collection=collection or None)
    record = DocStore(settings.db_path, readonly=True)
    try:
        meta = record.meta()
        rows = list(record.chunks_with_meta())
        chunk_rows = record.db.execute("SELECT chunk_id, doc_id FROM chunks").fetchall()
        doc_ids = {r[0] for r in record.db.execute("SELECT doc_id FROM documents")}
        doc_sources = {r[0] for r in record.db.execute("SELECT DISTINCT source FROM documents")}
        sources = set(record.sources())
        docs = {d.doc_id: d for d in record.documents()}
        vectors_by_chunk = dict(zip([r[0] for r in rows], record.get_embeddings([r[5] for r in rows])))
    finally:
        record.close()
    expected = {
        "schema_version": SCHEMA_VERSION, "embedder": meta["embedder"], "dimension": int(meta["dimension"]),
        "chunk_tokens": int(meta["chunk_tokens"]), "chunk_overlap": int(meta["chunk_overlap"]),
    }
    store = VectorStore(settings, expected, create=False)
    chroma_ids = sorted(store.ids())
    got = store.collection.get(ids=chroma_ids, include=["embeddings", "metadatas"]) if chroma_ids else {
        "ids": [], "embeddings": [], "metadatas": []}
    spans = {r[0]: (r[1], r[2], r[3]) for r in rows}
    wrong_vectors = [
        cid for cid, vec in zip(got["ids"], got["embeddings"])
        if cid in vectors_by_chunk and not np.allclose(np.asarray(vec), vectors_by_chunk[cid], atol=1e-5)
    ]
    # Chroma holds no passage text (the record does): its metadata must point at the same span.
    wrong_spans = [cid for cid, m in zip(got["ids"], got["metadatas"])
                   if cid in spans and (m.get("doc_id"), m.get("start"), m.get("end")) != spans[cid]]
    rnd = random.Random(0)
    sample = rnd.sample(sorted(vectors_by_chunk), min(8, len(vectors_by_chunk)))
    probes_ok = sum(store.query(vectors_by_chunk[cid], 1)[0][0] == cid for cid in sample)
    out = {
        "chunk_ids": sorted(r[0] for r in chunk_rows),
        "n_chunks": len(chunk_rows),
        "n_docs": len(doc_ids),
        "orphan_chunks": sorted(cid for cid, doc in chunk_rows if doc not in doc_ids),
        "docs_without_source": sorted(doc_sources - sources),
        "spans_ok": all(docs[r[1]].text[r[2]:r[3]] == r[4] for r in rows),
        "chroma_ids": chroma_ids,
        "chroma_count": store.count(),
        "wrong_vectors": wrong_vectors,
        "wrong_spans": wrong_spans,
        "probes": len(sample),
        "probes_ok": probes_ok,
        "chroma_sources": sorted({m["source"] for m in got["metadatas"]}),
        "chroma_dirty": meta.get("chroma_dirty"),
        "embedder": meta.get("embedder"),
        "generation": int(meta.get("generation", 0)),
    }
    if lexical:
        out["lexical"] = lexical_view(settings, meta, words)
        out["lexical_reloaded"] = lexical_view(settings, meta, words)
    return out


class _NamedOnly:
    """Stands in for the query embedder: the lexical side never embeds anything."""

    def __init__(self, name: str, dimension: int):
        self.name, self.dimension = name, dimension

    def embed(self, texts):  # pragma: no cover - not called
        raise AssertionError("the probe does not embed")


def lexical_view(settings, meta: dict, words) -> dict:
    """What the assistant's read side sees: its chunk table and its BM25 index."""
    from assistant.answer.corpus import Corpus
    from index_build.core.text import tokenize

    corpus = Corpus(settings, embedder=_NamedOnly(meta["embedder"], int(meta["dimension"])))
    corpus = corpus.snapshot() if hasattr(corpus, "snapshot") else corpus  # one consistent generation
    stamp = settings.index_dir / "lexical" / "generation.json"
    hits = {}
    for word in words:
        tokens = [t for t in tokenize(word) if t in corpus.df]
        if corpus.bm25 is None or not tokens:
            hits[word] = []
            continue
        scores = np.asarray(corpus.bm25.get_scores(tokens))
        hits[word] = sorted(corpus.ids[i] for i in np.flatnonzero(scores > 0))
    return {
        "ids": list(corpus.ids),
        "generation": corpus.generation,
        "bm25_docs": int(corpus.bm25.scores["num_docs"]) if corpus.bm25 is not None else 0,
        "persisted": json.loads(stamp.read_text()) if stamp.is_file() else None,
        "hits": hits,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.index_probe")
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--url", default="")
    parser.add_argument("--collection", default="")
    parser.add_argument("--lexical", action="store_true")
    parser.add_argument("--word", action="append", default=[])
    args = parser.parse_args(argv)
    print(json.dumps(probe(args.index_dir, args.url, args.collection, args.lexical or bool(args.word), args.word)))


if __name__ == "__main__":
    main()
