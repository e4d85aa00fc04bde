"""Gathering for memos: many queries derived from the topic, their passages deduplicated,
the documents they come from analysed for who says what, and every retrieved sentence
scored for how much of the topic it covers.

Queries: the topic itself; the topic with words that draw out positions and events
("position", "agreed", "rejected", "said", …); then "X said …" for the actors who speak
most in the first round's passages. Documents that cover too little of the topic are left
out, so an actor query cannot drag in an unrelated article.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index_build.core.models import Document
from index_build.core.text import STOPWORDS, content_terms, stem, tokenize

from ..answer.extractive import RELATED
from ..answer.retrieve import retrieve
from ..answer.view import IndexView
from ..models import Filters, Passage
from ..nlp.attribution import analyse
from ..nlp.names import introduced_people
from ..nlp.speakers import DocSpeakers, SentenceInfo, merge_people

__all__ = ["Gathered", "Pooled", "gather", "coverage", "pool_centrality", "DERIVED_WORDS"]

DERIVED_WORDS = ("position", "agreed", "rejected", "said", "disagree dispute criticized", "warned urged",
                 "next step plan", "uncertain unclear question")
PASSAGES_PER_QUERY = 12
POOL = 50
ACTOR_QUERIES = 6
MIN_DOC_COVERAGE = 0.5
MAX_DOCS = 40  # the best-ranked relevant documents; bounds the work on a large archive

Progress = Callable[[str, int, int], None]


@dataclass
class Pooled:
    """A retrieved sentence of a relevant document."""

    doc_id: str
    index: int  # sentence index in its document's analysis
    relevance: float  # share of the topic (IDF-weighted) the sentence covers
    context: float  # … that the sentence, its paragraph and the headline cover
    rank: int  # best rank of a passage holding it
    position: int  # order among the document's statements (0 = its lead sentence)
    stems: frozenset[str] = frozenset()  # its content terms

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.index)


@dataclass
class Gathered:
    topic: str
    terms: list[tuple[frozenset[str], float]]
    docs: dict[str, DocSpeakers]
    doc_relevance: dict[str, float]
    pool: list[Pooled]
    passages: list[Passage]
    queries: list[str]
    timings_ms: dict[str, float] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # per-memo lookups the sections share
    _chunks: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict, repr=False)

    def info(self, p: Pooled | tuple[str, int]) -> SentenceInfo:
        doc_id, index = p.key if isinstance(p, Pooled) else p
        return self.docs[doc_id].sentences[index]

    def stems(self, key: tuple[str, int]) -> frozenset[str]:
        """Content terms of any sentence of a gathered document (cached)."""
        cache: dict[tuple[str, int], frozenset[str]] = self.cache.setdefault(
            "stems", {p.key: p.stems for p in self.pool})
        if key not in cache:
            cache[key] = frozenset(tokenize(self.info(key).text))
        return cache[key]

    def by_key(self) -> dict[tuple[str, int], Pooled]:
        return {p.key: p for p in self.pool}

    def chunk_for(self, doc_id: str, start: int, end: int) -> str:
        """The chunk that holds ``start:end`` (or, for a span across two chunks, its start)."""
        rows = self._chunks.get(doc_id, [])
        inside = [cid for a, b, cid in rows if a <= start and end <= b]
        if inside:
            return inside[0]
        return next((cid for a, b, cid in rows if a <= start < b), rows[0][2] if rows else "")


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def doc_terms(text: str) -> set[str]:
    """The stemmed content terms of a whole document, as a set (faster than ``tokenize``
    for long texts: each distinct word is stemmed once)."""
    found = set(_WORD.findall(text.lower()))
    return {stem(w[:-2] if w.endswith(("'s", "’s")) else w.replace("’", "'")) for w in found} - STOPWORDS


def _topic_terms(corpus: IndexView, topic: str) -> list[tuple[frozenset[str], float]]:
    return [(frozenset([t]) | RELATED.get(t, frozenset()), corpus.idf(t)) for t in content_terms(topic)]


def coverage(terms: list[tuple[frozenset[str], float]], have: set[str]) -> float:
    total = sum(w for _, w in terms)
    return sum(w for stems, w in terms if stems & have) / total if total else 0.0


def _chunk_rows(corpus: IndexView, doc_ids: set[str]) -> dict[str, list[tuple[int, int, str]]]:
    rows: dict[str, list[tuple[int, int, str]]] = {d: [] for d in doc_ids}
    for i, d in enumerate(corpus.doc_ids):
        if d in rows:
            rows[d].append((int(corpus.starts[i]), int(corpus.ends[i]), corpus.ids[i]))
    for r in rows.values():
        r.sort()
    return rows


def gather(corpus: IndexView, topic: str, filters: Filters = Filters(), progress: Progress | None = None) -> Gathered:
    """Retrieve broadly for ``topic`` and analyse what came back: the topic and its derived
    queries first, then what the most vocal actors of that first round said."""
    progress = progress or (lambda stage, done, total: None)
    timings = {"retrieve": 0.0, "analyse": 0.0}
    best: dict[str, Passage] = {}
    queries: list[str] = []

    def run(query: str) -> None:
        t0 = time.perf_counter()
        queries.append(query)
        for p in retrieve(corpus, query, filters, k=PASSAGES_PER_QUERY, pool=POOL).passages:
            if p.chunk_id not in best or p.rank < best[p.chunk_id].rank:
                best[p.chunk_id] = p
        timings["retrieve"] += (time.perf_counter() - t0) * 1000

    first = [topic] + [f"{topic} {w}" for w in DERIVED_WORDS]
    total = len(first) + ACTOR_QUERIES
    for i, q in enumerate(first):
        run(q)
        progress("gather", i + 1, total)
    terms = _topic_terms(corpus, topic)
    reading = _Reading(corpus, terms)
    reading.load(list(best.values()))
    for j, name in enumerate(_vocal_actors(best, reading.docs)):
        run(f"{name} said {topic}")
        progress("gather", len(first) + j + 1, total)
    progress("gather", total, total)
    reading.load(list(best.values()))
    t0 = time.perf_counter()
    docs = {an.doc.doc_id: an for an in merge_people(list(reading.docs.values()))}
    relevance = reading.relevance
    if docs:
        floor = min(MIN_DOC_COVERAGE, 0.75 * max(relevance[d] for d in docs))
        docs = {d: an for d, an in docs.items() if relevance[d] >= floor}
    pool = _pool(terms, docs, [p for p in best.values() if p.doc_id in docs])
    timings["analyse"] += reading.ms + (time.perf_counter() - t0) * 1000
    passages = sorted((p for p in best.values() if p.doc_id in docs), key=lambda p: (p.rank, -p.score))
    return Gathered(topic, terms, docs, {d: relevance[d] for d in docs}, pool, passages, queries, timings,
                    _chunks=_chunk_rows(corpus, set(docs)))


@dataclass
class _Reading:
    """The documents the retrieved passages come from: each scored for the topic once, and the
    relevant ones (at most ``MAX_DOCS``) analysed for who speaks."""
    corpus: IndexView
    terms: list[tuple[frozenset[str], float]]
    docs: dict[str, DocSpeakers] = field(default_factory=dict)
    texts: dict[str, Document] = field(default_factory=dict)
    relevance: dict[str, float] = field(default_factory=dict)
    people: dict[str, dict[str, str]] = field(default_factory=dict)  # doc id → the people it introduces
    ms: float = 0.0

    def load(self, passages: list[Passage]) -> None:
        """Score the documents of ``passages``; analyse the relevant ones, knowing the
        people every relevant document so far introduces."""
        t0 = time.perf_counter()
        for doc_id in dict.fromkeys(p.doc_id for p in sorted(passages, key=lambda p: p.rank)):
            if doc_id in self.relevance or len(self.texts) >= MAX_DOCS:
                continue
            doc = self.corpus.document(doc_id)
            self.relevance[doc_id] = coverage(self.terms, doc_terms(f"{doc.title}\n{doc.text}")) if doc else 0.0
            if doc is not None and (self.relevance[doc_id] >= MIN_DOC_COVERAGE or not self.terms):
                self.texts[doc_id] = doc
                self.people[doc_id] = introduced_people(doc)
        known: dict[str, str] = {}
        for found in self.people.values():
            for name, role in found.items():
                known.setdefault(name, role)
        for doc_id, doc in self.texts.items():
            if doc_id not in self.docs:  # once: people introduced only later are a small loss
                self.docs[doc_id] = analyse(doc, known)
        self.ms += (time.perf_counter() - t0) * 1000


def _vocal_actors(best: dict[str, Passage], docs: dict[str, DocSpeakers]) -> list[str]:
    """The people and groups who speak most often in the best-ranked passages."""
    voices: Counter[str] = Counter()
    for p in sorted(best.values(), key=lambda p: p.rank)[:3 * PASSAGES_PER_QUERY]:
        an = docs.get(p.doc_id)
        if an is None:
            continue
        for s in an.sentences:
            if p.start <= s.start < p.end:
                for name in s.speakers:
                    if an.actors.get(name) and an.actors[name].kind in ("person", "group"):
                        voices[name] += 1
    return [name for name, _ in voices.most_common(ACTOR_QUERIES)]


def _pool(terms: list[tuple[frozenset[str], float]], docs: dict[str, DocSpeakers], passages: list[Passage]
          ) -> list[Pooled]:
    out: dict[tuple[str, int], Pooled] = {}
    line_terms: dict[tuple[str, int], set[str]] = {}
    for p in sorted(passages, key=lambda p: p.rank):
        an = docs[p.doc_id]
        header = set(tokenize(an.doc.title))
        statements = [s.index for s in an.sentences if not s.heading]
        order = {idx: k for k, idx in enumerate(statements)}
        for s in an.sentences:
            if s.heading or not (p.start <= s.start and s.end <= p.end):
                continue
            key = (p.doc_id, s.index)
            if key in out:
                out[key].rank = min(out[key].rank, p.rank)
                continue
            own = set(tokenize(s.text))
            lk = (p.doc_id, s.line)
            if lk not in line_terms:
                line_terms[lk] = set().union(*(set(tokenize(x.text)) for x in an.sentences if x.line == s.line))
            out[key] = Pooled(p.doc_id, s.index, coverage(terms, own), coverage(terms, own | line_terms[lk] | header),
                              p.rank, order.get(s.index, 999), frozenset(own))
    return sorted(out.values(), key=lambda x: (x.doc_id, x.index))


def pool_centrality(g: Gathered) -> dict[tuple[str, int], float]:
    """How much of what a sentence says other documents say too (0..1): the share of its
    terms found in other gathered documents, averaged."""
    doc_terms: dict[str, set[str]] = {}
    sent_terms: dict[tuple[str, int], set[str]] = {}
    for p in g.pool:
        terms = set(p.stems)
        sent_terms[p.key] = terms
        doc_terms.setdefault(p.doc_id, set()).update(terms)
    df: Counter[str] = Counter(t for terms in doc_terms.values() for t in terms)
    n = max(1, len(doc_terms) - 1)
    out = {}
    for key, terms in sent_terms.items():
        if not terms:
            out[key] = 0.0
            continue
        own = doc_terms[key[0]]
        out[key] = float(np.mean([(df[t] - (1 if t in own else 0)) / n for t in terms]))
    return out
