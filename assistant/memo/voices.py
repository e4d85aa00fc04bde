"""The memo's people and organisations: "Positions by actor" (each top actor's own statements)
and "Who said what" (their quoted words, one row per statement however many outlets carry it)."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from urllib.parse import urlsplit

from index_build.core.text import tokenize

from ..nlp.dates import parse_published
from ..nlp.speakers import Actor, display_name
from .gather import Gathered, Pooled
from .sections import Draft, draft, statement, unit

__all__ = ["positions", "who_said_what", "actor_named"]

ACTORS_MAX = 12
PER_ACTOR = 3


def actor_named(g: Gathered, name: str) -> Actor:
    """The actor called ``name``, with a role if any document gives one."""
    cache: dict[str, Actor] = g.cache.setdefault("actors", {})
    if name not in cache:
        best = None
        for an in g.docs.values():
            a = an.actors.get(name)
            if a is not None and (best is None or (not best.role and a.role)):
                best = a
        cache[name] = best or Actor(name, "group")
    return cache[name]


def _ranked_actors(g: Gathered, featured: AbstractSet[tuple[str, int]]) -> list[tuple[str, float]]:
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


def positions(g: Gathered, featured: AbstractSet[tuple[str, int]] = frozenset()) -> list[Draft]:
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
