"""Where sources disagree: contrasting statements by different actors about the same thing.

Two statements contrast when they share salient words (not the topic's, not names, not
the common words of what was gathered) and one denies what the other asserts ("dialogue,
not pressure" against "increase pressure"), or, between actors whose side the text names
(US, Russia, …), one carries a contrast cue ("a very different take", "challenged"). Pairs
from one article need less evidence than pairs across articles, where the same words more
often mean different things. Then sentences that report a disagreement outright.
"""

from __future__ import annotations

import re

from index_build.core.text import stem, tokenize

from ..nlp.speakers import Actor, DocSpeakers, display_name
from .gather import Gathered
from .sections import Draft, draft, pick, statement, unit
from .voices import actor_named

__all__ = ["disagreements", "SIDES"]

_CONTRAST = re.compile(r"\b(different take|differ\w*|disagree\w*|disput\w*|contradict\w*|reject\w*|rebuke\w*|"
                       r"challeng\w*|dismiss\w*|denied|denies|countered|at odds|far apart|opposed?|played down|"
                       r"instead of|rather than)\b", re.I)
_STATED_DISAGREEMENT = re.compile(r"\b(different take|disagree\w*|disput\w*|contradict\w*|rejected|rebuke|"
                                  r"challenged|at odds|far apart|very different)\b", re.I)
_NEGATED = re.compile(r"\b(?:not|no|never|rather than|instead of|won[’']t|cannot|can[’']t)\s+"
                      r"((?:an?\s+|the\s+)?\w+)", re.I)
# Nouns news uses for one event seen from two sides.
_EVENT_STEMS = frozenset(stem(w) for w in "visit trip meeting talks summit travel".split())
SIDES = {
    "United States": ("US", "U.S.", "United States", "American", "State Department", "White House", "Pentagon",
                      "Washington", "Congress", "House", "Senate", "R-Calif", "Secretary of State"),
    "Russia": ("Russia", "Russian", "Moscow", "Kremlin"),
    "China": ("China", "Chinese", "Beijing"),
    "North Korea": ("North Korea", "North Korean", "Pyongyang"),
    "South Korea": ("South Korea", "South Korean", "Seoul"),
    "Ukraine": ("Ukraine", "Ukrainian", "Kyiv", "Kiev"),
    "European Union": ("European Union", "EU", "Brussels"),
}

DISAGREEMENTS_MAX = 4
DISAGREEMENT_UNITS = 150
_SIDE_CUES = {side: re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, cues)) + r")(?![\w])")
              for side, cues in SIDES.items()}


def _side(actor: Actor) -> str:
    """The country an actor speaks for, when its name or role says so."""
    text = f"{actor.name} {actor.role}"
    return next((side for side, cue in _SIDE_CUES.items() if cue.search(text)), "")


_GENERIC = frozenset(stem(w) for w in """said say says told tell statement report reported issued take get new one two
    three far side sides way month week year time also would could like made make many much well""".split())


def _negated(text: str) -> set[str]:
    """Stems a sentence denies: the word after "not", "no", "rather than" …"""
    out = set()
    for m in _NEGATED.finditer(text):
        out |= set(tokenize(m.group(1))[:1])
    return out


