"""Who says what: the people and organisations in a document, and for every sentence who
speaks in it, who its subject is and whom it mentions.

Rules over the sentence surface, no model. A person's name is a capitalised sequence that
comes with a title ("Foreign Minister Ri Yong Ho"), a role noun ("spokesman Justin
Higgins") or speech ("Haley said"); a later surname ("Ri") refers back to the full name in
the same document. A speaker is the one a speech verb attaches to *outside* quotation
marks ("…,” Pompeo said", "said … Joel Wit", "according to Moscow", "the ministry said");
a sentence inside a quotation that names no speaker of its own continues the quotation of
the sentence before it (or of the one after it that closes the quotation). Memos use this
for positions by actor and for disagreements; answers use the lighter checks of
``extractive.py``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from index_build.chunk import sentence_spans
from index_build.models import Document

from .question import speech_verb
from .text import STOPWORDS

__all__ = ["Actor", "SentenceInfo", "DocSpeakers", "analyse", "introduced_people", "known_in", "merge_people", "display_name"]

# Capitalised words that end a title before a name ("… Foreign Minister Ri Yong Ho").
TITLES = frozenset("""president minister secretary ambassador chairman chairwoman chair spokesman spokeswoman
    spokesperson senator sen rep representative governor gov mayor chancellor premier king queen prince
    princess pope general gen admiral adm lt col colonel sgt sergeant judge justice director chief ceo leader
    envoy commissioner speaker dr mr mrs ms sir lord dame attorney commander congressman congresswoman
    officer professor prof sheikh emir ayatollah cardinal bishop rev captain capt coach founder
    secretary-general vice-president""".split())
# Lower-case nouns that introduce a name ("former nuclear negotiator Joel Wit").
ROLE_NOUNS = frozenset("""spokesman spokeswoman spokesperson negotiator leader minister secretary president
    official envoy ambassador analyst expert professor director chairman chairwoman senator governor mayor
    founder lawyer attorney economist researcher correspondent reporter editor author adviser advisor aide
    candidate general commander chief judge head coach manager executive representative diplomat strategist
    fellow scientist ceo owner member lawmaker congressman congresswoman legislator premier chancellor
    king queen prince dictator counterpart""".split())
_ROLE_MODIFIERS = frozenset("the a an former then ex senior top chief deputy foreign nuclear special state "
                            "acting assistant top-ranking veteran longtime".split())
# Words that mark a capitalised sequence as something other than a person.
NON_PERSON = frozenset("""department ministry council committee house senate congress parliament party court
    university journal post times news street association union bank company inc corp corporation group
    agency office administration army forces force navy republic kingdom peninsula war hill nations states
    united korea korean america american russia russian china chinese asia asian europe european africa
    african security state white capitol pentagon kremlin government embassy institute foundation centre
    center fund organization organisation commission federation league club network press tv radio
    city county province region island islands sea ocean river mountain north south east west northern
    southern eastern western northeastern central new york monday tuesday wednesday thursday friday saturday
    sunday january february march april may june july august september october november december
    street avenue square airport station bureau service services agency reserve treasury""".split())
# Words that only start a sentence ("Nonetheless, Pompeo said"), never a name.
_OPENERS = frozenset("""nonetheless shortly back especially unfortunately meanwhile however although though
    despite according instead still yet earlier later last next since while after before both others some
    many most several talk impatience working mixed unlike like until whereas moreover furthermore
    nevertheless indeed also""".split()) | STOPWORDS
# Heads of common-noun actors ("the ministry said", "administration officials said").
GROUP_HEADS = ("ministry", "department", "government", "administration", "embassy", "agency", "office",
               "military", "army", "police", "court", "council", "committee", "side", "official",
               "officials", "spokesman", "spokeswoman", "spokesperson", "lawmakers", "diplomats", "analysts",
               "experts", "sources", "aides", "prosecutors", "authorities", "statement", "kremlin")
_GROUP_MODS = r"(?:[A-Z][\w’'.-]*|senior|top|foreign|defen[cs]e|state|federal|national|local|administration|" \
              r"government|military|western|interior|finance|trade|health|justice|economy|other)"
_GROUP = re.compile(rf"\b(?:(?:[Tt]he|[Aa]n?|[Tt]wo|[Tt]hree|[Ss]everal|[Ss]ome)\s+)?((?:{_GROUP_MODS}\s+){{0,3}})"
                    rf"({'|'.join(GROUP_HEADS)})\b")
# Names of news outlets: what they report is the sources' account, not an actor's position.
MEDIA = frozenset("""journal times post news press reuters bloomberg gazette herald tribune telegraph guardian
    wire radio tv television cnn bbc ap afp yonhap kcna tass xinhua interfax""".split())
DEMONYMS = {"Russia": "Russian", "China": "Chinese", "Japan": "Japanese", "Ukraine": "Ukrainian",
            "Iran": "Iranian", "Israel": "Israeli", "Germany": "German", "France": "French",
            "Britain": "British", "India": "Indian", "Turkey": "Turkish", "Syria": "Syrian",
            "Mexico": "Mexican", "Canada": "Canadian", "Italy": "Italian", "Spain": "Spanish",
            "Poland": "Polish", "Brazil": "Brazilian", "Pakistan": "Pakistani", "Afghanistan": "Afghan",
            "Iraq": "Iraqi", "Egypt": "Egyptian", "Taiwan": "Taiwanese", "Australia": "Australian",
            "Malaysia": "Malaysian", "America": "American"}
_NAME_SEQ = re.compile(r"(?:[A-Z][\w’'-]*\.?)(?:\s+(?:[A-Z][\w’'-]*\.?|(?:of|de|da|van|von|bin|del|la|le)(?=\s+[A-Z])|al-\w+))*")
_NAME_TOKEN = re.compile(r"^(?:[A-Z][a-z][\w’'-]*|[A-Z]\.|[A-Z][a-z]*-[A-Z][a-z]+|Mc[A-Z][a-z]+)$")
_EXTRA_SPEECH = frozenset("reported tweeted wrote read told tells says said added noted warned urged".split())
# Verbs that make even an unknown name or an institution a speaker ("Seoul said").
STRICT_SPEECH = frozenset("""said says told tells stated announced declared added noted stressed warned insisted
    argued claimed wrote tweeted reported replied responded urged explained acknowledged denied confirmed
    cautioned predicted complained conceded countered emphasized reiterated repeated""".split())
_NOT_VERBS = frozenset("statement statements comment comments remarks state states".split())
_ADVERBIAL = r"(?:\w+ly|also|later|then|again|has|have|had|previously|once|recently|earlier|" \
             r"on\s+\w+|in\s+an?\s+\w+|in\s+the\s+\w+|last\s+\w+|this\s+\w+|,\s*R-\w+\.?,|,\s*D-\w+\.?,)"
_AFTER = re.compile(rf"^(?:\s*,[^,“”\"]{{1,120}},)?\s*(?:{_ADVERBIAL}\s+){{0,3}}(\w+)(?:\s+(out\s+)?(an?\s+statement))?")
_BEFORE = re.compile(r"(?:\bsaid|\bsays|\btold\s+\w+|\b[Aa]ccording\s+to|\bstatement\s+(?:from|by)|\bwrote|"
                     r"\btweeted|\bquoted)\s+((?:[\w’'.-]+\s+){0,6})$")
_PRONOUN = re.compile(r"^(?:[“\"]\s*)?(He|She)\b")
_QUOTE_OPEN, _QUOTE_CLOSE = "“", "”"
_BYLINE = re.compile(r"^\s*(\(c\)|©|copyright)\b", re.I)
_LEADING_CLAUSE = frozenset("""in on at after before since while back shortly as when although though despite
    nonetheless however meanwhile for from during under earlier later last this unlike like with without
    by following amid once if because instead still yet but and so also especially""".split())


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

    def span(self, first: int, last: int) -> tuple[int, int]:
        return self.sentences[first].start, self.sentences[last].end


def display_name(actor: Actor) -> str:
    return actor.name[:1].upper() + actor.name[1:]


# -- names ---------------------------------------------------------------------------------
def _is_person_name(tokens: list[str]) -> bool:
    return (1 <= len(tokens) <= 4 and all(_NAME_TOKEN.match(t) for t in tokens)
            and not any(t.lower().strip(".") in NON_PERSON or t in DEMONYMS for t in tokens))


def _split_title(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(role tokens, name tokens) of a capitalised sequence."""
    last = -1
    for i, t in enumerate(tokens):
        low = t.lower().strip(".").replace("’s", "")
        if low in TITLES or low.split("-")[0] in TITLES:
            last = i
    if last < 0:
        return [], tokens
    rest = tokens[last + 1:]
    if rest and rest[0] == "of":  # "Secretary of State Michael Pompeo"
        rest = rest[2:]
    while rest and (rest[0].lower() in NON_PERSON or rest[0] in ("of", "the")):
        rest = rest[1:]
    return tokens[:len(tokens) - len(rest)], rest


