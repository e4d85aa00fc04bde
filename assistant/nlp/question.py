"""What a question asks for: its type, its subject, and whether it asks for someone's words.

Deterministic rules over the question's surface; no model. Used to decide which sentences
can answer it (``answer.py``) and to abstain when none can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Question", "analyze", "entities", "SPEECH_VERBS", "speech_verb"]

# Stems of verbs and nouns that report what someone said or stated.
SPEECH_VERBS = (
    "say", "said", "says", "saying", "tell", "told", "state", "statement", "demand", "stress",
    "warn", "urge", "call", "claim", "argu", "insist", "recommend", "suggest", "cite", "citing",
    "describ", "add", "note", "accus", "criticiz", "slam", "repeat", "write", "wrote", "tweet",
    "announc", "declar", "prais", "promis", "reject", "deni", "ask", "respond", "repl", "propos",
    "blam", "acknowledg", "complain", "predict", "vow", "pledg", "assert", "comment", "remark",
    "explain", "emphasiz", "rebuk", "condemn", "welcom", "dismiss", "play", "reiterat", "voic",
)
_SPEECH_RE = re.compile(r"^(?:" + "|".join(SPEECH_VERBS) + r")", re.I)

_QWORDS = {"what", "who", "whom", "whose", "when", "where", "why", "which", "how", "did", "does",
           "do", "is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could",
           "should", "in", "on", "at", "the", "a", "an", "according", "tell", "me", "about", "and"}
_ENTITY = re.compile(r"(?:[A-Z][\w’'.-]*|[A-Z]\.)(?:\s+(?:[A-Z][\w’'.-]*|of|de|von|bin|al-[\w]+))*")


def speech_verb(word: str) -> bool:
    return bool(_SPEECH_RE.match(word))


def entities(text: str) -> list[str]:
    """Capitalised name sequences ("Ri Yong Ho", "U.N.", "Joseph Yun"), question words excluded."""
    out: list[str] = []
    for m in _ENTITY.finditer(text):
        name = re.sub(r"[’']s$", "", m.group().strip(" .’'")).strip(" .’'")
        toks = name.split()
        while toks and toks[0].lower() in _QWORDS:
            toks.pop(0)
        while toks and toks[-1].lower() in {"of", "de", "von", "bin"}:
            toks.pop()
        if toks:
            out.append(" ".join(toks))
    return out


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # who, when, where, how_many, why, what, how, which, yesno
    subject: str  # the entity the question is about ("Ri Yong Ho"), or ""
    group: bool  # the subject is a group ("US officials", "the Russian side"), not one person
    asks_words: bool  # "what did X say / demand / recommend", "how did X describe"
    future: bool
    authorship: bool  # "who wrote …", "author of …"
    entities: tuple[str, ...]


_KINDS = [
    (re.compile(r"^\s*how\s+(many|much)\b", re.I), "how_many"),
    (re.compile(r"^\s*(who|whom|whose)\b", re.I), "who"),
    (re.compile(r"^\s*when\b|\bwhat (year|date|day|month|time)\b", re.I), "when"),
    (re.compile(r"^\s*where\b", re.I), "where"),
    (re.compile(r"^\s*why\b", re.I), "why"),
    (re.compile(r"^\s*how\b", re.I), "how"),
    (re.compile(r"^\s*which\b", re.I), "which"),
    (re.compile(r"^\s*what\b", re.I), "what"),
    (re.compile(r"^\s*(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I), "yesno"),
]
_AUX = re.compile(r"^\s*(?:what|how|which)(?:\s+\w+)?\s+(?:did|does|do|has|have|had|will|would)\s+(?P<rest>.+)$", re.I)


def analyze(text: str) -> Question:
    kind = next((k for pattern, k in _KINDS if pattern.search(text)), "what")
    ents = entities(text)
    subject, asks_words, group = "", False, False
    m = _AUX.match(text.strip().rstrip("?"))
    if m and kind in ("what", "how", "which"):
        toks = m.group("rest").split()
        for i, tok in enumerate(toks[1:], start=1):
            if speech_verb(tok) and tok[:1].islower():
                phrase = " ".join(toks[:i])
                found = entities(phrase)
                subject = found[0] if found else phrase
                group = bool(found) and toks[i - 1][:1].islower()
                asks_words = True
                break
    future = bool(re.search(r"\bwill\b|\bgoing to\b|\bnext\b|\bplan(s|ned)? to\b", text, re.I))
    authorship = bool(re.search(r"\bwho\s+(wrote|authored|reported|write)\b|\bauthor\b|\bbyline\b", text, re.I))
    return Question(text, kind, subject, group, asks_words, future, authorship, tuple(ents))
