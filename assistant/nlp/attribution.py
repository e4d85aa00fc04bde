"""Who says what: the people and organisations in a document, and for every sentence who
speaks in it, who its subject is and whom it mentions.

Rules over the sentence surface, no model. Names come from ``names`` (a title, a role noun
or speech makes a person: "Foreign Minister Ri Yong Ho", "Haley said"); a later surname
("Ri") refers back to the full name in the same document. A speaker is the one a speech
verb attaches to *outside* quotation marks ("…,” Pompeo said", "said … Joel Wit",
"according to Moscow", "the ministry said"); a sentence inside a quotation that names no
speaker of its own continues the quotation of the sentence before it (or of the one after
it that closes the quotation); "He said …" is the person the sentence before was about.
Memos use this for positions by actor and for disagreements; answers use the lighter
checks of ``extractive.py``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from index_build.core.models import Document
from index_build.core.text import QUOTE_OPEN, mask_quotes

from .names import (
    GROUP,
    MEDIA,
    MORE_NAME,
    NON_PERSON,
    ROLE_NOUNS,
    WHEN_WORDS,
    after_prepositions,
    doc_spans,
    group_name,
    introduced_people,
    is_person_name,
    known_in,
    names,
)
from .reported import reported_speakers  # (spaCy itself loads on the first parse)
from .speakers import Actor, DocSpeakers, SentenceInfo, index_aliases, look_ahead
from .speech import (
    DETERMINERS,
    GROUP_SINGULAR,
    LEADING_CLAUSE,
    PRONOUN,
    PRONOUN_REACH,
    SPEECH_FORM,
    TRAILING_PRONOUN,
    heading_lines,
    is_subject_at,
    speaks_at,
)

__all__ = ["analyse"]


def analyse(doc: Document, known: dict[str, str] | None = None, parse: bool = True) -> DocSpeakers:
    """Actors and per-sentence speakers, subjects and mentions of one document. ``known``:
    people other documents introduced ({full name: role}), recognised here by full name.
    ``parse``: where the rules find no speaker, ask the dependency parse (spaCy)."""
    return _Reader(doc, known or {}, parse).read()


@dataclass
class _Found:
    """Who a sentence names, and how; ``masked`` is the sentence with quoted words blanked."""

    masked: str
    speakers: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    attributed_by: int | None = None

    def note(self, name: str, start: int, end: int, strict: bool = False) -> None:
        if name not in self.mentions:
            self.mentions.append(name)
        if name not in self.speakers and speaks_at(self.masked, start, end, strict):
            self.speakers.append(name)
        if name not in self.subjects and is_subject_at(self.masked, start):
            self.subjects.append(name)


class _Reader:
    """One pass over a document's sentences, in order, keeping what earlier sentences
    established: the people (and their surnames), the group "the ministry" refers to, who
    issued "the statement", whether a quotation is still open."""

    def __init__(self, doc: Document, known: dict[str, str], parse: bool = True):
        self.doc = doc
        self.parse = parse
        text = doc.text
        self.spans = doc_spans(doc)
        self.places = after_prepositions(text)
        self.lowercase_words = set(re.findall(r"\b[a-z][a-z’'-]+\b", text))
        breaks = [m.start() for m in re.finditer("\n", text)]
        self.lines = [bisect.bisect_left(breaks, a) for a, _ in self.spans]
        self.actors: dict[str, Actor] = {}
        self.alias: dict[str, str] = {}  # a full name or a unique part of it → the person
        self.last_group: dict[str, str] = {}  # head noun → the group it last named ("the ministry")
        self.statement_by: tuple[str, int] | None = None  # who issued the statement last spoken of, where
        for name, role in introduced_people(doc).items():
            self.add(name, "person", role)
        for name in known_in(doc, known):
            if name not in self.actors:
                self.add(name, "person", known[name])
        index_aliases(self.actors, self.alias)

    def add(self, name: str, kind: str, role: str = "") -> Actor:
        actor = self.actors.get(name)
        if actor is None:
            actor = self.actors[name] = Actor(name, kind, role, {name})
        if role and not actor.role:
            actor.role = role
        return actor

    def read(self) -> DocSpeakers:
        infos: list[SentenceInfo] = []
        headings = heading_lines(self.doc, self.spans)
        inside, prev_line = False, -1
        for i, (a, b) in enumerate(self.spans):
            sent = self.doc.text[a:b]
            if self.lines[i] != prev_line:
                inside, prev_line = False, self.lines[i]
            started_inside = inside
            masked, inside = mask_quotes(sent, inside)
            quoted = started_inside or QUOTE_OPEN in sent or '"' in sent
            found = _Found(masked)
            self.named(found)
            self.groups(found, i)
            prev = infos[-1] if infos and infos[-1].line == self.lines[i] else None
            self.pronoun(found, infos[-1] if infos else None)
            opens = masked.lstrip().startswith((QUOTE_OPEN, '"'))
            self.carry_over(found, prev, quoted and (started_inside or masked.lstrip().startswith(QUOTE_OPEN)),
                            infos[-1] if infos else None, opens and not started_inside and not inside)
            if found.speakers and re.search(r"\bstatement\b", masked):
                self.statement_by = (found.speakers[0], i)
            infos.append(SentenceInfo(i, a, b, self.lines[i], sent, headings[i], quoted, started_inside,
                                      tuple(found.speakers), tuple(found.subjects), tuple(found.mentions),
                                      found.attributed_by))
        look_ahead(infos)
        if self.parse:
            self.parsed_speakers(infos)
        return DocSpeakers(self.doc, infos, self.actors)

    def parsed_speakers(self, infos: list[SentenceInfo]) -> None:
        """Where the rules above name no speaker but a verb of saying reports something, the
        dependency parse's subject of that verb speaks ("law enforcement officials said", "the
        police chief, who called it …", "His son, George V, insisted …"); "he"/"she" is the
        person who spoke last, within a few sentences."""
        todo = [s for s in infos if not s.speakers and not s.heading and SPEECH_FORM.search(mask_quotes(
            s.text, s.inside)[0])]
        if not todo:
            return
        for s, (who, how) in zip(todo, reported_speakers([s.text for s in todo])):
            if how == "pronoun":
                name = next((n for x in reversed(infos[max(0, s.index - PRONOUN_REACH):s.index]) for n in x.speakers
                             if getattr(self.actors.get(n), "kind", "") == "person"), None)
            elif how == "name":
                name = self.actor_for(who)
            else:
                name = None
            if name is None:
                continue
            infos[s.index] = replace(s, speakers=(name,), subjects=tuple(dict.fromkeys((*s.subjects, name))),
                                     mentions=tuple(dict.fromkeys((*s.mentions, name))))

    def actor_for(self, phrase: str) -> str | None:
        """The actor a parsed noun phrase names: a known person or group by full name or
        surname, else a new person (a name) or group ("law enforcement officials")."""
        words = phrase.split()
        while words and words[0].lower() in DETERMINERS:
            words = words[1:]
        if not words:
            return None
        name = " ".join(words)
        known = self.alias.get(name) or self.alias.get(words[-1])
        if known:
            return known
        if name.lower() in self.last_group:
            return self.last_group[name.lower()]
        if name in self.actors:
            return name
        caps = [w for w in words if w[:1].isupper()]
        if len(caps) == len(words) and is_person_name(words):
            return self.add(name, "person").name
        head = words[-1].lower()
        head = head[:-3] + "y" if head.endswith("ies") else head[:-1] if head.endswith("s") else head
        # a named body ("The DOT", "Girl Scouts") or people by role ("law enforcement officials");
        # not things that "say" ("a steady stream of news reports say …", "3D printers have added …")
        if len(caps) == len(words) or head in ROLE_NOUNS or head in NON_PERSON or head in GROUP_SINGULAR:
            return self.add(name, "group").name
        return None

    def named(self, found: _Found) -> None:
        """Capitalised names: known people, new people who speak or carry a title, places
        and institutions that speak ("Seoul said", "The Wall Street Journal reported")."""
        masked = found.masked
        for role_toks, name_toks, start, end in names(masked, self.lowercase_words):
            name = " ".join(name_toks)
            known = self.alias.get(name) or (self.alias.get(name_toks[0]) if len(name_toks) == 1 else None)
            if known:
                found.note(known, start, end)
                continue
            place = name in self.places
            if is_person_name(name_toks) and name_toks[0].lower() not in self.lowercase_words:
                if role_toks or (not place and speaks_at(masked, start, end, strict=True)):
                    actor = self.add(name, "person", " ".join(role_toks))
                    self.alias.setdefault(name, actor.name)
                    found.note(actor.name, start, end)
                elif place and len(name_toks) == 1 and speaks_at(masked, start, end, strict=True):
                    found.note(self.add(name, "place").name, start, end, strict=True)
            elif (any(t.lower() in NON_PERSON for t in name_toks) and not any(t in WHEN_WORDS for t in name_toks)
                  and speaks_at(masked, start, end, strict=True)):
                kind = "media" if any(t.lower() in MEDIA for t in name_toks) else "group"
                found.note(self.add(re.sub(r"^The\s+", "", name), kind).name, start, end, strict=True)

    def groups(self, found: _Found, i: int) -> None:
        """Common-noun actors: "the Russia foreign ministry said", later "the ministry said";
        "the statement" speaks for whoever issued it just before."""
        masked = found.masked
        for m in GROUP.finditer(masked):
            mods, head = m.group(1).strip(), m.group(2)
            if MORE_NAME.match(masked[m.end():]):
                continue  # "State Department spokesman Justin Higgins": the person speaks
            if head == "statement":
                if not mods and self.statement_by and speaks_at(masked, m.start(2), m.end(2)):
                    found.note(self.statement_by[0], m.start(2), m.end(2))
                    if i - self.statement_by[1] <= 2:
                        found.attributed_by = self.statement_by[1]
                continue
            if mods:
                if any(w in self.alias for w in mods.split()):
                    continue  # "Trump administration officials": not a group of its own
                name = group_name(mods, head)
                self.last_group[head] = name
                if head.endswith("s"):
                    self.last_group.setdefault(head[:-1], name)
            elif head in self.last_group:
                name = self.last_group[head]
            else:
                continue
            if speaks_at(masked, m.start(2), m.end(2)):
                self.add(name, "group")
            if name in self.actors:
                found.note(name, m.start(2), m.end(2))

    def pronoun(self, found: _Found, prev: SentenceInfo | None) -> None:
        """"He also said …": the person the sentence before spoke of."""
        masked = body = found.masked
        lead = re.match(r"^[A-Z][^,]{0,80},\s*", masked)
        if lead and lead.group().split()[0].lower() in LEADING_CLAUSE:
            body = masked[lead.end():]
        p = PRONOUN.match(body) or TRAILING_PRONOUN.search(masked)  # "“…,” he said."
        if p is None or prev is None:
            return
        if p.re is TRAILING_PRONOUN:
            body = masked
        who = next((x for x in (*prev.speakers, *prev.subjects)
                    if x in self.actors and self.actors[x].kind == "person"), None)
        if who is None:
            return
        off = len(masked) - len(body)
        if who not in found.speakers and speaks_at(masked, off + p.start(1), off + p.end(1)):
            found.speakers.append(who)
        for names_found in (found.subjects, found.mentions):
            if who not in names_found:
                names_found.append(who)
        found.attributed_by = prev.index if prev.attributed_by is None else prev.attributed_by

    def carry_over(self, found: _Found, prev: SentenceInfo | None, in_quotation: bool,
                   before: SentenceInfo | None = None, whole_quote: bool = False) -> None:
        """The sentence before, in the same paragraph, lends its speaker: a quotation that goes
        on past its attribution; "According to Moscow, …" right after the ministry's statement.
        And a quotation that opens and closes in a sentence naming no one, right after a quoted
        sentence of one speaker (``before``, in this paragraph or the one before), goes on in
        that speaker's words: news quotes a speaker in consecutive paragraphs and names them once."""
        if (before is not None and whole_quote and not found.speakers and len(before.speakers) == 1
                and before.quoted and not before.heading):
            found.speakers = list(before.speakers)
            found.attributed_by = before.index if before.attributed_by is None else before.attributed_by
            return
        if prev is None:
            return
        if not found.speakers and in_quotation and prev.speakers and prev.quoted:
            found.speakers = list(prev.speakers)
            found.attributed_by = prev.index if prev.attributed_by is None else prev.attributed_by
        elif len(found.speakers) == 1 and getattr(self.actors.get(found.speakers[0]), "kind", "") == "place":
            group = next((x for x in prev.speakers if getattr(self.actors.get(x), "kind", "") == "group"), None)
            if group:
                found.speakers = [group]
                found.attributed_by = prev.index
