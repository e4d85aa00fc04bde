"""Word-level text handling shared by lexical retrieval, sentence scoring and verification:
one tokenizer, so the same word matches the same way everywhere."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["tokenize", "stem", "STOPWORDS", "content_terms", "words"]

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
def _snowball():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


def words(text: str) -> list[str]:
    """Lowercased words (apostrophes folded, possessive 's dropped)."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group().lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w)
    return out


def tokenize(text: str) -> list[str]:
    """Stemmed content tokens (stopwords removed), for BM25 and overlap scores."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def content_terms(text: str, extra_form_words: frozenset[str] = frozenset()) -> list[str]:
    """Distinct stemmed terms of a question, without form words like "say"/"describe"."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w in STOPWORDS or w in QUESTION_WORDS or w in extra_form_words:
            continue
        seen.setdefault(stem(w), None)
    return list(seen)
