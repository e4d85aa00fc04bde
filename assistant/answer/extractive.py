"""Extractive answers: the sentences of the top passages that answer the question best.

Deterministic and model-free beyond retrieval. Every sentence of an answer is a verbatim
sentence of a source, so it cannot say what the source does not. Scoring is lexical
(IDF-weighted coverage of the question's content terms by the sentence, and by the
sentence plus its context: the sentence before it and the document's headline and
byline); eligibility rules refuse sentences of the wrong form (no number for "how
many", someone else's words for "what did X say", no date for "when"). No eligible
sentence above the bar → abstain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index_build.chunk import sentence_spans
from index_build.core.text import QUOTE_MARK, content_terms, redundant, tokenize, words

from ..models import Passage
from ..nlp.question import Question, entities, speech_verb
from .candidates import Sentence
from .view import IndexView

__all__ = ["Scored", "candidates", "select", "MIN_SENTENCE_COVERAGE", "MIN_CONTEXT_COVERAGE"]

MIN_SENTENCE_COVERAGE = 0.34
MIN_CONTEXT_COVERAGE = 0.6
MAX_SENTENCES = 2
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                     r"forty|fifty|hundred|thousand|million|billion|dozen|several|half)\b", re.I)
_DATE = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|"
    r"mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|tonight|week|month|year|ago|earlier|later|since|until|(1[89]|20)\d\d)\b", re.I)
_FUTURE = re.compile(r"\b(will|would|shall|plan|plans|planned|planning|expected|upcoming|next|scheduled|"
                     r"intend|intends|going to|to be held|soon)\b", re.I)
_ANAPHOR = re.compile(r"^[“\"‘']?\s*(the (statement|ministry|official|envoy|spokesman|spokeswoman|letter|"
                      r"report|agency|government|side|sides|minister|president)|he|she|they|it|his|her|their)\b", re.I)
_BYLINE = re.compile(r"^\s*(\(c\)|©|copyright|by\s+[A-Z])", re.I)


@dataclass(frozen=True)
class Scored(Sentence):
    """A sentence as the hand-written selector scores it: how much of the question it and its
    context cover, and whether it may answer (else why not)."""
    sentence_cov: float
    context_cov: float
    score: float
    eligible: bool
    why_not: str = ""


# A deliberately small table of words that news reports use for the same event, so a
# question's "travel" finds a passage's "trip". Stems, as ``text.stem`` makes them.
RELATED: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "travel": "trip visit arriv flew fli journey dispatch",
        "trip": "travel visit arriv journey",
        "visit": "trip travel arriv",
        "meet": "met talk summit",
        "critic": "slam rebuk condemn blast attack",
        "demand": "insist call urg",
        "kill": "dead die death",
        "win": "won victori",
        "buy": "acquir purchas bought",
        "resign": "quit",
        "arrest": "detain",
        "spokesman": "spokeswoman spokesperson",
        "author": "wrote written",
    }.items()
}

_AUTHORSHIP_FORM = frozenset("wrote write written writes article story piece report author byline".split())


def _term_groups(corpus: IndexView, q: Question, text: str) -> list[tuple[frozenset[str], float, str]]:
    """The question's content terms as weighted groups: a multi-word name is one group
    (covered by any of its words, weighted by its rarest word), other terms stand alone
    (covered by themselves or a related word)."""
    form = _AUTHORSHIP_FORM if q.authorship else frozenset()
    terms = content_terms(text, form)
    groups: list[tuple[frozenset[str], float, str]] = []
    used: set[str] = set()
    for name in q.entities:
        stems = frozenset(t for t in content_terms(name, form) if t in terms)
        if len(stems) > 1:
            groups.append((stems, max(corpus.idf(t) for t in stems), name))
            used |= stems
    groups += [(frozenset([t]) | RELATED.get(t, frozenset()), corpus.idf(t), "") for t in terms if t not in used]
    return groups


# Short forms a question may use for a name the text spells out, and back.
ALIASES: dict[str, tuple[str, ...]] = {
    "UN": ("United Nations", "U.N."), "U.N": ("United Nations", "UN"), "U.N.": ("United Nations", "UN"),
    "US": ("United States", "U.S.", "America"), "U.S": ("United States", "US"), "U.S.": ("United States", "US"),
    "UK": ("United Kingdom", "Britain", "U.K."), "EU": ("European Union",), "Britain": ("UK", "United Kingdom"),
    "United": ("UN", "US"), "America": ("US", "United States"),
}

_TITLES = frozenset("""president prime minister secretary ambassador foreign deputy chairman chairwoman
    envoy leader mr mrs ms dr gen general sen senator rep representative gov governor king queen
    chancellor premier spokesman spokeswoman judge justice the""".split())


def _name_conflict(name: str, text: str) -> bool:
    """The sentence names someone or somewhere else that shares a word with ``name``
    ("North Korea" for "South Korea", "Ivanka Trump" for "Donald Trump")."""
    parts = name.split()
    if len(parts) < 2:
        return False
    inside = {p.lower() for p in parts}
    ok = found = False
    for p in parts[1:]:
        for m in re.finditer(rf"(?<![\w]){re.escape(p)}(?![\w])", text):
            found = True
            before = re.findall(r"[\w’'-]+", text[max(0, m.start() - 40):m.start()])
            prev = before[-1] if before else ""
            if prev[:1].isupper() and prev.lower() not in inside and prev.lower() not in _TITLES:
                continue
            ok = True
    first = parts[0]
    if re.search(rf"(?<![\w]){re.escape(first)}(?![\w])", text):
        return False
    return found and not ok


def _coverage(groups: list[tuple[frozenset[str], float, str]], have: set[str], text: str = "") -> float:
    total = sum(w for _, w, _ in groups)
    got = sum(w for stems, w, name in groups if stems & have and not (name and text and _name_conflict(name, text)))
    return got / total if total else 0.0


def _mentions(name: str, text: str) -> bool:
    """A name is mentioned when one of its capitalised parts appears as a word."""
    if not name:
        return False
    if name.lower() in {"he", "she", "they"}:
        return True
    parts = [p for p in re.split(r"[\s.]+", name) if len(p) >= 2 and p[0].isupper()]
    if not parts:  # a common-noun subject ("the senior administration official"): its head noun
        parts = name.split()[-1:]
    parts += [a for p in list(parts) for a in ALIASES.get(p, ())]
    return any(re.search(rf"(?<![\w]){re.escape(p)}(?![\w])", text) for p in parts)


def _missing_entity(q: Question, context: str) -> str:
    """A name the question asks about that neither the sentence nor its context mentions."""
    for name in q.entities:
        if not _mentions(name, context):
            return name
    return ""


def _speech_near(name: str, text: str) -> bool:
    """``name`` is the one speaking here: "Ri said", "Ri accused", "said … Joel Wit",
    "according to Ri", "Ri’s statement". A participle after a comma ("Ri Yong Ho, adding")
    belongs to the sentence's main speaker and does not count."""
    toks = re.findall(r"[\w’'.-]+|[,;:]", text)
    parts = {p for p in re.split(r"[\s.]+", name) if len(p) >= 2}
    where = [i for i, t in enumerate(toks) if t.strip(".’'").removesuffix("’s").removesuffix("'s") in parts]
    for i in where:
        for j in range(i + 1, min(len(toks), i + 4)):
            t = toks[j]
            if t in ",;:":
                break
            if t[:1].islower() and speech_verb(t) and not t.endswith("ing"):
                return True
        for j in range(max(0, i - 6), i):
            if toks[j].lower() in ("said", "says", "told", "wrote", "according"):
                return True
        if toks[i].endswith(("’s", "'s")) and i + 1 < len(toks) and speech_verb(toks[i + 1]):
            return True
    return False


