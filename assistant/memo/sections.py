"""The sections of an extractive memo, chosen from the gathered sentences.

Every item is a ``Draft``: one or more units (a run of whole sentences of one document) to
quote verbatim, with a label. Nothing here writes a sentence of its own: labels name an
actor, a date or the words two accounts share; the claims are the sources' sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from index_build.core.text import outside_quotes, tokenize, words

from ..nlp.attribution import Actor, display_name
from ..nlp.dates import TimeRef, find_dates, parse_published
from .gather import Gathered, Pooled, pool_centrality

__all__ = ["Draft", "bottom_line", "developments", "positions", "unconfirmed", "unconfirmed_mark", "who_said_what",
           "timeline", "open_questions", "draft", "pick",
           "statement", "standalone", "unit", "actor_named", "redundant"]


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
BOTTOM_LINE_MAX = 5
DEVELOPMENTS_MAX = 6
ACTORS_MAX = 12
PER_ACTOR = 3
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


def pick(cands: list[tuple[float, Pooled]], g: Gathered, limit: int, used: set, per_doc: int = 99,
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


def bottom_line(g: Gathered, embedder=None) -> list[Draft]:
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
def actor_named(g: Gathered, name: str) -> Actor:
    """The actor called ``name``, with a role if any document gives one."""
    cache = g.cache.setdefault("actors", {})
    if name not in cache:
        best = None
        for an in g.docs.values():
            a = an.actors.get(name)
            if a is not None and (best is None or (not best.role and a.role)):
                best = a
        cache[name] = best or Actor(name, "group")
    return cache[name]


def _ranked_actors(g: Gathered, featured: set[tuple[str, int]]) -> list[tuple[str, float]]:
    """Actors by how much the gathered sentences have them speak, act or appear; those in
    the memo's leading sentences (``featured``) count extra."""
    score: dict[str, float] = {}
    for p in g.pool:
        s = g.info(p)
        kinds = {name: g.docs[p.doc_id].actors.get(name) for name in s.mentions + s.speakers}
        for name in set(s.speakers) | set(s.subjects) | set(s.mentions):
            actor = kinds.get(name)
            if actor is None or actor.kind == "place":
                continue
            w = 3.0 if name in s.speakers else 2.0 if name in s.subjects else 1.0
            if actor.kind == "media" or (actor.kind == "group" and name not in s.speakers):
                continue
            score[name] = score.get(name, 0.0) + w * (0.3 + p.relevance) + (1.5 if p.key in featured else 0.0)
    return sorted(score.items(), key=lambda x: -x[1])


# "In their words" needs at least this share of the quoted passage inside quotation marks
# (half: more of the speaker's words than of the reporter's).
OWN_WORDS_SHARE = 0.5


def positions(g: Gathered, featured: set[tuple[str, int]] = frozenset()) -> list[Draft]:
    """Each actor's stance: their own quoted words first, then what they are reported to
    have said, then what the sources say they did or, failing all that, where they appear."""
    out: list[Draft] = []
    for name, _ in _ranked_actors(g, featured)[:ACTORS_MAX]:
        actor = actor_named(g, name)
        heading = display_name(actor) + (f" — {actor.role}" if actor.role else "")
        tiers: list[list[tuple[float, Pooled, str]]] = [[], [], [], []]
        for p in g.pool:
            s = g.info(p)
            an = g.docs[p.doc_id]
            first, last = an.unit(s.index)
            # Quoted words are the actor's own only when no one else speaks in the sentence, and
            # the passage is mostly their words: a reporter's sentence around a quoted fragment
            # ("Pompeo said he had a “quick, polite exchange” with Ri…") is reported speech.
            quoted = (s.speakers == (name,) and any(an.sentences[i].quoted for i in range(first, last + 1))
                      and an.quoted_share(first, last) >= OWN_WORDS_SHARE)
            if name in s.speakers and s.attributed_by is None:
                tiers[0 if quoted else 1].append((p.relevance, p, "In their words" if quoted else "Reported"))
            elif name in s.subjects and s.attributed_by is None:
                tiers[2].append((p.relevance, p, "Reported"))
            elif name in s.mentions:
                tiers[3].append((p.relevance, p, "Mentioned"))
        chosen: list[Draft] = []
        seen: set[tuple[str, int]] = set()
        for tier in tiers:
            for _, p, label in sorted(tier, key=lambda x: (-x[0], x[1].doc_id, x[1].index)):
                if len(chosen) >= PER_ACTOR or (chosen and label == "Mentioned"):
                    break
                quoted_unit = unit(g, p)
                keys = {(quoted_unit[0], i) for i in range(quoted_unit[1], quoted_unit[2] + 1)}
                if keys & seen:
                    continue
                seen |= keys
                chosen.append(draft([quoted_unit], label=label, group=heading))
        out.extend(chosen)
    return out


