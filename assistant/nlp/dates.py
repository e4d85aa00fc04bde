"""Dates in news text, resolved against the article's own date where that is possible.

A memo's timeline needs to know *when* a sentence says something happened. Absolute dates
("September 12, 2017", "June 2018", "2019") stand on their own. Relative ones ("on Monday",
"last week", "earlier this month", "in April") are resolved against the article's
publication date when it is a full date (news convention: a weekday named in past-tense
reporting is the latest one on or before the article's date). Otherwise the text is kept
as written and the reference is marked relative, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from index_build.core.dates import PartialDate

__all__ = ["TimeRef", "find_dates", "parse_published"]

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
_MONTHS.update({"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
                "oct": 10, "nov": 11, "dec": 12})
_WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
_FUTURE = re.compile(r"\b(will|would|to be held|upcoming|next|scheduled|plans? to|expected to|is to|are to)\b", re.I)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")),
    ("mdy", re.compile(_MONTH + r"\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b")),
    ("dmy", re.compile(r"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<y>(?:19|20)\d\d)\b")),
    ("md", re.compile(_MONTH + r"\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?!,?\s+(?:19|20)\d\d)"
                      r"(?!\s*(?:%|percent|million))")),
    ("my", re.compile(_MONTH + r",?\s+(?:of\s+)?(?P<y>(?:19|20)\d\d)\b")),
    ("m", re.compile(r"\b(?:in|since|until|by|from|during|early|late|mid-|last|next|this)\s*(?:early\s+|late\s+)?"
                     + _MONTH + r"\b(?!\s+[0-3]?\d\b)(?!,?\s+(?:19|20)\d\d)")),
    ("weekday", re.compile(r"\b(?:(?P<which>last|next|this|on|late|early)\s+)?(?P<wd>Monday|Tuesday|Wednesday|"
                           r"Thursday|Friday|Saturday|Sunday)\b")),
    ("rel", re.compile(r"\b(?P<rel>yesterday|today|tonight|tomorrow|last week|this week|next week|"
                       r"earlier (?:in )?(?:the|this) week|later (?:in )?(?:the|this) week|last month|this month|"
                       r"next month|earlier this month|last year|this year|next year|earlier this year|"
                       r"(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten|a) "
                       r"(?P<unit>days?|weeks?|months?|years?) ago)\b",
                       re.I)),
    ("year", re.compile(r"\b(?:in|since|until|by|from|during|of|early|late|mid-)\s*(?P<y>(?:19|20)\d\d)\b")),
]
_NUMBERS = {"a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10}


@dataclass(frozen=True)
class TimeRef:
    text: str  # as written ("on Monday")
    start: int  # offset in the sentence
    label: str  # what a timeline shows: "11 Sep 2017", "April 2017", "“on Monday” (relative; article undated)"
    sort_key: tuple[int, int, int]  # (year, month, day); 0 for unknown parts; (9999, …) when unplaced
    relative: bool  # resolved from (or left relative to) the article's date
    resolved: bool  # the date could be placed on the calendar


_Pub = tuple[int, int, int] | None  # (year, month, day) of the article, 0 for missing parts
_Resolved = tuple[str, tuple[int, int, int], bool, bool]  # (label, sort key, relative, resolved)


def parse_published(value: str | None) -> tuple[int, int, int] | None:
    """(year, month, day) of an ISO publication date, 0 for missing parts."""
    found = PartialDate.leading(value)
    return (found.year, found.month, found.day) if found and 1800 <= found.year < 2100 else None


def _fmt_day(d: dt.date) -> str:
    return d.strftime("%-d %b %Y")


def _month_name(m: int) -> str:
    return dt.date(2000, m, 1).strftime("%B")


def _article(pub: tuple[int, int, int] | None) -> str:
    if pub is None:
        return "article undated"
    y, m, d = pub
    return f"article dated {y}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if d else "")


def _relative(text: str, pub: _Pub, why: str = "relative") -> tuple[str, tuple[int, int, int]]:
    key = (pub[0], 13, 0) if pub else (9999, 0, 0)
    return f"“{text}” ({why}; {_article(pub)})", key




def _resolve(kind: str, m: re.Match[str], sentence: str, pub: _Pub) -> _Resolved:
    """(label, sort key, relative, resolved) of one match of the pattern ``kind``."""
    future = bool(_FUTURE.search(sentence))
    if kind in ("iso", "mdy", "dmy", "my", "year"):
        return _calendar(kind, m, pub)
    if kind in ("md", "m"):
        return _month_day(kind, m, pub, future)
    base = dt.date(*pub) if pub is not None and pub[1] and pub[2] else None
    if kind == "weekday":
        return _weekday(m, pub, base, future)
    return _phrase(m, pub, base)  # kind == "rel"


def _calendar(kind: str, m: re.Match[str], pub: _Pub) -> _Resolved:
    """A date that names its year: "2018-08-04", "August 4, 2018", "August 2018", "2018"."""
    if kind == "my":
        month = _MONTHS[m.group("month").lower().rstrip(".")]
        return f"{_month_name(month)} {m.group('y')}", (int(m.group("y")), month, 0), False, True
    if kind == "year":
        return m.group("y"), (int(m.group("y")), 0, 0), False, True
    month = int(m.group("m")) if kind == "iso" else _MONTHS[m.group("month").lower().rstrip(".")]
    try:
        day = dt.date(int(m.group("y")), month, int(m.group("d")))
    except ValueError:
        return _relative(m.group(0), pub, "unreadable date") + (False, False)
    return _fmt_day(day), (day.year, day.month, day.day), False, True


def _month_day(kind: str, m: re.Match[str], pub: _Pub, future: bool) -> _Resolved:
    """"August 4" or "August" with no year: the article's year, or the one before when the
    month lies after the article's (the one after, for a future event half a year back)."""
    month = _MONTHS[m.group("month").lower().rstrip(".")]
    day = int(m.group("d")) if kind == "md" else 0
    if pub is None or not pub[1]:
        if pub is not None:
            label = f"{day} {_month_name(month)}" if day else _month_name(month)
            return f"{label} (no year given; {_article(pub)})", (pub[0], month, day), True, False
        return _relative(m.group(0), pub, "no year given") + (True, False)
    year = pub[0]
    if month > pub[1] and not future:
        year -= 1
    elif month < pub[1] and future and pub[1] - month > 6:
        year += 1
    if not day:
        return f"{_month_name(month)} {year}", (year, month, 0), True, True
    try:
        return _fmt_day(dt.date(year, month, day)), (year, month, day), True, True
    except ValueError:
        return _relative(m.group(0), pub, "unreadable date") + (False, False)


