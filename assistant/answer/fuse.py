"""Fusing the dense and lexical candidates into one ranking.

1. **Fused score** of each candidate (score fusion, not rank fusion — ranks throw away how
   much better the first hit is than the tenth, which is most of what BM25 knows)::

       DENSE_WEIGHT × cosine + lexical weight × bm25 / (best bm25 for this question)

   A lexical-only candidate gets the cosine of the farthest dense candidate (it is no nearer
   than that).
2. The lexical weight depends on the embedder: the static (model2vec) profile is much weaker
   than MiniLM (DESIGN.md, Models), so BM25 counts more next to it. Measured on RealTimeQA: see
   docs/BENCHMARKS.md (section ``rtqa-*``).
3. **Diversity**: a passage loses ``SAME_DOCUMENT_PENALTY`` when a better-scored passage of the
   same document is already a candidate. A long article on the question's topic otherwise fills the top ranks
   with near-identical passages and pushes down the one short report that answers it; a
   passage that is clearly better (by more than the penalty) keeps its place, so in a small
   archive the second passage of the right article still comes before weak other documents.
   On the RealTimeQA tuning set: hit@5 0.838 → 0.857, hit@10 0.893 → 0.918.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["fuse", "Weights", "weights_for", "DENSE_WEIGHT", "LEXICAL_WEIGHT", "STATIC_LEXICAL_WEIGHT",
           "SAME_DOCUMENT_PENALTY"]


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
SAME_DOCUMENT_PENALTY = 0.1


def weights_for(embedder_name: str) -> Weights:
    if embedder_name.startswith("static:"):
        return Weights(DENSE_WEIGHT, STATIC_LEXICAL_WEIGHT)
    return Weights(DENSE_WEIGHT, LEXICAL_WEIGHT)


def fuse(dense: dict[int, float], lexical: np.ndarray | None, mask: np.ndarray | None, w: Weights, pool: int,
         doc_ids: list[str], diverse: bool = True) -> list[tuple[int, float]]:
    """(row, fused score) of every candidate, best first: the ``dense`` rows (row → cosine)
    and the ``pool`` best ``lexical`` rows (BM25 of every row; None without query terms),
    within ``mask``; ``diverse``: after the same-document penalty."""
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
        order = _diversify(order, rows, scores, doc_ids)
    return [(rows[j], float(scores[j])) for j in order]


def _diversify(order: list[int], rows: list[int], scores: np.ndarray, doc_ids: list[str]) -> list[int]:
    """``order`` (best first) re-sorted after the same-document penalty."""
    seen: set[str] = set()
    adjusted = {}
    for j in order:
        doc = doc_ids[rows[j]]
        adjusted[j] = scores[j] - (SAME_DOCUMENT_PENALTY if doc in seen else 0.0)
        seen.add(doc)
    return sorted(order, key=lambda j: (-adjusted[j], rows[j]))