# -- who said what, across outlets -----------------------------------------------------------
WHO_ACTORS = 8
WHO_PER_ACTOR = 4
SAME_STATEMENT = 0.7  # share of quoted words two outlets' copies of one statement have in common


def _outlet(g: Gathered, doc_id: str) -> tuple[tuple[int, int, int], str, str]:
    """(sort key, outlet, date) of a document: its publisher, else its web site, else its file."""
    doc = g.docs[doc_id].doc
    pub = parse_published(doc.published)
    site = re.sub(r"^www\.", "", urlsplit(doc.url).netloc) if doc.url else ""
    # undated copies sort after dated ones; among equals, by outlet name
    return ((pub or (9999, 99, 99)), doc.publisher or site or doc.source, doc.published or "undated")


def who_said_what(g: Gathered) -> list[Draft]:
    """For each actor who is quoted, their quoted statements (mostly their own words, one
    speaker), each once: the copies several outlets carry of one statement (syndicated,
    re-reported) are grouped and cited from the earliest publisher, whose name and date
    label the item, with the other outlets after "also:"."""
    found: dict[str, list[tuple[tuple[str, int, int], frozenset[str], float]]] = {}
    for p in g.pool:
        s = g.info(p)
        an = g.docs[p.doc_id]
        if len(s.speakers) != 1 or s.attributed_by is not None or not statement(g, p):
            continue
        first, last = an.unit(s.index)
        if an.quoted_share(first, last) < OWN_WORDS_SHARE:
            continue
        said = frozenset(tokenize(an.quoted_words(first, last)))
        if len(said) < 3:
            continue
        entry = ((p.doc_id, first, last), said, p.relevance + 0.5 * p.context)
        if all(e[0] != entry[0] for e in found.get(s.speakers[0], [])):
            found.setdefault(s.speakers[0], []).append(entry)
    order = [name for name, _ in _ranked_actors(g, set())]
    out: list[Draft] = []
    for name in sorted(found, key=lambda n: order.index(n) if n in order else len(order))[:WHO_ACTORS]:
        actor = actor_named(g, name)
        if actor.kind in ("place", "media"):
            continue
        groups: list[list[tuple[tuple[str, int, int], frozenset[str], float]]] = []
        for entry in sorted(found[name], key=lambda e: -e[2]):
            home = next((grp for grp in groups if any(
                len(entry[1] & e[1]) / min(len(entry[1]), len(e[1])) >= SAME_STATEMENT for e in grp)), None)
            if home is None:
                groups.append([entry])
            else:
                home.append(entry)
        heading = display_name(actor) + (f" — {actor.role}" if actor.role else "")
        for grp in groups[:WHO_PER_ACTOR]:
            copies = sorted(grp, key=lambda e: _outlet(g, e[0][0]))
            (doc_id, first, last), _, _ = copies[0]
            _, publisher, date = _outlet(g, doc_id)
            others = [o for o in dict.fromkeys(_outlet(g, e[0][0])[1] for e in copies[1:]) if o != publisher]
            label = f"{publisher}, {date}" + (f" (also: {', '.join(others)})" if others else "")
            out.append(draft([(doc_id, first, last, "")], label=label, group=heading))
    return out


# -- timeline --------------------------------------------------------------------------------
def timeline(g: Gathered) -> list[Draft]:
    """Dated events, earliest first; relative dates resolved against the article's date
    where it allows, else shown as written."""
    entries: list[tuple[float, tuple, Pooled, TimeRef]] = []
    for p in g.pool:
        s = g.info(p)
        if not statement(g, p):
            continue
        refs = find_dates(s.text, g.docs[p.doc_id].doc.published)
        if not refs:
            continue
        ref = refs[0]
        entries.append((p.relevance + 0.5 * p.context + (0.2 if ref.resolved else 0.0), ref.sort_key, p, ref))
    chosen: list[tuple[tuple, Pooled, TimeRef]] = []
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
            ref = TimeRef(an.doc.published, 0, f"{an.doc.published} (published)", key, False, True)
            chosen.append((key + (1,), Pooled(doc_id, head.index, 0, 0, 0, 0), ref))
    chosen.sort(key=lambda c: (c[0] + (0,) * (4 - len(c[0])), c[1].doc_id, c[1].index))
    return [draft([unit(g, p)] if not g.info(p).heading else [(p.doc_id, p.index, p.index, "")],
                   label=ref.label) for _, p, ref in chosen]

