"""Who speaks in a document, as data: its actors (people, organisations, places), and for
each sentence who speaks in it, who its subject is and whom it mentions (``DocSpeakers``,
made by ``attribution.analyse``); ``merge_people`` gives one name per person across documents.
Two passes of the reader that work on these types alone live here too: ``look_ahead`` (a
quotation attributed after it) and ``index_aliases`` (a surname points to its one person)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from index_build.core.models import Document
from index_build.core.text import QUOTE_CLOSE, QUOTE_OPEN, STOPWORDS, mask_quotes

from .names import spelling

__all__ = ["Actor", "SentenceInfo", "DocSpeakers", "display_name", "merge_people", "look_ahead", "index_aliases"]


@dataclass
class Actor:
    name: str  # "Michael Pompeo", "Russian foreign ministry", "Moscow"
    kind: str  # "person", "group" (organisation, office, unnamed officials), "media" or "place"
    role: str = ""  # as the text gives it: "US Secretary of State"
    aliases: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SentenceInfo:
    index: int
    start: int  # offsets into Document.text
    end: int
    line: int  # the line (paragraph) it stands in
    text: str
    heading: bool  # a headline, subheading, publisher line or byline: not a statement
    quoted: bool  # holds quotation marks (someone's own words)
    inside: bool = False  # begins inside a quotation opened by an earlier sentence
    speakers: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    attributed_by: int | None = None  # the sentence that names this one's speaker (or antecedent)


@dataclass
class DocSpeakers:
    doc: Document
    sentences: list[SentenceInfo]
    actors: dict[str, Actor]

    def unit(self, i: int, max_sentences: int = 3) -> tuple[int, int]:
        """The sentences to quote for sentence ``i`` so it stands on its own: with the
        sentence that attributes it (a quotation's "…,” X said", a pronoun's antecedent) and
        the rest of that quotation, at most ``max_sentences``. Returns (first, last)."""
        s = self.sentences[i]
        k = s.attributed_by if s.attributed_by is not None else i
        if k == i and not s.speakers:
            return i, i
        first = last = k
        while first - 1 >= 0 and self.sentences[first - 1].attributed_by == k:
            first -= 1
        while last + 1 < len(self.sentences) and self.sentences[last + 1].attributed_by == k:
            last += 1
        if last - first + 1 > max_sentences:  # keep i and its attribution, then what fits
            lo, hi = min(i, k), max(i, k)
            while hi - lo + 1 < max_sentences and (lo > first or hi < last):
                if hi < last:
                    hi += 1
                elif lo > first:
                    lo -= 1
            first, last = lo, hi
        return first, last

    def orphan_quote(self, i: int) -> bool:
        """Sentence ``i`` is (part of) a quotation whose speaker the text does not name."""
        s = self.sentences[i]
        t = s.text.strip()
        ends_quote = t.endswith(("”", '"')) and (t.count("“") < t.count("”") or t.count('"') % 2 == 1)
        return not s.speakers and (s.inside or t.startswith(("“", '"')) or ends_quote)

    def span(self, first: int, last: int) -> tuple[int, int]:
        return self.sentences[first].start, self.sentences[last].end

    def quoted_words(self, first: int, last: int) -> str:
        """The words of sentences ``first``..``last`` that stand inside quotation marks."""
        inside = self.sentences[first].inside
        out = []
        for s in self.sentences[first:last + 1]:
            masked, inside = mask_quotes(s.text, inside)
            out.append("".join(a if a != b else " " for a, b in zip(s.text, masked)))
        return " ".join(" ".join(out).split())

    def quoted_share(self, first: int, last: int) -> float:
        """How much of sentences ``first``..``last`` (their letters and digits) stands inside
        quotation marks: the speaker's own words, against the reporter's."""
        inside = self.sentences[first].inside
        quoted = total = 0
        for s in self.sentences[first:last + 1]:
            masked, inside = mask_quotes(s.text, inside)
            for a, b in zip(s.text, masked):
                if a.isalnum():
                    total += 1
                    quoted += a != b
        return quoted / total if total else 0.0


def display_name(actor: Actor) -> str:
    return actor.name[:1].upper() + actor.name[1:]




def merge_people(analyses: list[DocSpeakers]) -> list[DocSpeakers]:
    """One name per person across documents: spellings of one full name become the most
    common one, and a surname alone ("Trump") becomes the one full name that ends with it
    ("Donald Trump") when exactly one is known."""
    seen: dict[str, int] = {}
    for an in analyses:
        for actor in an.actors.values():
            if actor.kind == "person" and len(actor.name.split()) >= 2:
                seen[actor.name] = seen.get(actor.name, 0) + 1
    canonical: dict[str, str] = {}
    by_key: dict[str, list[str]] = {}
    for name in seen:
        by_key.setdefault(spelling(name), []).append(name)
    for group in by_key.values():
        best = max(group, key=lambda n: (seen[n], len(n)))
        canonical.update({n: best for n in group if n != best})
    full: dict[str, set[str]] = {}
    for name in seen:
        for part in canonical.get(name, name).split():
            full.setdefault(part, set()).add(canonical.get(name, name))
    out = []
    for an in analyses:
        rename: dict[str, str] = {n: canonical[n] for n in an.actors if n in canonical}
        for actor in an.actors.values():
            if actor.kind == "person" and len(actor.name.split()) == 1:
                names = full.get(actor.name, set())
                if len(names) == 1:
                    rename[actor.name] = next(iter(names))
        if not rename:
            out.append(an)
            continue
        actors = dict(an.actors)
        for old, new in rename.items():
            actor = actors.pop(old)
            target = actors.get(new) or Actor(new, "person", actor.role, {new})
            target.aliases |= actor.aliases | {old}
            target.role = target.role or actor.role
            actors[new] = target

        def fix(names: tuple[str, ...], rename: dict[str, str] = rename) -> tuple[str, ...]:
            return tuple(dict.fromkeys(rename.get(n, n) for n in names))

        sentences = [replace(s, speakers=fix(s.speakers), subjects=fix(s.subjects), mentions=fix(s.mentions))
                     for s in an.sentences]
        out.append(DocSpeakers(an.doc, sentences, actors))
    return out


def look_ahead(infos: list[SentenceInfo]) -> None:
    """A quotation whose attribution comes after it ("“A. B,” X said."): the sentences
    before the attribution get its speaker."""
    for k, s in enumerate(infos):
        if s.speakers or s.heading or not s.text.lstrip().startswith(QUOTE_OPEN) or QUOTE_CLOSE in s.text:
            continue
        for j in range(k + 1, min(len(infos), k + 4)):
            nxt = infos[j]
            if nxt.line != s.line:
                break
            if QUOTE_CLOSE in nxt.text:
                if nxt.speakers and nxt.attributed_by is None:
                    for x in range(k, j):
                        infos[x] = replace(infos[x], speakers=nxt.speakers, attributed_by=j)
                break


def index_aliases(actors: dict[str, Actor], alias: dict[str, str]) -> None:
    """Every part of a person's name points to them, unless two people share it."""
    counts: dict[str, int] = {}
    for actor in actors.values():
        if actor.kind != "person":
            continue
        alias[actor.name] = actor.name
        for part in actor.name.split():
            if len(part) >= 2 and part.lower() not in STOPWORDS:
                counts[part] = counts.get(part, 0) + 1
    for actor in actors.values():
        if actor.kind != "person":
            continue
        for part in actor.name.split():
            if counts.get(part) == 1:
                alias.setdefault(part, actor.name)
                actor.aliases.add(part)