def _strip_openers(tokens: list[str], lowercase_words: set[str]) -> list[str]:
    while tokens and not tokens[0].isupper() and (tokens[0].lower() in _OPENERS or tokens[0].lower() in lowercase_words):
        tokens = tokens[1:]
    return tokens


def _clean_tokens(raw: str) -> list[str]:
    """The words of a capitalised sequence without possessives and a sentence's full stop."""
    tokens = [re.sub(r"[’']s$", "", t) for t in raw.split()]
    if tokens and tokens[-1].endswith(".") and len(tokens[-1]) > 2 and tokens[-1] not in ("Jr.", "Sr.", "St."):
        tokens[-1] = tokens[-1][:-1]
    return [t for t in tokens if t]


_WHEN_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
               "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
# The mention only modifies a name that follows ("said State Department spokesman Justin …").
_MORE_NAME = re.compile(r"^\s+(?:(?:" + "|".join(sorted(ROLE_NOUNS)) + r")\s+){0,2}(?!" + "|".join(_WHEN_WORDS)
                        + r")[A-Z]")
_APPOSITIVE = re.compile(r"^,\s+(?:the|a|an)\s+([^,“”\"]{0,90}?\b(?:" + "|".join(sorted(ROLE_NOUNS)) +
                         r"))\b[^,“”\"]{0,60},")