def disagreements(g: Gathered) -> list[Draft]:
    """Contrasting statements by different actors (of different sides where the text says
    which) about the same thing: they share salient words and one denies what the other
    asserts ("dialogue, not pressure" against "increase pressure"), or one carries a
    contrast cue ("a very different take", "challenged"). Then sentences that report a
    disagreement outright."""
    units, relevance = _speaker_units(g)
    # the most relevant units only: pairs grow with the square
    items = sorted(units.items(), key=lambda kv: -relevance.get(kv[0], 0.0))[:DISAGREEMENT_UNITS]
    out: list[Draft] = []
    used: set[_Unit] = set()
    for score, ka, na, kb, nb, denied in sorted(_contrasts(g, items, units), key=lambda x: -x[0]):
        if len(out) >= 2 * DISAGREEMENTS_MAX or ka in used or kb in used or score < 1.5:
            continue
        used |= {ka, kb}
        an_a, an_b = display_name(actor_named(g, na)), display_name(actor_named(g, nb))
        group = f"{an_a} vs. {an_b}" + (f" on {_surface(g, ka, denied[0])}" if denied else "")
        out.append(draft([(ka[0], ka[1], ka[2], f"{an_a}: ")], label="", group=group))
        out.append(draft([(kb[0], kb[1], kb[2], f"{an_b}: ")], label="", group=group))
    quoted = {k for d in out for k in d.keys}
    stated = [(p.relevance + p.context, p) for p in g.pool
              if statement(g, p) and _STATED_DISAGREEMENT.search(g.info(p).text) and p.relevance > 0]
    for p in pick(stated, g, max(1, DISAGREEMENTS_MAX - len(out) // 2), quoted):
        out.append(draft([unit(g, p)], label="Reported disagreement", group="Disagreements the sources report"))
    return out


_Unit = tuple[str, int, int]  # (doc id, first sentence, last sentence) of one attributed statement
_Said = tuple[str, str, set[str]]  # (speaker, text, stems)


def _speaker_units(g: Gathered) -> tuple[dict[_Unit, _Said], dict[_Unit, float]]:
    """Every statement in the pool that a person or group makes in its own sentence (not a
    continued quotation), with its relevance to the topic."""
    units: dict[_Unit, _Said] = {}
    relevance: dict[_Unit, float] = {}
    for p in g.pool:
        s = g.info(p)
        an = g.docs[p.doc_id]
        for name in s.speakers:
            actor = an.actors.get(name)
            if actor is None or actor.kind in ("place", "media") or s.attributed_by is not None:
                continue
            first, last = an.unit(s.index)
            text = " ".join(an.sentences[i].text for i in range(first, last + 1))
            key = (p.doc_id, first, last)
            if key not in units:
                stems = set().union(*(g.stems((p.doc_id, i)) for i in range(first, last + 1)))
                units[key] = (name, text, stems)
                relevance[key] = p.relevance + p.context
    return units, relevance


def _ignored(g: Gathered) -> set[str]:
    """Stems that say nothing about what two statements disagree on: the topic's, the actors'
    names, generic words and those in more than a quarter of the pool's sentences."""
    topic = set().union(*(s for s, _ in g.terms)) if g.terms else set()
    names = {stem(w.lower()) for an in g.docs.values() for a in an.actors.values()
             for alias in a.aliases for w in re.findall(r"[^\W\d_]+", alias)}
    sent_count = max(1, len(g.pool))
    freq: dict[str, int] = {}
    for p in g.pool:
        for t in p.stems:
            freq[t] = freq.get(t, 0) + 1
    return topic | names | _GENERIC | {t for t, n in freq.items() if n / sent_count > 0.25}


def _contrasts(g: Gathered, items: list[tuple[_Unit, _Said]], units: dict[_Unit, _Said]
               ) -> list[tuple[float, _Unit, str, _Unit, str, list[str]]]:
    """Scored pairs of statements by different actors that contrast: (score, unit a, speaker
    a, unit b, speaker b, the stems one denies of the other)."""
    ignore = _ignored(g)
    sides = {name: _side(actor_named(g, name)) for name, _, _ in units.values()}
    negated = {k: _negated(text) - ignore for k, (_, text, _) in items}
    cued = {k: bool(_CONTRAST.search(text)) for k, (_, text, _) in items}
    pairs = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (ka, (na, _, sa)), (kb, (nb, _, sb)) = items[i], items[j]
            if na == nb:
                continue
            side_a, side_b = sides[na], sides[nb]
            if side_a and side_a == side_b:
                continue
            salient = (sa & sb) - ignore
            event = bool(sa & _EVENT_STEMS and sb & _EVENT_STEMS)
            if not salient and not event:
                continue
            neg_a, neg_b = negated[ka], negated[kb]
            denied = ((neg_b - neg_a) & sa) | ((neg_a - neg_b) & sb)
            cue = cued[ka] or cued[kb]
            # Known, different sides may contrast by a cue; otherwise only a denial of the
            # same event in one article counts (two allies can both say "no easing").
            same_doc = ka[0] == kb[0]
            if not ((side_a and side_b and (denied or cue) and (same_doc or len(salient) >= 3))
                    or (denied and event and same_doc)):
                continue
            score = 2.0 * bool(denied) + 0.5 * cue + 1.0 * event + 0.5 * same_doc + min(1.0, 0.25 * len(salient))
            pairs.append((score, ka, na, kb, nb, sorted(denied)))
    return pairs


def _surface(g: Gathered, key: tuple[str, int, int], term: str) -> str:
    """The word as the source writes it, for a stem."""
    an: DocSpeakers = g.docs[key[0]]
    for i in range(key[1], key[2] + 1):
        for w in re.findall(r"[^\W\d_]+", an.sentences[i].text):
            if stem(w.lower()) == term:
                return f"“{w}”"
    return f"“{term}”"
