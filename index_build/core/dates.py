"""Partial ISO dates — ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` — the one date type of every
date rule: a document's ``published`` field, the ``--since`` / ``--until`` filters, the
``date_key`` range index in Chroma and the memo timeline's article dates.

A partial date stands for its whole year or month: it starts on its first day
(``key()``) and ends on its last (``key(end=True)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["PartialDate", "date_key", "normalize_date"]

_ISO = re.compile(r"\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?\s*")


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int = 0  # 0: not given
    day: int = 0

    @classmethod
    def parse(cls, value: str | None) -> PartialDate | None:
        """The date ``value`` writes in ISO form (a real calendar date, whole or partial), else None."""
        m = _ISO.fullmatch(value or "")
        if not m:
            return None
        y, mo, d = int(m[1]), int(m[2] or 0), int(m[3] or 0)
        if m[2] is not None and not 1 <= mo <= 12:  # "2019-00", "2019-13"
            return None
        if m[3] is not None:
            try:
                date(y, mo, d)
            except ValueError:  # "2019-02-30", "2019-01-00"
                return None
        return cls(y, mo, d)

    @classmethod
    def leading(cls, value: str | None) -> PartialDate | None:
        """The partial date at the start of ``value`` ("2017-09-12T10:00" → 2017-09-12)."""
        m = re.match(r"\s*\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?", value or "")
        return cls.parse(m.group()) if m else None

    def key(self, end: bool = False) -> int:
        """YYYYMMDD; the missing parts are 0, or with ``end`` the last month / day they cover."""
        return self.year * 10000 + (self.month or (12 if end else 0)) * 100 + (self.day or (31 if end else 0))

    def __str__(self) -> str:
        month = f"-{self.month:02d}" if self.month else ""
        return f"{self.year:04d}{month}" + (f"-{self.day:02d}" if self.day else "")


def date_key(value: str | None, end: bool = False) -> int:
    """``PartialDate.key`` of an ISO date, 0 when there is none; ``ValueError`` when ``value``
    is not one (each caller words the error for its place)."""
    if not value or not value.strip():
        return 0
    parsed = PartialDate.parse(value)
    if parsed is None:
        raise ValueError(value)
    return parsed.key(end)


def normalize_date(value: object) -> str | None:
    """An ISO date (``YYYY-MM-DD``, or ``YYYY`` / ``YYYY-MM`` when that is all we know) from
    whatever a source file holds: a date, a datetime, ISO text, "2019/3/5", "March 5, 2019"."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()
    # a year or year and month alone, or a full date with anything after it (a time)
    m = re.fullmatch(r"(\d{4})(?:[-/](\d{1,2}))?", s) or re.match(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", s)
    if m:
        parsed = PartialDate.parse("-".join(x for x in m.groups() if x))
        return str(parsed) if parsed else None
    try:
        from dateutil import parser as dateparser

        return str(dateparser.parse(s, fuzzy=False).date().isoformat())
    except (ValueError, OverflowError, TypeError):
        return None