def _role_before(text: str, start: int) -> str:
    """A lower-case role phrase right before a name: "State Department spokesman"."""
    m = re.search(r"((?:(?:[A-Z][\w’'.-]*|former|senior|top|chief|deputy|nuclear|special|foreign)\s+){0,4}"
                  r"(?:[a-z]+\s+)?([a-z]+))\s+$", text[max(0, start - 80):start])
    if not m or m.group(2) not in ROLE_NOUNS:
        return ""
    phrase = m.group(1).strip()
    # keep from the first capitalised word or modifier, never a verb before it ("said …")
    words = phrase.split()
    while words and words[0].lower() in ("said", "says", "told", "the", "a", "an", "and", "with", "by"):
        words = words[1:]
    return " ".join(words)


_QUOTE_MARKS = re.compile(r'[“”"]')
_NONSPACE = re.compile(r"\S")


def _mask_quotes(text: str, inside: bool) -> tuple[str, bool]:
    """``text`` with quoted words blanked (offsets kept), and whether a quotation is still
    open at its end. Curly quotes open and close; straight double quotes toggle."""
    if not inside and not _QUOTE_MARKS.search(text):
        return text, False
    out, pos = [], 0
    for m in _QUOTE_MARKS.finditer(text):
        seg = text[pos:m.start()]
        out.append(_NONSPACE.sub("_", seg) if inside else seg)
        mark = m.group()
        inside = True if mark == _QUOTE_OPEN else False if mark == _QUOTE_CLOSE else not inside
        out.append(mark)
        pos = m.end()
    seg = text[pos:]
    out.append(_NONSPACE.sub("_", seg) if inside else seg)
    return "".join(out), inside


def _speaks(masked: str, start: int, end: int, strict: bool = False) -> bool:
    """A speech verb attaches to the mention at ``start:end`` (quoted words are masked).
    ``strict``: only plain verbs of saying count (for unknown names and institutions)."""
    m = _AFTER.match(masked[end:])
    if m:
        verb = m.group(1)
        if verb in ("issued", "read", "released", "made") and m.group(3):
            return True
        if (verb[:1].islower() and not verb.endswith("ing") and verb not in _NOT_VERBS
                and (verb in STRICT_SPEECH if strict else (speech_verb(verb) or verb in _EXTRA_SPEECH))):
            return True
    b = _BEFORE.search(masked[max(0, start - 120):start])
    if b and not _MORE_NAME.match(masked[end:]):
        between = b.group(1).split()
        if all(w[:1].isupper() or w.lower() in _ROLE_MODIFIERS or w.lower() in ROLE_NOUNS for w in between):
            return True
    tail = masked[end:end + 16]
    return bool(re.match(r"^[’']s\s+(statement|remarks|comments|letter|tweet)", tail))


