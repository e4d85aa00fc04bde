"""Citations: number the sentences an answer quotes, check each against the record, and keep
a generated sentence only where the passage it cites supports it.

Shared by both answer paths (``service``): the extractive selectors hand over the sentences
they chose (``cite``); a language model's text goes through ``ground_generated``, which narrows
each cited passage to the sentence(s) that support the claim and drops what nothing supports.
The memo's generated bottom line splits and reads its model's sentences the same way
(``split_generated``, ``claim_and_marks``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from index_build.chunk import sentence_spans
from index_build.core.text import tokenize

from ..models import Citation, Passage
from .candidates import Sentence
from .verify import citation_valid, instruction_like, supported
from .view import IndexView

__all__ = ["cite", "cited_first", "ground_generated", "Grounded", "split_generated", "claim_and_marks"]

MARKER = re.compile(r"\[(\d+)\]")
# Joining two adjacent sentences must cover this much more of the claim to be worth citing both.
_ADJACENT_GAIN = 0.15


@dataclass
class Grounded:
    """A generated answer after verification: the kept sentences with their markers renumbered
    to ``citations``, and each dropped sentence with the reason."""
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def cite(corpus: IndexView, chosen: Sequence[Sentence], speaker: str = "") -> tuple[list[Citation], str]:
    """Citations of the chosen sentences (those whose span checks out against the record) and
    the answer text: each sentence verbatim with its [n]; ``speaker`` names who is quoted in
    the first one when the sentence does not."""
    citations: list[Citation] = []
    parts: list[str] = []
    for cand in chosen:
        cit = Citation(n=len(citations) + 1, chunk_id=cand.passage.chunk_id, doc_id=cand.doc_id,
                       source=cand.passage.source, title=cand.passage.title,
                       start=cand.start, end=cand.end, quote=cand.text)
        if not citation_valid(corpus, cit):
            continue
        lead = f"{speaker} said: " if speaker and not citations else ""
        citations.append(cit)
        parts.append(f"{lead}{_one_line(cand.text)} [{cit.n}]")
    return citations, " ".join(parts)


def ground_generated(corpus: IndexView, text: str, passages: list[Passage]) -> Grounded:
    """Keep each generated sentence only if what it cites supports it; quote the supporting
    sentence(s) of the passage, not the whole passage."""
    out = Grounded()
    by_span: dict[tuple[str, int, int], Citation] = {}
    kept: list[str] = []
    for sentence in split_generated(text):
        claim, marks = claim_and_marks(sentence, len(passages))
        cited = [passages[m - 1] for m in marks]
        pairs = [(p, span) for p in cited if (span := _narrow(claim, p)) is not None]
        quotes = [_quote(corpus, span) for _, span in pairs]
        check = supported(claim, quotes)
        if not pairs or not check.ok:
            out.dropped.append(f"{claim} — {check.reason or 'cites no passage'}")
            continue
        numbers = []
        for (p, (doc_id, a, b)), quote in zip(pairs, quotes):
            key = (doc_id, a, b)
            if key not in by_span:
                cit = Citation(n=len(by_span) + 1, chunk_id=p.chunk_id, doc_id=p.doc_id, source=p.source,
                               title=p.title, start=a, end=b, quote=quote)
                if not citation_valid(corpus, cit):
                    continue
                by_span[key] = cit
            numbers.append(by_span[key].n)
        if not numbers:
            out.dropped.append(f"{claim} — citation does not match the source")
            continue
        end = claim[-1] if claim[-1:] in ".!?" else "."
        body = claim[:-1] if claim[-1:] in ".!?" else claim
        kept.append(f"{body} " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)) + end)
    out.text = " ".join(kept)
    out.citations = sorted(by_span.values(), key=lambda c: c.n) if kept else []
    return out


def split_generated(text: str) -> list[str]:
    """Sentences of a model's text, each keeping the markers that follow it."""
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z“\"])|(?<=\])\s+(?=[A-Z“\"])", text)
    return [p.strip() for p in parts if p.strip()]


def claim_and_marks(sentence: str, limit: int) -> tuple[str, list[int]]:
    """A generated sentence without its [n] markers, and the distinct markers in 1..``limit``
    in the order written (a marker past the numbered list cites nothing)."""
    marks = [m for m in dict.fromkeys(int(x) for x in MARKER.findall(sentence)) if 1 <= m <= limit]
    claim = re.sub(r"\s+([.!?,;:])", r"\1", MARKER.sub("", sentence)).strip()
    return claim, marks


def cited_first(passages: list[Passage], citations: list[Citation]) -> list[Passage]:
    cited = {c.chunk_id for c in citations}
    return [p for p in passages if p.chunk_id in cited] + [p for p in passages if p.chunk_id not in cited]


def _one_line(text: str) -> str:
    """A quoted sentence on one line (its own line breaks become spaces)."""
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _quote(corpus: IndexView, span: tuple[str, int, int]) -> str:
    doc_id, a, b = span
    doc = corpus.document(doc_id)
    return doc.text[a:b] if doc else ""


def _narrow(claim: str, p: Passage) -> tuple[str, int, int] | None:
    """The sentence(s) of passage ``p`` that best support ``claim``: one sentence, or two
    adjacent ones when together they cover more of it."""
    spans = sentence_spans(p.text)
    # A sentence that gives orders to the model supports nothing it generates.
    usable = [i for i, (a, b) in enumerate(spans) if not instruction_like(p.text[a:b])]
    if not usable:
        return None
    terms = set(tokenize(claim))

    def cover(a: int, b: int) -> float:
        return len(terms & set(tokenize(p.text[a:b]))) / max(1, len(terms))

    best = max(usable, key=lambda i: cover(*spans[i]))
    a, b = spans[best]
    score = cover(a, b)
    for j in (best - 1, best + 1):
        if j in usable:
            a2, b2 = min(a, spans[j][0]), max(b, spans[j][1])
            if cover(a2, b2) > score + _ADJACENT_GAIN:
                a, b, score = a2, b2, cover(a2, b2)
    return (p.doc_id, p.start + a, p.start + b)
