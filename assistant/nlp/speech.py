"""The surface rules of attribution: which words are verbs of saying, where a speech verb
attaches to a name outside quotation marks ("…,” Pompeo said", "said … Joel Wit"), which lines
are headings, and the patterns the reader applies sentence by sentence (``attribution``)."""

from __future__ import annotations

import re

from index_build.core.models import Document

from .names import GROUP_HEADS, MORE_NAME, ROLE_MODIFIERS, ROLE_NOUNS
from .parse import SPEECH_LEMMAS
from .question import speech_verb

__all__ = ["ADVERBIAL", "AFTER", "BEFORE", "BYLINE", "CLAUSE_END", "DETERMINERS", "EXTRA_SPEECH", "GROUP_SINGULAR",
           "LEADING_CLAUSE", "NOT_VERBS", "PRONOUN", "PRONOUN_REACH", "SPEECH_FORM", "STRICT_SPEECH",
           "TRAILING_PRONOUN", "heading_lines", "is_subject_at", "speaks_at"]

EXTRA_SPEECH = frozenset("reported tweeted wrote read told tells says said added noted warned urged".split())
# Verbs that make even an unknown name or an institution a speaker ("Seoul said").
STRICT_SPEECH = frozenset("""said says told tells stated announced declared added noted stressed warned insisted
    argued claimed wrote tweeted reported replied responded urged explained acknowledged denied confirmed
    cautioned predicted complained conceded countered emphasized reiterated repeated""".split())
NOT_VERBS = frozenset("statement statements comment comments remarks state states".split())
ADVERBIAL = r"(?:\w+ly|also|later|then|again|has|have|had|previously|once|recently|earlier|" \
             r"on\s+\w+|in\s+an?\s+\w+|in\s+the\s+\w+|last\s+\w+|this\s+\w+|,\s*R-\w+\.?,|,\s*D-\w+\.?,)"
AFTER = re.compile(rf"^(?:\s*,[^,“”\"]{{1,120}},)?\s*(?:{ADVERBIAL}\s+){{0,3}}(\w+)"
                    r"(?:\s+(out\s+)?(an?\s+statement))?")
BEFORE = re.compile(r"(?:\bsaid|\bsays|\btold\s+\w+|\b[Aa]ccording\s+to|\bstatement\s+(?:from|by)|\bwrote|"
                     r"\btweeted|\bquoted)\s+((?:[\w’'.-]+\s+){0,6})$")
PRONOUN = re.compile(r"^(?:[“\"]\s*)?(He|She)\b")
# The attribution after a quotation: "“…,” he said." (quoted words are masked, marks kept)
TRAILING_PRONOUN = re.compile(r"[,”\"]\s*(he|she)\b(?=[^“”\"]*$)")
# After "said X": X ends the clause ("…,” said Joel Wit.", "said Zelenskyy in a video"), unlike
# "said Russia and China would prefer …", where X is the subject of what was said.
CLAUSE_END = re.compile(r"^\s*(?:[,.;:!?”\"’)]|$|(?:in|on|at|during|to|after|before|about|of|from|with|when|while|"
                         r"as|earlier|later|last|this|told|who|whose)\b)")
BYLINE = re.compile(r"^\s*(\(c\)|©|copyright)\b", re.I)
# Inflected verbs of saying: a sentence without one is not parsed for a speaker.
SPEECH_FORM = re.compile(r"\b(?:said|told|wrote|written|(?:" + "|".join(sorted(SPEECH_LEMMAS))
                          + r")(?:s|es|d|ed|ing)?)\b", re.I)
DETERMINERS = frozenset("the a an some many several other these those".split())
GROUP_SINGULAR = frozenset(h[:-1] if h.endswith("s") else h for h in GROUP_HEADS) | {
    "authority", "resident", "voter", "worker", "doctor", "teacher", "student", "parent", "witness", "activist",
    "protester", "investigator", "prosecutor", "police", "officer", "source"}
PRONOUN_REACH = 4  # "he said" looks back this many sentences for the person who spoke
LEADING_CLAUSE = frozenset("""in on at after before since while back shortly as when although though despite
    nonetheless however meanwhile for from during under earlier later last this unlike like with without
    by following amid once if because instead still yet but and so also especially""".split())


def speaks_at(masked: str, start: int, end: int, strict: bool = False) -> bool:
    """A speech verb attaches to the mention at ``start:end`` (quoted words are masked).
    ``strict``: only plain verbs of saying count (for unknown names and institutions)."""
    m = AFTER.match(masked[end:])
    if m:
        verb = m.group(1)
        if verb in ("issued", "read", "released", "made") and m.group(3):
            return True
        if (verb[:1].islower() and not verb.endswith("ing") and verb not in NOT_VERBS
                and (verb in STRICT_SPEECH if strict else (speech_verb(verb) or verb in EXTRA_SPEECH))):
            return True
    b = BEFORE.search(masked[max(0, start - 120):start])
    if b and not MORE_NAME.match(masked[end:]) and CLAUSE_END.match(masked[end:]):
        between = b.group(1).split()
        if all(w[:1].isupper() or w.lower() in ROLE_MODIFIERS or w.lower() in ROLE_NOUNS for w in between):
            return True
    tail = masked[end:end + 16]
    return bool(re.match(r"^[’']s\s+(statement|remarks|comments|letter|tweet)", tail))


def is_subject_at(masked: str, start: int) -> bool:
    """The mention opens the sentence's main clause (after a leading phrase and titles)."""
    prefix = masked[:start]
    toks = re.findall(r"[\w’'.-]+|[,;:“”\"]", prefix)
    if toks and toks[0].lower() in LEADING_CLAUSE and "," in toks:
        toks = toks[len(toks) - toks[::-1].index(","):]
    toks = [t for t in toks if t not in ("“", '"')]
    return len(toks) <= 8 and all(t[:1].isupper() or t in ("of", "’s", "'s") or t.lower() in ROLE_MODIFIERS
                                  or t.lower() in ROLE_NOUNS for t in toks)


# -- analysis ------------------------------------------------------------------------------
def heading_lines(doc: Document, spans: list[tuple[int, int]]) -> list[bool]:
    text = doc.text
    out = []
    for a, b in spans:
        s = text[a:b].strip()
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        line = text[line_start:len(text) if line_end < 0 else line_end].strip()
        out.append(s == doc.title.strip() or s == doc.publisher.strip() or bool(BYLINE.match(s))
                   or (line == s and not re.search(r"[.!?”\"’)]$", s)))
    return out