def _weekday(m: re.Match[str], pub: _Pub, base: dt.date | None, future: bool) -> _Resolved:
    """"on Tuesday", "last Friday", "next Monday", counted from the article's day."""
    if base is None:
        return _relative(m.group(0), pub) + (True, False)
    target = _WEEKDAYS[m.group("wd").lower()]
    which = (m.group("which") or "").lower()
    if which == "next" or (future and which != "last"):
        delta = (target - base.weekday()) % 7 or 7
    else:
        delta = -((base.weekday() - target) % 7)
        if which == "last" and delta == 0:
            delta = -7
    day = base + dt.timedelta(days=delta)
    return f"{_fmt_day(day)} ({m.group('wd')})", (day.year, day.month, day.day), True, True


def _phrase(m: re.Match[str], pub: _Pub, base: dt.date | None) -> _Resolved:
    """"yesterday", "last week", "next month", "three years ago", from the article's day."""
    text, rel = m.group(0), m.group("rel").lower()
    if base is None:
        if pub is not None and rel in ("last year", "this year", "next year", "earlier this year"):
            y = pub[0] + {"last year": -1, "next year": 1}.get(rel, 0)
            return f"{y} (“{text}”)", (y, 0, 0), True, True
        return _relative(text, pub) + (True, False)
    if rel in ("yesterday", "today", "tonight", "tomorrow"):
        day = base + dt.timedelta(days={"yesterday": -1, "tomorrow": 1}.get(rel, 0))
        return _fmt_day(day), (day.year, day.month, day.day), True, True
    if "week" in rel and "ago" not in rel:
        shift = {"last": -7, "next": 7}.get(rel.split()[0], 0)
        monday = base - dt.timedelta(days=base.weekday()) + dt.timedelta(days=shift)
        return f"week of {_fmt_day(monday)}", (monday.year, monday.month, monday.day), True, True
    if "month" in rel and "ago" not in rel:
        y, mo = base.year, base.month + {"last": -1, "next": 1}.get(rel.split()[0], 0)
        y, mo = (y - 1, 12) if mo == 0 else (y + 1, 1) if mo == 13 else (y, mo)
        return f"{_month_name(mo)} {y}", (y, mo, 0), True, True
    if "year" in rel and "ago" not in rel:
        y = base.year + {"last": -1, "next": 1}.get(rel.split()[0], 0)
        return str(y), (y, 0, 0), True, True
    n = int(m.group("n")) if m.group("n").isdigit() else _NUMBERS[m.group("n").lower()]
    unit = m.group("unit").rstrip("s")
    day = base - dt.timedelta(days={"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n)
    if unit in ("day", "week"):
        return f"about {_fmt_day(day)}", (day.year, day.month, day.day), True, True
    return (f"about {_month_name(day.month)} {day.year}" if unit == "month" else f"about {day.year}",
            (day.year, day.month if unit == "month" else 0, 0), True, True)


def find_dates(sentence: str, published: str | None) -> list[TimeRef]:
    """Every date reference in ``sentence``, in order, none overlapping."""
    pub = parse_published(published)
    taken: list[tuple[int, int]] = []
    out: list[TimeRef] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < b and a < m.end() for a, b in taken):
                continue
            if kind == "md" and m.group("month").lower() == "may" and not m.group(0)[:1].isupper():
                continue
            label, key, relative, resolved = _resolve(kind, m, sentence, pub)
            taken.append((m.start(), m.end()))
            out.append(TimeRef(m.group(0), m.start(), label, key, relative, resolved))
    return sorted(out, key=lambda r: r.start)
