"""Plain data of the assistant: passages, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index_build.core.dates import PartialDate, date_key

__all__ = ["Filters", "Passage", "Citation", "Answer", "filter_date"]


def filter_date(value: str | None) -> str | None:
    """A date filter as typed (the CLI's --since/--until, the page's fields): None when
    blank, the stripped value when it is a real calendar date, whole or partial (YYYY,
    YYYY-MM, YYYY-MM-DD); ``ValueError`` otherwise (each caller words it for its place)."""
    value = (value or "").strip()
    if not value:
        return None
    if PartialDate.parse(value) is None:
        raise ValueError(value)
    return value


@dataclass(frozen=True)
class Filters:
    """Narrow retrieval. Dates are ISO strings (``2017``, ``2017-09``, ``2017-09-12``)."""

    sources: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def is_empty(self) -> bool:
        return not (self.sources or self.publishers or self.since or self.until)

    def dates_cross(self) -> bool:
        """Whether ``since`` lies after ``until``: then no date can match (the web page and
        the CLI refuse such filters, each in its own words)."""
        return bool(self.since and self.until) and date_key(self.since) > date_key(self.until, end=True)

    def keeps_source(self, source: str) -> bool:
        """Whether the source filter keeps ``source``: named itself, or a folder holding it."""
        return not self.sources or any(source == w or source.startswith(w.rstrip("/") + "/") for w in self.sources)

    def keeps_publisher(self, publisher: str) -> bool:
        """Whether the publisher filter keeps ``publisher`` (letter case aside)."""
        return not self.publishers or publisher.casefold() in {p.casefold() for p in self.publishers}


@dataclass(frozen=True)
class Passage:
    rank: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    publisher: str
    published: str | None
    start: int
    end: int
    text: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "chunk_id": self.chunk_id, "doc_id": self.doc_id, "source": self.source,
            "title": self.title, "start": self.start, "end": self.end, "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Citation:
    """``quote == document.text[start:end]``: the exact supporting sentence(s)."""

    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    quote: str

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "chunk_id"}


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_query: str = ""
    dropped: list[str] = field(default_factory=list)  # sentences removed by verification
    short_answer: str = ""  # the entity that answers a factoid question, as the cited sentence writes it
    confidence: float = 0.0  # the learned selector's probability for its best sentence
    considered: list[Passage] = field(default_factory=list)  # all retrieved, when ``passages`` lists fewer

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "short_answer": self.short_answer,
            "confidence": round(self.confidence, 4),
            "citations": [c.as_json() for c in self.citations],
            "passages": [p.as_json() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