def _other_speaker(name: str, text: str) -> bool:
    """Someone other than ``name`` is the one saying things here ("Pompeo said")."""
    for m in re.finditer(r"([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)\s+([a-z]+)", text):
        verb = m.group(2)
        finite = verb.endswith(("ed", "es")) or verb in ("said", "says", "told", "wrote", "stressed", "warns", "urges")
        if finite and speech_verb(verb) and not _mentions(name, m.group(1)):
            return True
    for m in re.finditer(r"\b(said|says|told|wrote)\s+((?:[a-z]+\s+){0,4})([A-Z][\w’'-]+)", text):
        if not _mentions(name, m.group(3)):
            return True
    return False


def _eligible(q: Question, text: str, before: str, header: str) -> str:
    """Empty when the sentence has the form of an answer, else the reason it has not."""
    if q.kind == "how_many" and not _NUMBER.search(text):
        return "no number"
    if q.kind == "when" and not _DATE.search(text):
        return "no date"
    if q.future and not _FUTURE.search(text):
        return "not about the future"
    if q.kind == "who" and not q.authorship:
        asked = {w for e in q.entities for w in e.split()}
        if not any(w not in asked for e in entities(text) for w in e.split()):
            return "names no one new"
    if q.authorship and not (_BYLINE.search(text) or re.search(r"\b(wrote|written|reported|by)\b", text)):
        return "no byline"
    if q.asks_words and q.subject:
        subject = "" if q.subject.lower() in {"he", "she", "they"} else q.subject
        in_text = bool(subject) and _mentions(subject, text)
        if subject and not in_text and not (_mentions(subject, before) or _mentions(subject, header)):
            return f"does not mention {q.subject}"
        says = bool(QUOTE_MARK.search(text)) or any(
            w[:1].islower() and speech_verb(w) for w in re.findall(r"[\w’'-]+", text))
        if not says:
            return "reports no one's words"
        if q.group or not subject:
            return ""
        if in_text and _speech_near(subject, text):
            return ""
        if not in_text and _ANAPHOR.search(text) and not _other_speaker(subject, text):
            return ""
        if not _other_speaker(subject, text) and _speech_near(subject, before) and QUOTE_MARK.search(text):
            return ""
        return f"not {q.subject}'s words"
    return ""


