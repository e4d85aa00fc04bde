"""Cleaning: site boilerplate out, metadata in, and files holding several stories split.

The rule set is small and documented on purpose: every rule removes a whole line that
is site furniture (share prompts, comment forms), never words from the article body. The
byline/copyright line (``(c) 2017, The Washington Post · Josh Rogin``) is kept: it is
content a user may ask about and cite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

__all__ = ["BOILERPLATE", "strip_boilerplate", "Story", "split_stories", "parse_byline", "lead_title"]

# Each rule matches one whole line (after stripping) that is site furniture.
BOILERPLATE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r">>\s*Follow .{1,40} On (?:Whats\s?App|Twitter|Facebook|Telegram)!?\s*<<", re.I), "follow prompt"),
    (re.compile(r"Please enter your (?:comment|name|email address)(?: here)?!?", re.I), "comment form"),
    (re.compile(r"(?:Leave a (?:Reply|Comment)|Post Comment|Cancel reply)", re.I), "comment form"),
    (re.compile(r"Save my name, email, and website in this browser.*", re.I), "comment form"),
    (re.compile(r"You have entered an incorrect email address!?", re.I), "comment form"),
    (re.compile(r"(?:Share|Click to share) (?:this|on) (?:article|story|Facebook|Twitter|WhatsApp|email).{0,40}",
                re.I), "share prompt"),
    (re.compile(r"(?:Sign up|Subscribe) (?:for|to) (?:our|the) (?:free )?newsletters?.{0,60}", re.I),
     "newsletter prompt"),
    (re.compile(r"(?:Advertisement|ADVERTISEMENT|Continue reading below|Story continues below advertisement)", re.I),
     "advertisement marker"),
]

# Publishers whose name may stand alone on a line as a story's dateline/credit.
KNOWN_PUBLISHERS = {
    p.casefold(): p
    for p in (
        "Bloomberg", "Reuters", "Associated Press", "AP", "AFP", "Agence France-Presse",
        "The Washington Post", "Washington Post", "The New York Times", "New York Times",
        "The Wall Street Journal", "Wall Street Journal", "CNN", "BBC", "BBC News",
        "The Guardian", "Yonhap", "Al Jazeera", "NPR", "Politico", "Axios",
        "Financial Times", "The Economist", "Kyodo", "Xinhua", "TASS", "NBC News",
        "CBS News", "ABC News", "Fox News", "Bloomberg News", "The Associated Press",
    )
}

_BYLINE = re.compile(
    r"^\s*(?:\(c\)|©|copyright)\s*(?P<published>\d{4}),?\s*(?P<publisher>[^·|•–—\n]+?)"
    r"(?:\s*[·|•–—-]\s*(?P<author>[^\n]+?))?\s*$",
    re.I | re.M,
)

# The lead lines of an article that say who wrote it, for whom and when. Only the first
# LEAD_LINES non-empty lines are read: a date deep in the body is about something else.
LEAD_LINES = 5
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DATE = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|(?:[A-Z][a-z]+day,?\s+)?"
         rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}))")
# A person's or a publisher's name: capitalised words, a particle between them ("Maria de
# la Cruz", "The Times of India"). Keeps "By the end of May, officials said …" out.
_NAME = r"[A-Z][\w.'’&-]*(?:\s+(?:(?:de|da|del|der|di|du|la|le|van|von|bin|al|of|the)\s+){0,2}[A-Z][\w.'’&-]*){0,5}"
_SEP = r"\s*[,/|·•]\s*"
# "By Elena Marquez", "By A and B", "By A, B and C", "By X, Publisher / March 14, 2024", "By X | Publisher"
_BY_LINE = re.compile(rf"(?:By|BY)\s+(?P<author>{_NAME}(?:(?:,\s*{_NAME})*,?\s+and\s+{_NAME})?)"
                      rf"(?:{_SEP}(?P<publisher>{_NAME}))?(?:{_SEP}(?P<published>{_DATE}))?$")
# "WASHINGTON (Reuters) - …", "SAN JUAN, Puerto Rico (AP) — …": the place is not an author.
_DATELINE = re.compile(rf"[A-Z][A-Z .'’-]*[A-Z](?:,\s*{_NAME})?\s+\((?P<publisher>{_NAME})\)\s*[-–—]")
# "Published March 14, 2024 …", "Updated 2024-03-14", or a date alone on its line.
_DATE_LINE = re.compile(rf"(?:(?P<label>Published|Posted|Updated|Last updated)(?:\s+on)?:?\s+)?"
                        rf"(?P<published>{_DATE})(?(label).*|$)", re.I)
_LEAD = ((_BY_LINE, "byline"), (_DATELINE, "dateline"), (_DATE_LINE, "date line"))


# All rules in one pattern: one match per line instead of eight (a file of a million short
# lines spent seconds here).
_ANY_BOILERPLATE = re.compile("|".join(f"(?:{p.pattern})" for p, _ in BOILERPLATE), re.I)


def _is_boilerplate(line: str) -> bool:
    s = line.strip()
    return bool(s) and _ANY_BOILERPLATE.fullmatch(s) is not None


def strip_boilerplate(text: str) -> str:
    """Drop boilerplate lines; collapse the blank runs they leave; strip the ends."""
    kept = [line.rstrip() for line in text.split("\n") if not _is_boilerplate(line)]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(kept))
    return out.strip()


def _lines(text: str) -> Iterator[str]:
    """The non-empty lines of ``text``, stripped, read lazily (a text may be megabytes)."""
    return (s for m in re.finditer(r"[^\n]+", text) if (s := m.group().strip()))


def parse_byline(text: str) -> dict[str, tuple[str, str]]:
    """Author, publisher and published date (as written) from the text's lead lines (a
    byline, a dateline, a date line), then its copyright line, each as ``(value, where)``
    with ``where`` one of "byline", "dateline", "date line", "copyright line". The first
    value found wins; an "Updated" date only when the lead lines give no other date."""
    lead = [(m, where) for line in islice(_lines(text), LEAD_LINES) for pattern, where in _LEAD
            if (m := pattern.match(line))]
    lead.sort(key=lambda found: (found[0].groupdict().get("label") or "").lower().endswith("updated"))
    out: dict[str, tuple[str, str]] = {}
    for m, where in [*lead, (_BYLINE.search(text), "copyright line")]:
        for key in ("author", "publisher", "published"):
            if m and m.groupdict().get(key):
                out.setdefault(key, (m[key].strip(" ,"), where))
    return out


def _publisher_line(line: str) -> str | None:
    return KNOWN_PUBLISHERS.get(line.strip().casefold())


def _lead_meta(line: str) -> bool:
    """A lead line that is metadata, not a headline or prose: a publisher's name, a byline, a date."""
    return bool(_publisher_line(line) or _BY_LINE.match(line) or _DATE_LINE.match(line))


