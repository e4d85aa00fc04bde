"""Names in news text: people (with their titles and roles), organisations, places.

Rules, no model: a person's name is a capitalised sequence that comes with a title
("Foreign Minister Ri Yong Ho"), a role noun before it ("spokesman Justin Higgins") or a
role in apposition ("Joseph Yun, the State Department’s special representative …").
Sentence-initial words ("Nonetheless"), institutions ("State Department"), places and
dates are told apart by small documented word lists. Used by ``speakers``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from index_build.chunk import sentence_spans
from index_build.core.models import Document
from index_build.core.text import STOPWORDS

__all__ = ["TITLES", "ROLE_NOUNS", "ROLE_MODIFIERS", "NON_PERSON", "MEDIA", "DEMONYMS", "GROUP", "WHEN_WORDS",
           "MORE_NAME", "is_person_name", "names", "introduced_people", "known_in", "doc_spans",
           "after_prepositions", "group_name", "spelling"]

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
ROLE_MODIFIERS = frozenset("the a an former then ex senior top chief deputy foreign nuclear special state "
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
    street avenue square airport station bureau service services agency reserve treasury u.s us uk un eu nato
    u.n u.k e.u""".split())
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
GROUP = re.compile(rf"\b(?:(?:[Tt]he|[Aa]n?|[Tt]wo|[Tt]hree|[Ss]everal|[Ss]ome)\s+)?((?:{_GROUP_MODS}\s+){{0,3}})"
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
_TOKEN = r"(?:(?:[A-Z]\.){2,}|[A-Z][\w’'-]*\.?)"  # "U.S." is one token
_NAME_SEQ = re.compile(_TOKEN + r"(?:\s+(?:" + _TOKEN + r"|(?:of|de|da|van|von|bin|del|la|le)(?=\s+[A-Z])|al-\w+))*")
_NAME_TOKEN = re.compile(r"^(?:[A-Z][a-z][\w’'-]*|[A-Z]\.|[A-Z][a-z]*-[A-Z][a-z]+|Mc[A-Z][a-z]+)$")
WHEN_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
              "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
# The mention only modifies a name that follows ("said State Department spokesman Justin …").
MORE_NAME = re.compile(r"^\s+(?:(?:" + "|".join(sorted(ROLE_NOUNS)) + r")\s+){0,2}(?!" + "|".join(WHEN_WORDS)
                       + r")[A-Z]")
_APPOSITIVE = re.compile(r"^,\s+(?:the|a|an)\s+([^,“”\"]{0,90}?\b(?:" + "|".join(sorted(ROLE_NOUNS)) +
                         r"))\b[^,“”\"]{0,60},")


# -- names ---------------------------------------------------------------------------------
def is_person_name(tokens: list[str]) -> bool:
    """1–4 capitalised words, none of them an institution's, a place's or a date's."""
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
        # "Russian Deputy Foreign Ministry Alexey Zaytsev": an institution, then a name
        cut = max((i for i, t in enumerate(tokens) if t.lower().strip(".") in NON_PERSON), default=-1)
        tail = tokens[cut + 1:]
        if 0 <= cut and 2 <= len(tail) <= 3 and is_person_name(tail):
            return tokens[:cut + 1], tail
        return [], tokens
    rest = tokens[last + 1:]
    if rest and rest[0] == "of":  # "Secretary of State Michael Pompeo"
        rest = rest[2:]
    while rest and (rest[0].lower() in NON_PERSON or rest[0] in ("of", "the")):
        rest = rest[1:]
    return tokens[:len(tokens) - len(rest)], rest


def _strip_openers(tokens: list[str], lowercase_words: set[str]) -> list[str]:
    while tokens and not tokens[0].isupper() and (tokens[0].lower() in _OPENERS
                                                  or tokens[0].lower() in lowercase_words):
        tokens = tokens[1:]
    return tokens


def _clean_tokens(raw: str) -> list[str]:
    """The words of a capitalised sequence without possessives and a sentence's full stop."""
    tokens = [re.sub(r"[’']s$", "", t) for t in raw.split()]
    if (tokens and tokens[-1].endswith(".") and len(tokens[-1]) > 2 and tokens[-1] not in ("Jr.", "Sr.", "St.")
            and not re.fullmatch(r"(?:[A-Z]\.)+", tokens[-1])):
        tokens[-1] = tokens[-1][:-1]
    return [t for t in tokens if t]


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


def group_name(mods: str, head: str) -> str:
    """A common-noun actor's name: "The Russia foreign ministry" → "Russian foreign ministry"."""
    words = [DEMONYMS.get(w, w) for w in mods.split()]
    if words and words[0] == "U.S.":
        words[0] = "US"
    return " ".join(words + [head])


def names(sent: str, lowercase_words: set[str]) -> Iterator[tuple[list[str], list[str], int, int]]:
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


# Per-process caches keyed on the document's id and text itself (a dict compares the text on a
# hash match, so two texts never share an entry; the strings are the documents' own).
_PEOPLE: dict[tuple[str, str], dict[str, str]] = {}


def introduced_people(doc: Document) -> dict[str, str]:
    """People the document introduces with a title, a role noun or a role in apposition:
    {full name: role}."""
    key = (doc.doc_id, doc.text)
    people = _PEOPLE.get(key)
    if people is None:
        if len(_PEOPLE) > 4096:
            _PEOPLE.clear()
        people = _PEOPLE[key] = _introduced_people(doc)
    return dict(people)


def _introduced_people(doc: Document) -> dict[str, str]:
    text = doc.text
    lowercase_words = set(re.findall(r"\b[a-z][a-z’'-]+\b", text))
    people: dict[str, str] = {}
    for a, b in doc_spans(doc):
        sent = text[a:b]
        for role_toks, name_toks, start, end in names(sent, lowercase_words):
            if len(name_toks) < 2 or not is_person_name(name_toks):
                continue
            appos = _APPOSITIVE.match(sent[end:])
            role = " ".join(role_toks) or _role_before(sent, start) or (appos.group(1) if appos else "")
            if role and not people.get(" ".join(name_toks)):
                people[" ".join(name_toks)] = role
    return people


_SPANS: dict[tuple[str, str], list[tuple[int, int]]] = {}


def doc_spans(doc: Document) -> list[tuple[int, int]]:
    """Sentence spans of a document, computed once per text (Punkt is the slow part)."""
    key = (doc.doc_id, doc.text)
    spans = _SPANS.get(key)
    if spans is None:
        if len(_SPANS) > 4096:
            _SPANS.clear()
        spans = _SPANS[key] = sentence_spans(doc.text)
    return spans


def after_prepositions(text: str) -> set[str]:
    """Capitalised names (and their leading parts) right after "in", "to", "from", "at":
    places, as in "a trip to Moscow"."""
    out: set[str] = set()
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


def spelling(name: str) -> str:
    """A key under which spellings of one name meet: "Zelenskyy" and "Zelensky"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"(.)\1+", r"\1", plain)
