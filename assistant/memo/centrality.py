"""The memo's bottom line: its most central statements, by a topic-biased LexRank over the
statements' embeddings (what many documents echo, near the topic), a few per document."""

from __future__ import annotations

import numpy as np

from index_build.embed import Embedder

from .gather import Gathered, pool_centrality
from .sections import Draft, draft, redundant, standalone, unconfirmed_mark, unit

__all__ = ["bottom_line", "lexrank"]

BOTTOM_LINE_MAX = 5


CENTRALITY_POOL = 80  # the most on-topic statements that enter the graph
SAME_DOC_WEIGHT = 0.5  # an echo in another document counts double one in the same document
DAMPING = 0.85
NEAR_DUPLICATE = 0.8  # cosine above which two statements say the same thing


def lexrank(vectors: np.ndarray, groups: list[str], bias: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Stationary scores of a random walk over the cosine-similarity graph of ``vectors``
    that jumps back to statements in proportion to ``bias`` (their share of the topic).
    Edges within one group (a document) weigh ``SAME_DOC_WEIGHT``."""
    n = len(vectors)
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    sim = np.clip(v @ v.T, 0.0, None)
    np.fill_diagonal(sim, 0.0)
    same = np.array([[a == b for b in groups] for a in groups])
    sim = sim * np.where(same, SAME_DOC_WEIGHT, 1.0)
    rows = sim.sum(axis=1, keepdims=True)
    walk = np.where(rows > 0, sim / np.maximum(rows, 1e-12), 1.0 / n)
    jump = bias / bias.sum() if bias.sum() > 0 else np.full(n, 1.0 / n)
    r = np.full(n, 1.0 / n)
    for _ in range(iterations):
        r = DAMPING * walk.T @ r + (1 - DAMPING) * jump
    return r


def bottom_line(g: Gathered, embedder: Embedder | None = None) -> list[Draft]:
    """3–5 statements: the most central claims across the sources (what many sentences of
    other documents also say, biased to the topic), near-duplicates removed, each from a
    different passage and, while there are enough documents, a different document."""
    ranked = sorted((p for p in g.pool if standalone(g, p) and p.relevance > 0),
                    key=lambda p: (-(p.relevance + 0.5 * p.context), p.doc_id, p.index))[:CENTRALITY_POOL]
    if not ranked:
        return []
    texts = [g.info(p).text for p in ranked]
    vectors = None
    if embedder is not None and len(ranked) >= 3:
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    if vectors is not None and len(vectors) == len(ranked):
        bias = np.array([p.relevance + 0.5 * p.context for p in ranked])
        score = lexrank(vectors, [p.doc_id for p in ranked], bias)
        unit_vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    else:  # no embedder (or too few statements for a graph): shared terms
        cent = pool_centrality(g)
        score = np.array([0.6 * p.relevance + 0.4 * cent.get(p.key, 0.0) for p in ranked])
        unit_vectors = None
    n_docs = len({p.doc_id for p in ranked})
    limit = min(BOTTOM_LINE_MAX, max(3, n_docs))
    chosen: list[int] = []
    passages: set[str] = set()
    per_doc: dict[str, int] = {}
    for one_per_doc in (True, False):
        for i in np.argsort(-score, kind="stable"):
            p = ranked[i]
            if len(chosen) >= limit or i in chosen:
                continue
            if one_per_doc and per_doc.get(p.doc_id, 0) >= 1:
                continue
            start, end = g.docs[p.doc_id].span(*g.docs[p.doc_id].unit(p.index))
            passage = g.chunk_for(p.doc_id, start, end) or f"{p.doc_id}:{p.index}"
            if passage in passages or any(redundant(p.stems, ranked[j].stems) for j in chosen):
                continue
            if unit_vectors is not None and any(float(unit_vectors[i] @ unit_vectors[j]) > NEAR_DUPLICATE
                                                for j in chosen):
                continue
            chosen.append(int(i))
            passages.add(passage)
            per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
    # A central claim the source itself marks as alleged or unconfirmed says so.
    return [draft([unit(g, ranked[i])], label=unconfirmed_mark(texts[i]) or "") for i in chosen]
