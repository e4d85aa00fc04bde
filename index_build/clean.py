"""Cleaning: site boilerplate out, metadata in, and files holding several stories split.

The rule set is small and documented on purpose: every rule removes a whole line that
is site furniture (share prompts, comment forms), never words from the article body. The
byline/copyright line (``(c) 2017, The Washington Post · Josh Rogin``) is kept: it is
content a user may ask about and cite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BOILERPLATE", "strip_boilerplate", "Story", "split_stories", "parse_byline", "lead_title"]

# Each rule matches one whole line (after stripping) that is site furniture.
BOILERPLATE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r">>\s*Follow .{1,40} On (?:Whats\s?App|Twitter|Facebook|Telegram)!?\s*<<", re.I), "follow prompt"),
    (re.compile(r"Please enter your (?:comment|name|email address)(?: here)?!?", re.I), "comment form"),
    (re.compile(r"(?:Leave a (?:Reply|Comment)|Post Comment|Cancel reply)", re.I), "comment form"),
    (re.compile(r"Save my name, email, and website in this browser.*", re.I), "comment form"),
    (re.compile(r"You have entered an incorrect email address!?", re.I), "comment form"),
    (re.compile(r"(?:Share|Click to share) (?:this|on) (?:article|story|Facebook|Twitter|WhatsApp|email).{0,40}", re.I), "share prompt"),
    (re.compile(r"(?:Sign up|Subscribe) (?:for|to) (?:our|the) (?:free )?newsletters?.{0,60}", re.I), "newsletter prompt"),
    (re.compile(r"(?:Advertisement|ADVERTISEMENT|Continue reading below|Story continues below advertisement)", re.I), "advertisement marker"),
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
    r"^\s*(?:\(c\)|©|copyright)\s*(?P<year>\d{4}),?\s*(?P<publisher>[^·|•–—\n]+?)"
    r"(?:\s*[·|•–—-]\s*(?P<author>[^\n]+?))?\s*$",
    re.I | re.M,
)


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


def parse_byline(text: str) -> dict[str, str]:
    """Year, publisher and author from a copyright line, when the text has one."""
    m = _BYLINE.search(text)
    if not m:
        return {}
    out = {"year": m.group("year"), "publisher": m.group("publisher").strip(" ,")}
    if m.group("author"):
        out["author"] = m.group("author").strip()
    return out


def _publisher_line(line: str) -> str | None:
    return KNOWN_PUBLISHERS.get(line.strip().casefold())


def _headline_like(line: str) -> bool:
    s = line.strip()
    words = s.split()
    return 2 <= len(words) <= 25 and len(s) <= 200 and not s.endswith((".", ":", ",", ";", "”", '"'))


def lead_title(text: str, limit: int = 90) -> str:
    """A title for a story that has no headline: its first sentence, shortened. Never past
    the first line: text without sentence marks (Thai, a list) would run on for paragraphs."""
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first.rstrip(".")
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ") + "…"


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
    lines = [ln for ln in body.split("\n") if ln.strip()]
    first = lines[0].strip()
    publisher = ""
    if _publisher_line(first):
        publisher = _publisher_line(first) or ""
        rest = "\n".join(lines[1:])
        return Story(body, lead_title(rest) if rest else first, publisher, False)
    if len(lines) > 1 and _publisher_line(lines[1]):
        publisher = _publisher_line(lines[1]) or ""
    if _headline_like(first):
        return Story(body, first, publisher, True)
    return Story(body, lead_title(body), publisher, False)
