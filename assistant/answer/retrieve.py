"""Hybrid retrieval: the candidates of each side, then their fusion (``fuse``).

**Candidates**: the ``pool`` chunks nearest the question in Chroma (cosine) and the ``pool``
best by BM25 (headline + passage). Filters apply to both sides: a Chroma ``where`` clause (or
an exact search over the filtered rows, see below) and a BM25 weight mask. The fused score,
the embedder's weights and the same-document penalty are ``assistant.answer.fuse``'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from index_build.core.text import tokenize

from ..models import Filters, Passage
from .fuse import fuse, weights_for
from .view import IndexView

__all__ = ["retrieve", "Retrieval", "POOL"]


POOL = 40


@dataclass
class Retrieval:
    passages: list[Passage]
    timings_ms: dict[str, float]


# Chroma evaluates a ``where`` clause against the metadata of every chunk before its vector
# search: 90–110 ms for a source or date filter at 107k chunks, against 3 ms unfiltered. So a
# filter that keeps at least POST_FILTER_SHARE of the chunks is applied after an unfiltered
# query for more neighbours, and a narrower one is searched exactly over the embeddings of the
# chunks it keeps (``CorpusView.vectors_matrix``); the where clause is the fallback.
POST_FILTER_SHARE = 0.2
EXACT_FILTERED = True


def _dense(corpus: IndexView, query: str, filters: Filters, pool: int, timings: dict[str, float],
           mask: np.ndarray | None = None) -> dict[int, float]:
    """Row index → cosine similarity of the ``pool`` nearest chunks (within the filters)."""
    if corpus.vectors is None:
        return {}
    t0 = time.perf_counter()
    vector = corpus.embedder.embed([query])[0]
    t1 = time.perf_counter()
    hits = None
    share = float(mask.mean()) if mask is not None else 1.0
    if mask is not None and share > 0 and share >= POST_FILTER_SHARE:
        wide = corpus.vectors.query(vector, min(len(mask), int(2 * pool / share) + 1))
        kept = [(cid, d) for cid, d in wide if cid in corpus.pos and mask[corpus.pos[cid]]]
        if len(kept) >= pool or len(wide) >= len(mask):
            hits = kept[:pool]
    if hits is None and mask is not None and EXACT_FILTERED:
        matrix = corpus.vectors_matrix()
        if matrix is not None:
            rows = np.flatnonzero(mask)
            q = np.asarray(vector, dtype=np.float32)
            q = q / (float(np.linalg.norm(q)) or 1.0)
            sims = matrix[rows] @ q if len(rows) else np.zeros(0)
            n = min(pool, len(rows))
            top = np.argpartition(-sims, n - 1)[:n] if 0 < n < len(rows) else np.arange(len(rows))
            hits = [(corpus.ids[rows[j]], 1.0 - float(sims[j])) for j in top]
    if hits is None:
        hits = corpus.vectors.query(vector, pool, corpus.where(filters))
    t2 = time.perf_counter()
    timings["embed_query"] = (t1 - t0) * 1000
    timings["dense"] = (t2 - t1) * 1000
    return {corpus.pos[cid]: 1.0 - float(dist) for cid, dist in hits if cid in corpus.pos}


def _lexical(corpus: IndexView, query: str, mask: np.ndarray | None, timings: dict[str, float]) -> np.ndarray | None:
    """BM25 score of every chunk (0 outside the filters), or None without query terms."""
    t0 = time.perf_counter()
    tokens = [t for t in tokenize(query) if t in corpus.df]
    scores = None
    if corpus.bm25 is not None and tokens:
        scores = np.asarray(corpus.bm25.get_scores(tokens), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0).astype(np.float32)
    timings["lexical"] = (time.perf_counter() - t0) * 1000
    return scores


def retrieve(corpus: IndexView, query: str, filters: Filters = Filters(), k: int = 5, pool: int = POOL,
             diverse: bool = True) -> Retrieval:
    """The ``k`` best passages for ``query`` under ``filters`` (``diverse``: with the same-document penalty)."""
    timings: dict[str, float] = {}
    mask = corpus.mask(filters)
    dense = _dense(corpus, query, filters, pool, timings, mask)
    lexical = _lexical(corpus, query, mask, timings)
    t0 = time.perf_counter()
    ranked = fuse(dense, lexical, mask, weights_for(corpus.embedder.name), pool, corpus.doc_ids, diverse)[:k]
    passages = []
    for rank, (i, score) in enumerate(ranked, start=1):
        passages.append(Passage(
            rank=rank, chunk_id=corpus.ids[i], doc_id=corpus.doc_ids[i], source=corpus.sources[i],
            title=corpus.titles[i], publisher=corpus.publishers[i], published=corpus.published[i] or None,
            start=int(corpus.starts[i]), end=int(corpus.ends[i]), text=corpus.texts[i], score=score,
        ))
    timings["fuse"] = (time.perf_counter() - t0) * 1000
    return Retrieval(passages, timings)