def _headline_like(line: str) -> bool:
    s = line.strip()
    words = s.split()
    return 2 <= len(words) <= 25 and len(s) <= 200 and not s.endswith((".", ":", ",", ";", "”", '"'))


def lead_title(text: str, limit: int = 90) -> str:
    """A title for a story that has no headline: its first sentence (after any byline or
    date lines), shortened at a word boundary, never between the words of a name ("until
    North Korea…", not "until North…"). Never past the first line: text without sentence
    marks (Thai, a list) would run on for paragraphs."""
    lead = list(islice(_lines(text), LEAD_LINES))
    line = next((ln for ln in lead if not _lead_meta(ln)), lead[0] if lead else "")
    first = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    if len(first) <= limit:
        return first.rstrip(".")
    words = first.split()
    if len(words[0]) > limit:  # nothing to cut at (Thai, a URL)
        return first[:limit] + "…"
    keep, size = 1, len(words[0])
    while keep < len(words) and size + 1 + len(words[keep]) <= limit:
        size += 1 + len(words[keep])
        keep += 1
    name_end = keep + 3
    while keep < min(len(words), name_end) and words[keep - 1][:1].isupper() and words[keep][:1].isupper():
        keep += 1
    return " ".join(words[:keep]).rstrip(",;: ") + "…"


@dataclass(frozen=True)
class Story:
    text: str
    title: str
    publisher: str
    titled: bool  # False when the title was made from the lead sentence


def split_stories(text: str) -> list[Story]:
    """Split a cleaned text into stories.

    A new story starts at a headline-like line directly followed by a line that is only a
    publisher's name ("Haley slams Russia …" / "Bloomberg"). A text that opens with a
    publisher line has no headline; its title is made from its lead sentence.
    """
    lines = text.split("\n")
    starts: list[int] = []  # line index where each story starts
    for i, line in enumerate(lines):
        if not _publisher_line(line):
            continue
        prev = i - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        if prev >= 0 and _headline_like(lines[prev]) and not _publisher_line(lines[prev]):
            starts.append(prev)
        elif prev < 0:
            starts.append(i)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts = sorted(set(starts))
    stories = []
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        body = "\n".join(lines[a:b]).strip()
        if not body:
            continue
        stories.append(_story(body))
    return stories


def _story(body: str) -> Story:
    lead = list(islice(_lines(body), LEAD_LINES))
    publisher = next(filter(None, map(_publisher_line, lead[:2])), "")
    # A publisher's name, a byline or a date before the first words is not the headline.
    first = next((ln for ln in lead if not _lead_meta(ln)), "")
    if first and _headline_like(first):
        return Story(body, first, publisher, True)
    return Story(body, lead_title(body), publisher, False)
