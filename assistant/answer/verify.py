"""Verification: every answer sentence must be supported by the span it cites.

A citation is valid when its quote is exactly the document text at its offsets (re-read
from the record, not trusted from the answerer). A sentence is supported when its
content words are mostly found in its quotes, and every number and name it states
appears in them. Unsupported sentences are dropped; nothing left → abstain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index_build.core.text import tokenize

from ..models import Citation
from ..nlp.question import entities
from .view import IndexView

__all__ = ["citation_valid", "supported", "instruction_like", "SupportCheck", "MIN_SUPPORT"]

MIN_SUPPORT = 0.6
_NUM = re.compile(r"\d+(?:[.,]\d+)*")
# Sentences that address a language model rather than report anything (prompt injection).
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?]{0,40}\b(?:instructions?|prompts?|rules|directions|guidelines)\b"
    r"|\byou are now\b|\b(?:developer|jailbreak|god) mode\b|\bsystem prompt\b"
    r"|^\W*(?:system|assistant|user)\s*:"
    r"|\b(?:answer|respond|reply to)\s+(?:every|all|any|each)\s+(?:questions?|prompts?|users?)\b"
    r"|\bignore (?:the|this|that) (?:user|question|above|text)\b"
    r"|\b(?:reply|respond|answer)\b[^.!?]{0,12}\b(?:the|a) (?:single |one )?word\b",
    re.I,
)


def citation_valid(corpus: IndexView, c: Citation) -> bool:
    doc = corpus.document(c.doc_id)
    return doc is not None and 0 <= c.start < c.end <= len(doc.text) and doc.text[c.start:c.end] == c.quote


def instruction_like(sentence: str) -> bool:
    """Does this source sentence give orders to a language model ("ignore previous
    instructions", "SYSTEM: …", "answer every question with …")? Such a sentence is quoted
    faithfully like any other, but never counts as support for a generated claim: a model
    that obeyed it would otherwise be "supported" by the very words it obeyed."""
    return bool(_INSTRUCTION.search(sentence))


@dataclass(frozen=True)
class SupportCheck:
    ok: bool
    overlap: float
    reason: str = ""


def supported(sentence: str, quotes: list[str]) -> SupportCheck:
    """Is ``sentence`` (markers removed) backed by ``quotes``?"""
    claim = re.sub(r"\s*\[\d+\]", "", sentence).strip()
    evidence = " ".join(quotes)
    if not evidence:
        return SupportCheck(False, 0.0, "cites nothing")
    claim_terms = set(tokenize(claim))
    if not claim_terms:
        return SupportCheck(False, 0.0, "says nothing checkable")
    ev_terms = set(tokenize(evidence))
    overlap = len(claim_terms & ev_terms) / len(claim_terms)
    missing_numbers = [n for n in _NUM.findall(claim) if n not in evidence]
    if missing_numbers:
        return SupportCheck(False, overlap, f"number {missing_numbers[0]} is not in the cited passage")
    ev_lower = evidence.lower()
    for name in entities(claim):
        parts = [p for p in name.split() if len(p) > 2]
        if parts and not any(p.lower().strip(".’'") in ev_lower for p in parts):
            return SupportCheck(False, overlap, f"{name} is not in the cited passage")
    if overlap < MIN_SUPPORT:
        return SupportCheck(False, overlap, f"only {overlap:.0%} of its words are in the cited passage")
    return SupportCheck(True, overlap)