def _is_subject(masked: str, start: int) -> bool:
    """The mention opens the sentence's main clause (after a leading phrase and titles)."""
    prefix = masked[:start]
    toks = re.findall(r"[\w’'.-]+|[,;:“”\"]", prefix)
    if toks and toks[0].lower() in _LEADING_CLAUSE and "," in toks:
        toks = toks[len(toks) - toks[::-1].index(","):]
    toks = [t for t in toks if t not in ("“", '"')]
    return all(t[:1].isupper() or t in ("of", "’s", "'s") or t.lower() in _ROLE_MODIFIERS or t.lower() in ROLE_NOUNS for t in toks) \
        and len(toks) <= 8


def _group_name(mods: str, head: str) -> str:
    words = mods.split()
    words = [DEMONYMS.get(w, w) for w in words]
    if words and words[0] in ("US", "U.S."):
        words[0] = "US"
    name = " ".join(words + [head])
    return name


# -- analysis ------------------------------------------------------------------------------
def _headings(doc: Document, spans: list[tuple[int, int]]) -> list[bool]:
    text = doc.text
    out = []
    for a, b in spans:
        s = text[a:b].strip()
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        line = text[line_start:len(text) if line_end < 0 else line_end].strip()
        out.append(s == doc.title.strip() or s == doc.publisher.strip() or bool(_BYLINE.match(s))
                   or (line == s and not re.search(r"[.!?”\"’)]$", s)))
    return out


def _names(sent: str, lowercase_words: set[str]):
    """(role tokens, name tokens, start, end) of each capitalised sequence of ``sent``."""
    for m in _NAME_SEQ.finditer(sent):
        tokens = _strip_openers(_clean_tokens(m.group()), lowercase_words)
        role_toks, name_toks = _split_title(tokens)
        if not name_toks:
            continue
        start = sent.find(name_toks[0], m.start())
        end = start + len(" ".join(name_toks))
        if sent[start:end] != " ".join(name_toks):  # other spacing inside the name: keep the match
            end = m.end()
        yield role_toks, name_toks, start, end


_PEOPLE: dict[tuple[str, int, int], dict[str, str]] = {}


def introduced_people(doc: Document) -> dict[str, str]:
    """People the document introduces with a title, a role noun or a role in apposition:
    {full name: role}."""
    key = (doc.doc_id, len(doc.text), hash(doc.text))
    if key not in _PEOPLE:
        if len(_PEOPLE) > 4096:
            _PEOPLE.clear()
        _PEOPLE[key] = _introduced_people(doc)
    return dict(_PEOPLE[key])


def _introduced_people(doc: Document) -> dict[str, str]:
    text = doc.text
    lowercase_words = set(re.findall(r"\b[a-z][a-z’'-]+\b", text))
    people: dict[str, str] = {}
    for a, b in _spans(doc):
        sent = text[a:b]
        for role_toks, name_toks, start, end in _names(sent, lowercase_words):
            if len(name_toks) < 2 or not _is_person_name(name_toks):
                continue
            appos = _APPOSITIVE.match(sent[end:])
            role = " ".join(role_toks) or _role_before(sent, start) or (appos.group(1) if appos else "")
            if role and not people.get(" ".join(name_toks)):
                people[" ".join(name_toks)] = role
    return people


_SPANS: dict[tuple[str, int, int], list[tuple[int, int]]] = {}


def _spans(doc: Document) -> list[tuple[int, int]]:
    """Sentence spans of a document, computed once per text (Punkt is the slow part)."""
    key = (doc.doc_id, len(doc.text), hash(doc.text))
    spans = _SPANS.get(key)
    if spans is None:
        if len(_SPANS) > 4096:
            _SPANS.clear()
        spans = _SPANS[key] = sentence_spans(doc.text)
    return spans


def _after_prepositions(text: str) -> set[str]:
    """Capitalised names (and their leading parts) right after "in", "to", "from", "at":
    places, as in "a trip to Moscow"."""
    out = set()
    for m in re.finditer(r"\b(?:in|to|from|at)\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)", text):
        parts = m.group(1).split()
        out.update(" ".join(parts[:k]) for k in range(1, len(parts) + 1))
    return out


