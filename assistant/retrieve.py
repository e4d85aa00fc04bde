"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by weighted reciprocal rank.

Both lists are cut to ``pool`` candidates; a chunk's fused score is
``Σ weight / (k + rank)`` over the lists it appears in. Filters apply to both sides:
as a Chroma ``where`` clause and as a BM25 weight mask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .corpus import Corpus
from .models import Filters, Passage
from .text import tokenize

__all__ = ["retrieve", "Retrieval", "RRF_K"]

RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0


@dataclass
class Retrieval:
    passages: list[Passage]
    timings_ms: dict[str, float]


def _dense(corpus: Corpus, query: str, filters: Filters, pool: int, timings: dict) -> list[str]:
    if corpus.vectors is None:
        return []
    t0 = time.perf_counter()
    vector = corpus.embedder.embed([query])[0]
    t1 = time.perf_counter()
    hits = corpus.vectors.query(vector, pool, corpus.where(filters))
    t2 = time.perf_counter()
    timings["embed_query"] = (t1 - t0) * 1000
    timings["dense"] = (t2 - t1) * 1000
    return [cid for cid, _ in hits if cid in corpus.pos]


def _lexical(corpus: Corpus, query: str, filters: Filters, pool: int, timings: dict) -> list[str]:
    t0 = time.perf_counter()
    tokens = [t for t in tokenize(query) if t in corpus.df]
    out: list[str] = []
    if corpus.bm25 is not None and tokens:
        mask = corpus.mask(filters)
        k = min(pool, len(corpus.ids))
        ids, scores = corpus.bm25.retrieve(
            [tokens], k=k, show_progress=False, n_threads=0,
            weight_mask=None if mask is None else mask.astype(np.float32),
        )
        out = [corpus.ids[i] for i, s in zip(ids[0], scores[0]) if s > 0]
    timings["lexical"] = (time.perf_counter() - t0) * 1000
    return out


def retrieve(corpus: Corpus, query: str, filters: Filters = Filters(), k: int = 5, pool: int = 40) -> Retrieval:
    """The ``k`` best passages for ``query`` under ``filters``."""
    timings: dict[str, float] = {}
    dense = _dense(corpus, query, filters, pool, timings)
    lexical = _lexical(corpus, query, filters, pool, timings)
    t0 = time.perf_counter()
    scores: dict[str, float] = {}
    for weight, ranked in ((DENSE_WEIGHT, dense), (LEXICAL_WEIGHT, lexical)):
        for rank, cid in enumerate(ranked):
            scores[cid] = scores.get(cid, 0.0) + weight / (RRF_K + rank + 1)
    mask = corpus.mask(filters)
    ranked_ids = [cid for cid in sorted(scores, key=lambda c: -scores[c])
                  if mask is None or mask[corpus.pos[cid]]][:k]
    passages = []
    for rank, cid in enumerate(ranked_ids, start=1):
        i = corpus.pos[cid]
        passages.append(Passage(
            rank=rank, chunk_id=cid, doc_id=corpus.doc_ids[i], source=corpus.sources[i],
            title=corpus.titles[i], publisher=corpus.publishers[i], published=corpus.published[i] or None,
            start=int(corpus.starts[i]), end=int(corpus.ends[i]), text=corpus.texts[i], score=scores[cid],
        ))
    timings["fuse"] = (time.perf_counter() - t0) * 1000
    return Retrieval(passages, timings)
