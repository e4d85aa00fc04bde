"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by score.

1. **Candidates**: the ``pool`` chunks nearest the question in Chroma (cosine) and the
   ``pool`` best by BM25 (headline + passage). Filters apply to both sides: a Chroma ``where``
   clause and a BM25 weight mask.
2. **Fused score** of each candidate (score fusion, not rank fusion — ranks throw away how
   much better the first hit is than the tenth, which is most of what BM25 knows)::

       DENSE_WEIGHT × cosine + lexical weight × bm25 / (best bm25 for this question)

   A lexical-only candidate gets the cosine of the farthest dense candidate (it is no nearer
   than that).
3. The lexical weight depends on the embedder: the static (model2vec) profile is much weaker
   than MiniLM (DESIGN.md, Models), so BM25 counts more next to it. Measured on RealTimeQA: see
   docs/BENCHMARKS.md (section ``rtqa-*``).
4. **Diversity**: a passage loses ``SAME_DOCUMENT_PENALTY`` when a better-scored passage of the
   same document is already a candidate. A long article on the question's topic otherwise fills the top ranks
   with near-identical passages and pushes down the one short report that answers it; a
   passage that is clearly better (by more than the penalty) keeps its place, so in a small
   archive the second passage of the right article still comes before weak other documents.
   On the RealTimeQA tuning set: hit@5 0.838 → 0.857, hit@10 0.893 → 0.918.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from index_build.core.text import tokenize

from ..models import Filters, Passage
from .corpus import Corpus

__all__ = ["retrieve", "Retrieval", "Weights", "weights_for"]


@dataclass(frozen=True)
class Weights:
    dense: float
    lexical: float


# Tuned on a quarter of the RealTimeQA dev questions (every 4th; bench/rtqa_eval.py).
# MiniLM cosines of a question's candidates lie within ~0.1 of each other, BM25 / best
# spans 0..1: a lexical weight of 0.1 puts the two on a par.
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.1
STATIC_LEXICAL_WEIGHT = 3.0
POOL = 40
SAME_DOCUMENT_PENALTY = 0.1


def weights_for(embedder_name: str) -> Weights:
    if embedder_name.startswith("static:"):
        return Weights(DENSE_WEIGHT, STATIC_LEXICAL_WEIGHT)
    return Weights(DENSE_WEIGHT, LEXICAL_WEIGHT)


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


def _dense(corpus: Corpus, query: str, filters: Filters, pool: int, timings: dict,
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


def _lexical(corpus: Corpus, query: str, mask: np.ndarray | None, timings: dict) -> np.ndarray | None:
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


def _diversify(order: list[int], rows: list[int], scores: np.ndarray, doc_ids: list[str]) -> list[int]:
    """``order`` (best first) re-sorted after the same-document penalty."""
    seen: set[str] = set()
    adjusted = {}
    for j in order:
        doc = doc_ids[rows[j]]
        adjusted[j] = scores[j] - (SAME_DOCUMENT_PENALTY if doc in seen else 0.0)
        seen.add(doc)
    return sorted(order, key=lambda j: (-adjusted[j], rows[j]))


def retrieve(corpus: Corpus, query: str, filters: Filters = Filters(), k: int = 5, pool: int = POOL,
             diverse: bool = True) -> Retrieval:
    """The ``k`` best passages for ``query`` under ``filters`` (``diverse``: with the same-document penalty)."""
    timings: dict[str, float] = {}
    w = weights_for(corpus.embedder.name)
    mask = corpus.mask(filters)
    dense = _dense(corpus, query, filters, pool, timings, mask)
    lexical = _lexical(corpus, query, mask, timings)
    t0 = time.perf_counter()
    cands = set(dense)
    if lexical is not None:
        n = min(pool, len(lexical))
        top = np.argpartition(-lexical, n - 1)[:n] if n < len(lexical) else np.arange(len(lexical))
        cands.update(int(i) for i in top if lexical[i] > 0)
    if mask is not None:
        cands = {i for i in cands if mask[i]}
    rows = sorted(cands)
    scores = np.zeros(len(rows), dtype=np.float64)
    if dense and w.dense:
        floor = min(dense.values())
        scores += w.dense * np.array([dense.get(i, floor) for i in rows])
    if lexical is not None and w.lexical:
        best = float(lexical.max()) or 1.0
        scores += w.lexical * lexical[rows] / best
    order = sorted(range(len(rows)), key=lambda j: (-scores[j], rows[j]))
    if diverse:
        order = _diversify(order, rows, scores, corpus.doc_ids)
    order = order[:k]
    passages = []
    for rank, j in enumerate(order, start=1):
        i = rows[j]
        passages.append(Passage(
            rank=rank, chunk_id=corpus.ids[i], doc_id=corpus.doc_ids[i], source=corpus.sources[i],
            title=corpus.titles[i], publisher=corpus.publishers[i], published=corpus.published[i] or None,
            start=int(corpus.starts[i]), end=int(corpus.ends[i]), text=corpus.texts[i], score=float(scores[j]),
        ))
    timings["fuse"] = (time.perf_counter() - t0) * 1000
    return Retrieval(passages, timings)
