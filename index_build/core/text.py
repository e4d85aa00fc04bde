"""Word-level text handling shared by lexical retrieval, sentence scoring and verification:
one tokenizer, so the same word matches the same way everywhere."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["tokenize", "stem", "STOPWORDS", "content_terms", "words", "redundant", "QUOTE_MARK", "QUOTE_OPEN",
           "QUOTE_CLOSE", "mask_quotes", "outside_quotes"]

QUOTE_MARK = re.compile(r"[“”\"]")  # a quotation mark, curly or straight
QUOTE_OPEN, QUOTE_CLOSE = "“", "”"
_NONSPACE = re.compile(r"\S")
_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*%?|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from as into onto about over under
    after before between through during without within is are was were be been being am do does did done
    doing have has had having will would shall should can could may might must this that these those it
    its it's they them their theirs he him his she her hers we us our you your i me my mine what which who
    whom whose when where why how not no nor so than too very just also only there here s t
    all any both each few more most other some such own same up down out off again further once""".split()
)
# Words that carry the question's form rather than its content.
QUESTION_WORDS = frozenset("tell describe explain say said says many much happen happened".split())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _snowball().stem(word) if len(word) > 3 else word


@lru_cache(maxsize=1)
def _snowball() -> Any:
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


def words(text: str) -> list[str]:
    """Lowercased words (apostrophes folded, possessive 's dropped)."""
    # List comprehensions over findall (the pattern has no capturing group, so findall gives
    # each whole match): the same words as a loop over finditer, ~30 % faster, which is most
    # of building BM25 over every chunk on first open (checked equal on 107k RealTimeQA chunks).
    out = [w.lower() for w in _WORD.findall(text)]
    if "’" in text:
        out = [w.replace("’", "'") for w in out]
    return [w[:-2] if w.endswith("'s") else w for w in out]


# tokenize() looks stems up in a plain dict first: cheaper than the lru_cache wrapper, and
# BM25 over 100k chunks calls it ~20 million times. Cleared when it grows past the limit.
_STEMS: dict[str, str] = {}
_STEMS_LIMIT = 500_000


def tokenize(text: str) -> list[str]:
    """Stemmed content tokens (stopwords removed), for BM25 and overlap scores."""
    stems = _STEMS
    if len(stems) > _STEMS_LIMIT:
        stems.clear()
    out = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        s = stems.get(w)
        if s is None:
            s = stems[w] = stem(w)
        out.append(s)
    return out


def content_terms(text: str, extra_form_words: frozenset[str] = frozenset()) -> list[str]:
    """Distinct stemmed terms of a question, without form words like "say"/"describe"."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w in STOPWORDS or w in QUESTION_WORDS or w in extra_form_words:
            continue
        seen.setdefault(stem(w), None)
    return list(seen)


def redundant(a: str, b: str) -> bool:
    """Do two sentences mostly say the same words (over 60 % of the shorter one's terms)?"""
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.6


def mask_quotes(text: str, inside: bool = False) -> tuple[str, bool]:
    """``text`` with quoted words blanked (offsets kept), and whether a quotation is still
    open at its end (``inside``: one is open at its start). Curly quotes open and close;
    straight double quotes toggle."""
    if not inside and not QUOTE_MARK.search(text):
        return text, False
    out, pos = [], 0
    for m in QUOTE_MARK.finditer(text):
        seg = text[pos:m.start()]
        out.append(_NONSPACE.sub("_", seg) if inside else seg)
        mark = m.group()
        inside = True if mark == QUOTE_OPEN else False if mark == QUOTE_CLOSE else not inside
        out.append(mark)
        pos = m.end()
    seg = text[pos:]
    out.append(_NONSPACE.sub("_", seg) if inside else seg)
    return "".join(out), inside


def outside_quotes(text: str, inside: bool = False) -> str:
    """``text`` with its quoted words blanked: the reporter's words only."""
    return mask_quotes(text, inside)[0]
