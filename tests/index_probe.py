"""Inspect an index from outside: ``python -m tests.index_probe INDEX_DIR`` prints one JSON object.

Run in its own process on purpose: Chroma caches an open persistent directory per process
(another process's writes would not be seen), and a damaged Chroma segment can crash the
process that opens it instead of raising.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np


def probe(index_dir: Path) -> dict:
    from index_build.record import SCHEMA_VERSION, Record
    from index_build.settings import load_settings
    from index_build.vectors import VectorStore

    settings = load_settings(environ={}, index_dir=index_dir)
    record = Record(settings.db_path, readonly=True)
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
    got = store.collection.get(ids=chroma_ids, include=["embeddings", "documents", "metadatas"]) if chroma_ids else {
        "ids": [], "embeddings": [], "documents": [], "metadatas": []}
    texts = {r[0]: r[4] for r in rows}
    wrong_vectors = [
        cid for cid, vec in zip(got["ids"], got["embeddings"])
        if cid in vectors_by_chunk and not np.allclose(np.asarray(vec), vectors_by_chunk[cid], atol=1e-5)
    ]
    wrong_texts = [cid for cid, text in zip(got["ids"], got["documents"]) if cid in texts and text != texts[cid]]
    rnd = random.Random(0)
    sample = rnd.sample(sorted(vectors_by_chunk), min(8, len(vectors_by_chunk)))
    probes_ok = sum(store.query(vectors_by_chunk[cid], 1)[0][0] == cid for cid in sample)
    return {
        "chunk_ids": sorted(r[0] for r in chunk_rows),
        "n_chunks": len(chunk_rows),
        "n_docs": len(doc_ids),
        "orphan_chunks": sorted(cid for cid, doc in chunk_rows if doc not in doc_ids),
        "docs_without_source": sorted(doc_sources - sources),
        "spans_ok": all(docs[r[1]].text[r[2]:r[3]] == r[4] for r in rows),
        "chroma_ids": chroma_ids,
        "chroma_count": store.count(),
        "wrong_vectors": wrong_vectors,
        "wrong_texts": wrong_texts,
        "probes": len(sample),
        "probes_ok": probes_ok,
        "chroma_sources": sorted({m["source"] for m in got["metadatas"]}),
        "chroma_dirty": meta.get("chroma_dirty"),
        "embedder": meta.get("embedder"),
    }


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