def known_in(doc: Document, known: dict[str, str]) -> list[str]:
    """The names of ``known`` that the document spells out in full."""
    if not known:
        return []
    caps = set(re.findall(r"[A-Z][\w’'-]+", doc.text))
    return [n for n in known if n.rsplit(" ", 1)[-1] in caps and n in doc.text
            and re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", doc.text)]


def analyse(doc: Document, known: dict[str, str] | None = None) -> DocSpeakers:
    """Actors and per-sentence speakers, subjects and mentions of one document. ``known``:
    people other documents introduced ({full name: role}), recognised here by full name."""
    text = doc.text
    spans = _spans(doc)
    places = _after_prepositions(text)
    lowercase_words = set(re.findall(r"\b[a-z][a-z’'-]+\b", text))
    headings = _headings(doc, spans)
    breaks = [m.start() for m in re.finditer("\n", text)]
    lines = [bisect.bisect_left(breaks, a) for a, _ in spans]
    actors: dict[str, Actor] = {}
    alias: dict[str, str] = {}  # a full name or a unique part of it → the person

    def add(name: str, kind: str, role: str = "") -> Actor:
        actor = actors.get(name)
        if actor is None:
            actor = actors[name] = Actor(name, kind, role, {name})
        if role and not actor.role:
            actor.role = role
        return actor

    def names(sent: str):
        return _names(sent, lowercase_words)

    for name, role in introduced_people(doc).items():
        add(name, "person", role)
    for name in known_in(doc, known or {}):
        if name not in actors:
            add(name, "person", (known or {})[name])
    _index_aliases(actors, alias)

    # Pass 2: mentions, speakers and subjects, sentence by sentence.
    infos: list[SentenceInfo] = []
    inside, prev_line = False, -1
    last_group: dict[str, str] = {}  # head noun → the group it last named ("the ministry")
    statement_by: tuple[str, int] | None = None  # who issued the statement last spoken of, where
    for i, (a, b) in enumerate(spans):
        sent = text[a:b]
        if lines[i] != prev_line:
            inside, prev_line = False, lines[i]
        started_inside = inside
        masked, inside = _mask_quotes(sent, inside)
        quoted = started_inside or _QUOTE_OPEN in sent or '"' in sent
        speakers: list[str] = []
        subjects: list[str] = []
        mentions: list[str] = []

        def note(name: str, s: int, e: int, strict: bool = False) -> None:
            if name not in mentions:
                mentions.append(name)
            if name not in speakers and _speaks(masked, s, e, strict):
                speakers.append(name)
            if name not in subjects and _is_subject(masked, s):
                subjects.append(name)

        for role_toks, name_toks, start, end in names(masked):
            name = " ".join(name_toks)
            known = alias.get(name) or (alias.get(name_toks[0]) if len(name_toks) == 1 else None)
            if known:
                note(known, start, end)
                continue
            place = name in places
            if _is_person_name(name_toks) and name_toks[0].lower() not in lowercase_words:
                if role_toks or (not place and _speaks(masked, start, end, strict=True)):
                    actor = add(name, "person", " ".join(role_toks))
                    alias.setdefault(name, actor.name)
                    note(actor.name, start, end)
                elif place and len(name_toks) == 1 and _speaks(masked, start, end, strict=True):
                    note(add(name, "place").name, start, end, strict=True)
            elif (any(t.lower() in NON_PERSON for t in name_toks) and not any(t in _WHEN_WORDS for t in name_toks)
                  and _speaks(masked, start, end, strict=True)):
                kind = "media" if any(t.lower() in MEDIA for t in name_toks) else "group"
                note(add(re.sub(r"^The\s+", "", name), kind).name, start, end, strict=True)

        attributed_by = None
        for m in _GROUP.finditer(masked):
            mods, head = m.group(1).strip(), m.group(2)
            if _MORE_NAME.match(masked[m.end():]):
                continue  # "State Department spokesman Justin Higgins": the person speaks
            if head == "statement":
                if not mods and statement_by and _speaks(masked, m.start(2), m.end(2)):
                    note(statement_by[0], m.start(2), m.end(2))
                    if i - statement_by[1] <= 2:
                        attributed_by = statement_by[1]
                continue
            if mods:
                if any(w in alias for w in mods.split()):
                    continue  # "Trump administration officials": not a group of its own
                name = _group_name(mods, head)
                last_group[head] = name
                if head.endswith("s"):
                    last_group.setdefault(head[:-1], name)
            elif head in last_group:
                name = last_group[head]
            else:
                continue
            if _speaks(masked, m.start(2), m.end(2)):
                add(name, "group")
            if name in actors:
                note(name, m.start(2), m.end(2))

        # "He also said …": the person the sentence before spoke of.
        body = masked
        lead = re.match(r"^[A-Z][^,]{0,80},\s*", masked)
        if lead and lead.group().split()[0].lower() in _LEADING_CLAUSE:
            body = masked[lead.end():]
        p = _PRONOUN.match(body)
        if p is not None and infos:
            prev = infos[-1]
            who = next((x for x in (*prev.speakers, *prev.subjects)
                        if x in actors and actors[x].kind == "person"), None)
            if who is not None:
                off = len(masked) - len(body)
                if who not in speakers and _speaks(masked, off + p.start(1), off + p.end(1)):
                    speakers.append(who)
                subjects.append(who) if who not in subjects else None
                mentions.append(who) if who not in mentions else None
                attributed_by = prev.index if prev.attributed_by is None else prev.attributed_by
        # A quotation that goes on past its attribution: same speaker, same paragraph.
        if (not speakers and quoted and infos and infos[-1].line == lines[i]
                and (started_inside or masked.lstrip().startswith(_QUOTE_OPEN))):
            prev = infos[-1]
            if prev.speakers and prev.quoted:
                speakers = list(prev.speakers)
                attributed_by = prev.index if prev.attributed_by is None else prev.attributed_by
        # "According to Moscow, …" right after the ministry's statement continues it.
        if (len(speakers) == 1 and actors.get(speakers[0]) and actors[speakers[0]].kind == "place"
                and infos and infos[-1].line == lines[i]):
            group = next((x for x in infos[-1].speakers if actors.get(x) and actors[x].kind == "group"), None)
            if group:
                speakers = [group]
                attributed_by = infos[-1].index
        if speakers and re.search(r"\bstatement\b", masked):
            statement_by = (speakers[0], i)
        infos.append(SentenceInfo(i, a, b, lines[i], sent, headings[i], quoted, tuple(speakers),
                                  tuple(subjects), tuple(mentions), attributed_by))

    # A quotation whose attribution comes after it ("“A. B,” X said."): look ahead.
    for k, s in enumerate(infos):
        if s.speakers or s.heading or not s.text.lstrip().startswith(_QUOTE_OPEN) or _QUOTE_CLOSE in s.text:
            continue
        for j in range(k + 1, min(len(infos), k + 4)):
            nxt = infos[j]
            if nxt.line != s.line:
                break
            if _QUOTE_CLOSE in nxt.text:
                if nxt.speakers and nxt.attributed_by is None:
                    for x in range(k, j):
                        infos[x] = replace(infos[x], speakers=nxt.speakers, attributed_by=j)
                break
    return DocSpeakers(doc, infos, actors)


def _index_aliases(actors: dict[str, Actor], alias: dict[str, str]) -> None:
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


def merge_people(analyses: list[DocSpeakers]) -> list[DocSpeakers]:
    """One name per person across documents: a surname alone ("Trump") becomes the one
    full name that ends with it ("Donald Trump") when exactly one document spells it out."""
    full: dict[str, set[str]] = {}
    for an in analyses:
        for actor in an.actors.values():
            if actor.kind == "person" and len(actor.name.split()) >= 2:
                for part in actor.name.split():
                    full.setdefault(part, set()).add(actor.name)
    out = []
    for an in analyses:
        rename: dict[str, str] = {}
        for actor in an.actors.values():
            if actor.kind in ("person", "place") and len(actor.name.split()) == 1:
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
            actors[new] = target

        def fix(names: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(rename.get(n, n) for n in names))

        sentences = [replace(s, speakers=fix(s.speakers), subjects=fix(s.subjects), mentions=fix(s.mentions))
                     for s in an.sentences]
        out.append(DocSpeakers(an.doc, sentences, actors))
    return out
