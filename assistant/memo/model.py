"""The memo as data: sections of cited bullets, the citations and the sources, with their
JSON form (``Memo.as_json`` / ``memo_from_json``) that exports and re-checks read."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..models import Citation, Filters

__all__ = ["Memo", "Section", "Bullet", "MemoSource", "SECTION_TITLES", "EMPTY_NOTES", "memo_from_json", "one_line",
           "quoted"]

SECTION_TITLES = {
    "bottom_line": "Bottom line",
    "developments": "Key developments",
    "positions": "Positions by actor",
    "disagreements": "Where sources disagree",
    "unconfirmed": "Unconfirmed or disputed",
    "timeline": "Timeline",
    "open_questions": "Open questions",
    "who_said_what": "Who said what",
}
EMPTY_NOTES = {
    "bottom_line": "The sources hold nothing on this topic.",
    "developments": "No further developments in the sources.",
    "positions": "The sources quote no one on this topic.",
    "disagreements": "No contrasting statements found in the sources.",
    "unconfirmed": "The sources mark nothing on this topic as alleged, denied or unconfirmed.",
    "timeline": "The sources give no dates for these events.",
    "open_questions": "The sources raise no open questions on this topic.",
    "who_said_what": "The sources quote no one in their own words on this topic.",
}


@dataclass(frozen=True)
class Bullet:
    """One item: verbatim source text with [n] markers after what each citation supports."""

    text: str
    citations: tuple[int, ...]
    label: str = ""  # a lead-in: "In their words", a date
    group: str = ""  # the sub-heading it sits under: an actor, a disagreement


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    bullets: tuple[Bullet, ...]
    note: str = ""  # shown when there are no bullets (says what is missing, claims nothing)


@dataclass(frozen=True)
class MemoSource:
    doc_id: str
    source: str
    title: str
    publisher: str
    published: str | None
    url: str = ""


@dataclass(frozen=True)
class Memo:
    topic: str
    generated: str  # ISO date and time the memo was written
    sections: tuple[Section, ...]
    citations: tuple[Citation, ...]
    sources: tuple[MemoSource, ...]
    filters: Filters = Filters()
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    dropped: tuple[str, ...] = ()  # generated sentences that verification removed
    budget: int | None = None  # the word budget it was held to (None: --long)

    @property
    def title(self) -> str:
        return f"Briefing: {self.topic}"

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def citation(self, n: int) -> Citation:
        return self.citations[n - 1]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title, "topic": self.topic, "generated": self.generated, "mode": self.mode,
            "filters": asdict(self.filters),
            "sections": [{"key": s.key, "title": s.title, "note": s.note,
                          "bullets": [asdict(b) for b in s.bullets]} for s in self.sections],
            "citations": [c.as_json() | {"chunk_id": c.chunk_id} for c in self.citations],
            "sources": [asdict(s) for s in self.sources],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "dropped": list(self.dropped),
            "budget": self.budget,
        }


def memo_from_json(data: dict[str, Any]) -> Memo:
    """The memo ``Memo.as_json`` wrote."""
    f = data.get("filters") or {}
    return Memo(
        topic=data["topic"], generated=data["generated"], mode=data.get("mode", "extractive"),
        filters=Filters(tuple(f.get("sources", ())), tuple(f.get("publishers", ())), f.get("since"), f.get("until")),
        sections=tuple(Section(s["key"], s["title"], tuple(Bullet(b["text"], tuple(b["citations"]), b.get("label", ""),
                                                                   b.get("group", "")) for b in s["bullets"]),
                               s.get("note", "")) for s in data["sections"]),
        citations=tuple(Citation(c["n"], c.get("chunk_id", ""), c["doc_id"], c["source"], c["title"], c["start"],
                                 c["end"], c["quote"]) for c in data["citations"]),
        sources=tuple(MemoSource(**s) for s in data["sources"]),
        dropped=tuple(data.get("dropped", ())),
        budget=data.get("budget"),
    )


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quoted(text: str) -> str:
    """``text`` on one line in quotation marks, unless it opens with one of its own."""
    line = one_line(text)
    return line if line[:1] in "“\"‘'" else f"“{line}”"