def candidates(corpus: IndexView, q: Question, query: str, passages: list[Passage]) -> list[Scored]:
    """Every sentence of the passages, scored against the question."""
    groups = _term_groups(corpus, q, query)
    # "What did X say about Y?": the sentence must say Y; X may be named just before it.
    sentence_groups = groups
    if q.asks_words and q.subject:
        subject_stems = set(content_terms(q.subject))
        rest = [g for g in groups if not (g[0] & subject_stems)]
        sentence_groups = rest or groups
    seen: dict[tuple[str, int, int], Scored] = {}
    doc_terms: dict[str, set[str]] = {}
    for p in passages:
        doc = corpus.document(p.doc_id)
        if doc is None:
            continue
        header = "\n".join(x for x in (doc.title, doc.publisher, doc.author) if x)
        spans = [(p.start + a, p.start + b) for a, b in sentence_spans(p.text)]
        for a, b in spans:
            key = (p.doc_id, a, b)
            if key in seen:
                continue
            text = doc.text[a:b]
            window = doc.text[max(0, a - 800):a]
            para = window[window.rfind("\n\n") + 2:] if "\n\n" in window else window
            spans_before = sentence_spans(para)
            # The sentence before it, and one more inside the same paragraph (a quote that
            # runs on over several sentences is attributed once).
            before = " ".join(para[x:y] for x, y in spans_before[-2:]) if spans_before else ""
            if not before:
                prev = sentence_spans(window)
                before = window[prev[-1][0]:prev[-1][1]] if prev else ""
            s_terms = set(tokenize(text))
            c_terms = s_terms | set(tokenize(before)) | set(tokenize(header))
            if q.authorship:  # a byline speaks for the whole document
                c_terms |= doc_terms.setdefault(doc.doc_id, set(tokenize(doc.text)))
            s_cov = _coverage(sentence_groups, s_terms, text)
            c_cov = _coverage(groups, c_terms, f"{text}\n{before}\n{header}")
            why = _eligible(q, text, before, header)
            plain = [g for g in sentence_groups if not g[2]]
            if not why and plain and not q.authorship and _coverage(plain, s_terms) < 0.5:
                why = "says little the question asks beyond its names"
            if not why and not q.authorship:
                missing = _missing_entity(q, f"{text}\n{before}\n{header}\n{p.text}")
                why = f"does not mention {missing}" if missing else ""
            if q.authorship and _BYLINE.search(text):
                s_cov = max(s_cov, c_cov)
            score = 0.6 * s_cov + 0.3 * c_cov + 0.1 / p.rank
            if len(words(text)) < 4:
                why = why or "too short"
            seen[key] = Scored(p.doc_id, a, b, text, p, s_cov, c_cov, score,
                                  not why and s_cov >= MIN_SENTENCE_COVERAGE and c_cov >= MIN_CONTEXT_COVERAGE,
                                  why or ("" if s_cov >= MIN_SENTENCE_COVERAGE and c_cov >= MIN_CONTEXT_COVERAGE
                                          else f"covers {s_cov:.2f}/{c_cov:.2f} of the question"))
    return sorted(seen.values(), key=lambda c: -c.score)


def select(cands: list[Scored], max_sentences: int = MAX_SENTENCES) -> list[Scored]:
    """The best eligible sentence, plus close runners-up that add something new."""
    eligible = [c for c in cands if c.eligible]
    if not eligible:
        return []
    best = eligible[0]
    chosen = [best]
    for c in eligible[1:]:
        if len(chosen) >= max_sentences:
            break
        if c.score < 0.9 * best.score or c.sentence_cov < max(MIN_SENTENCE_COVERAGE, 0.9 * best.sentence_cov):
            continue
        if any(redundant(c.text, x.text) or (c.doc_id == x.doc_id and c.start < x.end and x.start < c.end)
               for x in chosen):
            continue
        chosen.append(c)
    return chosen
