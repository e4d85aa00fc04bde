"""Follow-up questions: condense the conversation into one standalone query.

Deterministic rule (no LLM configured): when a question leans on earlier turns (a pronoun,
"that meeting", "the same", or very few content words), replace a personal pronoun with
the most recent named person and carry the earlier turns' names and key words along.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index_build.core.text import STOPWORDS, words

from ..nlp.question import entities

__all__ = ["condense", "needs_context", "Condensed"]

_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|it|its)\b", re.I)
_DEICTIC = re.compile(r"\b(that|this|those|these|the same|the)\s+(meeting|visit|trip|statement|letter|report|"
                      r"article|story|resolution|proposal|talks|summit|call|deal|vote|sanctions?|event)\b"
                      r"|\b(there|then|afterwards|after that|before that)\b", re.I)


def _open_pronoun(question: str) -> re.Match[str] | None:
    """The first pronoun with no antecedent in the question itself: in "What did Kim Jong Un
    say in his letter?" "his" is Kim's, so the question does not lean on earlier turns."""
    m = _PRONOUN.search(question)
    if m is None:
        return None
    before = question[:m.start()]
    if any(name in before for name in entities(question)):
        return None
    return m


def needs_context(question: str) -> bool:
    content = [w for w in words(question) if w not in STOPWORDS]
    return bool(_open_pronoun(question) or _DEICTIC.search(question) or len(content) <= 2)


def _person(history: list[str]) -> str:
    """The most recent multi-word name in the history (people usually have two)."""
    for turn in reversed(history):
        names = entities(turn)
        multi = [n for n in names if len(n.split()) >= 2]
        if multi:
            return multi[0]
        if names:
            return names[0]
    return ""


@dataclass(frozen=True)
class Condensed:
    question: str  # the question with pronouns resolved: what an answer must address
    query: str  # the question plus the earlier turns' names and key words: what is retrieved

    def __str__(self) -> str:
        return self.query


def condense(question: str, history: list[str]) -> Condensed:
    """A standalone version of ``question`` given earlier user questions (oldest first)."""
    history = [h for h in history if h and h.strip()]
    if not history or not needs_context(question):
        return Condensed(question, question)
    person = _person(history)
    standalone = question
    if person and _open_pronoun(question):
        def swap(m: re.Match[str]) -> str:
            w = m.group(0).lower()
            return f"{person}’s" if w in ("his", "her", "hers", "their", "its") and w != "her" else person
        standalone = re.sub(r"\b(he|she|him|his)\b", swap, standalone, count=1, flags=re.I)
    carried: list[str] = []
    for turn in history[-2:]:
        for name in entities(turn):
            if name not in standalone and name not in carried:
                carried.append(name)
        for w in words(turn):
            known = " ".join(carried).lower() + " " + standalone.lower()
            if w not in STOPWORDS and len(w) > 3 and w not in known.split() \
                    and w not in {"what", "which", "where", "when", "does", "about"}:
                carried.append(w)
    query = f"{standalone} ({', '.join(carried[:8])})" if carried else standalone
    return Condensed(standalone, query)
