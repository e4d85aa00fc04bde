"""The sections of an extractive memo, chosen from the gathered sentences.

Every item is a ``Draft``: one or more units (a run of whole sentences of one document) to
quote verbatim, with a label. Nothing here writes a sentence of its own: labels name an
actor, a date or the words two accounts share; the claims are the sources' sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index_build.core.text import outside_quotes, tokenize, words

from ..nlp.dates import TimeRef, find_dates, parse_published
from .gather import Gathered, Pooled

__all__ = ["Draft", "developments", "unconfirmed", "unconfirmed_mark", "timeline", "open_questions", "draft", "pick",
           "statement", "standalone", "unit", "redundant"]


@dataclass
class Draft:
    units: list[tuple[str, int, int, str]]  # (doc_id, first sentence, last sentence, lead-in text)
    label: str = ""
    group: str = ""
    keys: set[tuple[str, int]] = field(default_factory=set)  # the sentences it quotes


def draft(units: list[tuple[str, int, int, str]], label: str = "", group: str = "") -> Draft:
    """A draft item quoting ``units``: (doc id, first sentence, last sentence, lead-in)."""
    keys = {(d, i) for d, a, b, _ in units for i in range(a, b + 1)}
    return Draft(units, label, group, keys)


_ANAPHOR = re.compile(r"^[“\"‘']?\s*(But|And|Or|So|He|She|They|It|This|That|These|Those|His|Her|Their|Its|"
                      r"The statement|Both|Others|Still|Yet|Such|There|Here|Nonetheless|However|Meanwhile)\b")
_EVENT = re.compile(r"\b(\w+ed|met|made|said|told|flew|sent|took|gave|went|came|won|lost|held|began|left|"
                    r"brought|struck|set|put|read|saw|became|rose|fell|paid|signed|voted|passed|launched|"
                    r"has been|have been|will)\b")
_OPEN_CUES = [
    (re.compile(r"\b(unclear|uncertain|unknown|remains to be seen|open question|unresolved|undecided|"
                r"skeptical|sceptical|doubts?|doubtful|not knowing|no intention|far apart|yet to|"
                r"hasn[’']t committed|has not committed|long way to go|whether)\b", re.I), 1.0),
    (re.compile(r"\b(hope|might|may|could|would need|risk|unless|question|if)\b"), 0.5),
    (re.compile(r"\b(still|remain|remains|yet)\b", re.I), 0.3),
]
# Claims the sources themselves mark as unconfirmed or contested; the first mark found labels
# the item. ("Did not respond" is here, not under open questions: it says a claim went
# unanswered, it asks nothing.)
_UNCONFIRMED = [
    ("Denied", re.compile(r"\b(den(?:y|ies|ied|ying)|denials?|refut(?:e|es|ed|ing)|(?:rejected|dismissed) "
                          r"(?:the|these|those|such) (?:claims?|accusations?|allegations?|reports?|charges?))\b",
                          re.I)),
    ("Disputed", re.compile(r"\b(disput(?:e|es|ed|ing)|contested|contradict(?:s|ed|ing)?)\b", re.I)),
    ("Alleged", re.compile(r"\b(alleg(?:e|es|ed|edly|ing|ations?)|accus(?:e|es|ed|ing|ations?))\b", re.I)),
    ("Unverified", re.compile(r"\b(unconfirmed|unverified|(?:could|can)(?: ?not|n[’']t) (?:be )?(?:independently )?"
                              r"(?:verif|confirm)\w*|(?:not|n[’']t) (?:been )?(?:independently )?"
                              r"(?:verified|confirmed))\b", re.I)),
    ("Reportedly", re.compile(r"\b(reportedly|purportedly|supposedly|rumou?r(?:s|ed)?|unnamed (?:officials?|sources?)|"
                              r"according to (?:reports|people familiar|sources|unnamed))\b", re.I)),
    ("No response", re.compile(r"\b((?:did not|didn[’']t|has not|hasn[’']t|have not|haven[’']t) (?:immediately )?"
                               r"(?:respond|reply|return)\w*|declined to comment|could not be reached|"
                               r"no immediate (?:response|comment)|unavailable for comment)\b", re.I)),
]
UNCONFIRMED_MAX = 5
DEVELOPMENTS_MAX = 6
TIMELINE_MAX = 12
OPEN_QUESTIONS_MAX = 5


def redundant(ta: frozenset[str] | set[str], tb: frozenset[str] | set[str], limit: float = 0.6) -> bool:
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > limit


def statement(g: Gathered, p: Pooled) -> bool:
    """A sentence that can be quoted as a statement: not a headline, not a question, not a
    quotation nobody is named as saying."""
    s = g.info(p)
    return (not s.heading and not s.text.rstrip(" ”\"’'").endswith("?")
            and not g.docs[p.doc_id].orphan_quote(p.index))


def standalone(g: Gathered, p: Pooled) -> bool:
    s = g.info(p)
    n = len(words(s.text))
    return (statement(g, p) and s.attributed_by is None and not _ANAPHOR.match(s.text)
            and not s.text.lstrip().startswith(("“", '"')) and 8 <= n <= 70)


def unit(g: Gathered, p: Pooled | tuple[str, int], lead: str = "") -> tuple[str, int, int, str]:
    doc_id, index = p.key if isinstance(p, Pooled) else p
    first, last = g.docs[doc_id].unit(index)
    return (doc_id, first, last, lead)


def pick(cands: list[tuple[float, Pooled]], g: Gathered, limit: int, used: set[tuple[str, int]], per_doc: int = 99,
          against: list[str] | None = None) -> list[Pooled]:
    chosen: list[Pooled] = []
    texts = [frozenset(tokenize(t)) for t in against or []]
    count: dict[str, int] = {}
    for _, p in sorted(cands, key=lambda x: -x[0]):
        if len(chosen) >= limit:
            break
        if p.key in used or count.get(p.doc_id, 0) >= per_doc or any(redundant(p.stems, t) for t in texts):
            continue
        chosen.append(p)
        texts.append(p.stems)
        count[p.doc_id] = count.get(p.doc_id, 0) + 1
    return chosen


# -- bottom line, developments, open questions -----------------------------------------------
# Bottom line: topic-biased LexRank (Erkan & Radev 2004; Otterbacher et al. 2005) over the
# on-topic statements, with the index's own embedder as the similarity.
def developments(g: Gathered, used: set[tuple[str, int]], against: list[str]) -> list[Draft]:
    cands = []
    for p in g.pool:
        s = g.info(p)
        if not statement(g, p) or s.text.lstrip().startswith(("“", '"')) or s.attributed_by is not None:
            continue
        if len(words(s.text)) < 7 or not _EVENT.search(s.text):
            continue
        dated = 1.0 if find_dates(s.text, None) else 0.0
        acting = 1.0 if (s.subjects or s.speakers) else 0.0
        cands.append((0.5 * p.relevance + 0.2 * p.context + 0.15 * dated + 0.15 * acting, p))
    n_docs = len({p.doc_id for _, p in cands})
    per_doc = 2 if n_docs >= 3 else DEVELOPMENTS_MAX
    return [draft([unit(g, p)]) for p in pick(cands, g, DEVELOPMENTS_MAX, used, per_doc, against)]


def open_questions(g: Gathered, used: set[tuple[str, int]], against: list[str]) -> list[Draft]:
    cands = []
    for p in g.pool:
        s = g.info(p)
        if s.heading or g.docs[p.doc_id].orphan_quote(p.index):
            continue
        cue = sum(w for pattern, w in _OPEN_CUES if pattern.search(s.text))
        if cue >= 1.0:
            cands.append((min(cue, 2.0) * (0.3 + p.relevance + 0.5 * p.context), p))
    chosen = pick(cands, g, OPEN_QUESTIONS_MAX, used, per_doc=3, against=against)
    return [draft([unit(g, p)]) for p in chosen]


def unconfirmed_mark(text: str) -> str | None:
    """"Alleged", "Denied", "Disputed", "Unverified", "Reportedly" or "No response" when the
    sentence marks its claim so, else None."""
    reporter = outside_quotes(text)  # a speaker's "territorial dispute" marks nothing
    return next((label for label, pattern in _UNCONFIRMED if pattern.search(reporter)), None)


def unconfirmed(g: Gathered, used: set[tuple[str, int]]) -> list[Draft]:
    """Claims the sources mark as alleged, denied, disputed, unverified or unanswered, each
    labelled with the mark ("Alleged", "Denied", …), most on-topic first."""
    cands, marks = [], {}
    for p in g.pool:
        s = g.info(p)
        if not statement(g, p) or p.relevance <= 0:
            continue
        mark = unconfirmed_mark(s.text)
        if mark is not None:
            marks[p.key] = mark
            cands.append((p.relevance + 0.5 * p.context, p))
    chosen = pick(cands, g, UNCONFIRMED_MAX, used, per_doc=3)
    return [draft([unit(g, p)], label=marks[p.key]) for p in chosen]


# -- positions by actor ----------------------------------------------------------------------
def timeline(g: Gathered) -> list[Draft]:
    """Dated events, earliest first; relative dates resolved against the article's date
    where it allows, else shown as written."""
    entries: list[tuple[float, tuple[int, ...], Pooled, TimeRef]] = []
    for p in g.pool:
        s = g.info(p)
        if not statement(g, p):
            continue
        refs = find_dates(s.text, g.docs[p.doc_id].doc.published)
        if not refs:
            continue
        ref = refs[0]
        entries.append((p.relevance + 0.5 * p.context + (0.2 if ref.resolved else 0.0), ref.sort_key, p, ref))
    chosen: list[tuple[tuple[int, ...], Pooled, TimeRef]] = []
    texts: list[frozenset[str]] = []
    for _score, key, p, ref in sorted(entries, key=lambda e: -e[0]):
        if len(chosen) >= TIMELINE_MAX:
            break
        if any(redundant(p.stems, t, 0.8) for t in texts):
            continue
        chosen.append((key, p, ref))
        texts.append(p.stems)
    # Publication dates: each dated article's headline, when it is in the text, after the
    # events the article reports (a year-only date sorts after that year's relative dates).
    for doc_id, an in g.docs.items():
        pub = parse_published(an.doc.published)
        if pub is None or not any(p.doc_id == doc_id for _, p, _ in chosen):
            continue
        head = next((s for s in an.sentences if s.heading and s.text.strip() == an.doc.title.strip()), None)
        if head is not None:
            key = (pub[0], pub[1] or 13, pub[2] or 32)
            ref = TimeRef(an.doc.published or "", 0, f"{an.doc.published} (published)", key, False, True)
            chosen.append((key + (1,), Pooled(doc_id, head.index, 0, 0, 0, 0), ref))
    chosen.sort(key=lambda c: (c[0] + (0,) * (4 - len(c[0])), c[1].doc_id, c[1].index))
    return [draft([unit(g, p)] if not g.info(p).heading else [(p.doc_id, p.index, p.index, "")],
                   label=ref.label) for _, p, ref in chosen]

