"""The memo's length budget: an analyst reads a briefing to save time, so it must be
shorter than what it summarises.

By default a memo's words (the quoted sentences, their lead-ins and labels) are at most
``SHARE`` of the words of the documents it cites, and at most ``MAX_WORDS``. The bottom line
always stays; the other items are taken in order of their rank within their section —
each section's first item before any section's second, an actor's first statement before
anyone's third — until the budget is spent. Items of one group that only make sense
together (the two sides of a disagreement) are kept or left out together. ``--long``
(``write_memo(long=True)``) lifts the budget.
"""

from __future__ import annotations

from index_build.core.text import words

from .gather import Gathered
from .sections import Draft

__all__ = ["SHARE", "MAX_WORDS", "TRIMMED_NOTE", "word_budget", "draft_words", "within_budget"]

SHARE = 0.25
MAX_WORDS = 1200
MIN_WORDS = 120  # a memo on one short article still gets its bottom line and a few items
TRIMMED_NOTE = "Left out to keep the memo within its length budget; a long memo has it."
# Sections whose items stay whatever the budget; the rest in this order at equal rank.
KEPT = ("new_since", "bottom_line")
ORDER = ("positions", "disagreements", "developments", "timeline", "unconfirmed", "open_questions", "who_said_what")
# Sections whose items come in groups (an actor, a disagreement): an item's rank counts
# within its group, and a later group starts a little later.
GROUP_STEP = {"positions": 0.2, "disagreements": 1.0, "who_said_what": 0.34}
# A section that repeats others' kind of item starts later: "Who said what" lists quotations
# that "Positions by actor" also draws on, so a short memo gives them to the positions first.
DELAY = {"who_said_what": 1.0}
# A long item waits longer: its rank grows by LENGTH_COST × its share of the budget (a
# 90-word item in a 370-word budget ranks half a place later than a 1-word one).
LENGTH_COST = 2.0
ATOMIC_GROUPS = ("disagreements",)


def draft_words(g: Gathered, d: Draft) -> int:
    n = len(words(d.label))  # a group heading is shared: counted once, in within_budget
    for doc_id, first, last, lead in d.units:
        start, end = g.docs[doc_id].span(first, last)
        n += len(words(lead)) + len(words(g.docs[doc_id].doc.text[start:end]))
    return n


def word_budget(g: Gathered, drafts: dict[str, list[Draft]]) -> int:
    """``SHARE`` of the words of the documents the drafts quote, within [MIN_WORDS, MAX_WORDS]."""
    docs = {doc_id for ds in drafts.values() for d in ds for doc_id, *_ in d.units}
    total = sum(len(words(g.docs[d].doc.text)) for d in docs)
    return int(max(MIN_WORDS, min(MAX_WORDS, SHARE * total)))


def _published(d: Draft) -> bool:
    return d.label.endswith("(published)")


def within_budget(g: Gathered, drafts: dict[str, list[Draft]], budget: int) -> tuple[dict[str, list[Draft]], set[str]]:
    """(the drafts that fit ``budget`` words, in their sections' order; the keys of the
    sections that lost every item to the budget)."""
    spent = sum(draft_words(g, d) for key in KEPT for d in drafts.get(key, []))
    headings: set[tuple[str, str]] = set()
    items: list[tuple[float, int, str, list[int]]] = []  # (rank, section order, key, draft indices)
    for order, key in enumerate(ORDER):
        ds = drafts.get(key, [])
        groups: dict[str, list[int]] = {}
        for i, d in enumerate(ds):
            groups.setdefault(d.group, []).append(i)
        for gi, (group, members) in enumerate(groups.items()):
            step = GROUP_STEP.get(key, 0.0) if group else 0.0
            delay = DELAY.get(key, 0.0)
            if key in ATOMIC_GROUPS and group and not any(ds[i].label for i in members):  # the two sides
                items.append((delay + gi * step, order, key, members))
                continue
            for j, i in enumerate(members):
                items.append((delay + (j + gi * step if group else float(i)), order, key, [i]))
    cost_of = {(key, tuple(m)): sum(draft_words(g, drafts[key][i]) for i in m) for _, _, key, m in items}
    keep: dict[str, set[int]] = {key: set() for key in ORDER}
    quoted = {k for key in KEPT for d in drafts.get(key, []) for k in d.keys}
    # (the sides of a disagreement are two items: each pays for its own length)
    ranked = sorted(items, key=lambda x: (x[0] + LENGTH_COST * cost_of[(x[2], tuple(x[3]))] / len(x[3])
                                          / max(budget, 1), x[1]))
    for _, _, key, members in ranked:
        keys = {k for i in members for k in drafts[key][i].keys}
        if (key not in ATOMIC_GROUPS or drafts[key][members[0]].label) and keys <= quoted:  # said already
            continue
        cost = cost_of[(key, tuple(members))]
        group = drafts[key][members[0]].group
        if group and (key, group) not in headings:
            cost += len(words(group))
        if spent + cost > budget:
            continue
        spent += cost
        quoted |= keys
        keep[key].update(members)
        if group:
            headings.add((key, group))
    # A publication date alone (an article's headline in the timeline) dates nothing once the
    # events it dated are left out.
    timeline = drafts.get("timeline", [])
    events = {d.units[0][0] for i, d in enumerate(timeline) if i in keep["timeline"] and not _published(d)}
    keep["timeline"] = {i for i in keep["timeline"] if not _published(timeline[i]) or timeline[i].units[0][0] in events}
    out = {key: (ds if key not in keep else [d for i, d in enumerate(ds) if i in keep[key]])
           for key, ds in drafts.items()}
    trimmed = {key for key, ds in drafts.items() if ds and not out[key]}
    return out, trimmed
