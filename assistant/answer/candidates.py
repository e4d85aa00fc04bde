"""Candidate sentences: every sentence of the top passages that could be quoted as an answer.

A candidate is an exact span of its document (``doc.text[start:end] == text``), with what the
features need around it: the sentence before it in the same paragraph (a quote's
attribution, the referent of "he"), the document's headline, and the passage it came from.
The headline line itself and sentences that address a language model are never candidates:
a headline is not a sentence of the report, and an instruction supports nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index_build.chunk import sentence_spans
from index_build.core.text import words

from ..models import Passage
from .verify import instruction_like
from .view import IndexView

__all__ = ["Sentence", "Candidate", "candidate_sentences", "sentence_before", "MIN_WORDS"]

MIN_WORDS = 4


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage: its span in the document (what a citation quotes),
    its text, and the passage it came in. Both selectors' candidates are Sentences."""
    doc_id: str
    start: int
    end: int
    text: str
    passage: Passage


@dataclass(frozen=True)
class Candidate(Sentence):
    """A sentence as the learned selector sees it: with its context."""
    before: str  # the previous sentence of the same paragraph ("" at a paragraph's start); inside a
    # quotation that runs on over several sentences, the one that attributes it (``sentence_before``)
    title: str
    position: float  # start / len(document text): 0 = the lead
    doc_sentence: int  # how many sentences of the passage come before it (0 = first of the passage)


_QUOTED = re.compile(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)")


def _inside_quote(para: str) -> bool:
    """Whether ``para`` (a paragraph up to a sentence) ends inside an open quotation."""
    return para.count("“") > para.count("”") or para.count('"') % 2 == 1


def sentence_before(text: str, a: int) -> str:
    """The sentence before ``a`` in its paragraph. When the sentence at ``a`` is inside a
    quotation that began sentences earlier ("“…,” said Justin Higgins. “The United States
    seeks stability. We remain open to negotiations.”"), the nearest earlier sentence with
    words outside the quotation marks: the one that says whose words these are."""
    window = text[max(0, a - 1200):a]
    para = window[window.rfind("\n\n") + 2:] if "\n\n" in window else window
    spans = sentence_spans(para)
    if not spans:
        return ""
    if _inside_quote(para):
        for x, y in reversed(spans):
            sentence = para[x:y]
            if len(words(_QUOTED.sub(" ", sentence))) >= 2:
                return sentence
    return para[spans[-1][0]:spans[-1][1]]


def candidate_sentences(corpus: IndexView, passages: list[Passage]) -> list[Candidate]:
    """The sentences of ``passages`` (in passage order, each sentence once even when two
    overlapping passages hold it; it keeps the better-ranked passage)."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Candidate] = []
    for p in passages:
        doc = corpus.document(p.doc_id)
        if doc is None:
            continue
        title = (doc.title or "").strip()
        n = max(1, len(doc.text))
        for i, (a, b) in enumerate(sentence_spans(p.text)):
            a, b = p.start + a, p.start + b
            key = (p.doc_id, a, b)
            if key in seen:
                continue
            seen.add(key)
            text = doc.text[a:b]
            if title and text.strip() == title:
                continue  # the headline line
            if len(words(text)) < MIN_WORDS or instruction_like(text):
                continue
            out.append(Candidate(p.doc_id, a, b, text, p, sentence_before(doc.text, a), title, a / n, i))
    return out
