"""Features of a candidate sentence for a question, in two stages.

* **Stage 1** (every candidate, no model beyond the index's IDF): IDF-weighted coverage of
  the question's terms by the sentence, by its context (previous sentence + headline) and by
  its passage; the rarest question term the context lacks; phrase (adjacent-term) matches;
  how much the sentence adds beyond the question; the passage's rank and score; where the
  sentence sits in its document.
* **Stage 2** (the stage-1 shortlist): stage 1 plus the MiniLM cosine of question and
  sentence (the index's own embedder), and from the spaCy parse the question type × the
  kinds of new entity the sentence holds (one that the question does not already name), the
  "which X" focus noun, the question's entities found nearby, and for "what did X say"
  whether X is the one speaking (the subject of the sentence's speech verb, or of the
  previous sentence's when the quote runs on).

Nothing here is keyed to particular words of particular questions: which feature matters for
which question type is learned (``ranker.py``; trained by ``bench/train_answer.py``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .candidates import Candidate
from .nlp import ENTITY_GROUPS, QUESTION_TYPES, QuestionParse, SentenceParse, entity_group
from .text import content_terms, tokenize, words

__all__ = ["STAGE1", "STAGE2", "QuestionTerms", "question_terms", "stage1_matrix", "stage2_matrix"]

_GROUPS = tuple(ENTITY_GROUPS)
_QUOTE = re.compile(r"[“”\"]")
_DIGIT = re.compile(r"\d")

STAGE1 = (
    "lex_sentence", "lex_context", "lex_passage", "lex_sentence_rel", "missing_rare", "phrase",
    "novelty", "log_words", "inv_rank", "passage_score", "passage_gap", "position", "lead",
    "first_in_passage", "has_digit", "has_quote", "new_capitals", "same_doc_as_top",
)
STAGE2 = STAGE1 + (
    "cos", "cos_rel", "cos_inv_rank", "lemma_overlap", "q_entities_sentence", "q_entities_context",
    "focus_in_sentence", "new_entities", "asks_words", "asks_x_speaker_here", "asks_x_speaker_before",
    "asks_x_other_speaker", "asks_x_speech", "asks_x_quote",
) + tuple(f"new_{g}" for g in _GROUPS) + tuple(f"q_{t}" for t in QUESTION_TYPES) + tuple(
    f"q_{t}_x_new_{g}" for t in QUESTION_TYPES for g in _GROUPS) + tuple(
    f"q_{t}_x_cos" for t in QUESTION_TYPES)


@dataclass(frozen=True)
class QuestionTerms:
    stems: tuple[str, ...]
    idf: tuple[float, ...]
    pairs: frozenset[tuple[str, str]]  # adjacent content stems of the question
    words: frozenset[str]  # lowercased words of the question


def question_terms(corpus, question: str) -> QuestionTerms:
    stems = tuple(content_terms(question))
    toks = tokenize(question)
    return QuestionTerms(stems, tuple(corpus.idf(t) for t in stems), frozenset(zip(toks, toks[1:])),
                         frozenset(words(question)))


def _cover(q: QuestionTerms, have: set[str]) -> float:
    total = sum(q.idf)
    return sum(w for t, w in zip(q.stems, q.idf) if t in have) / total if total else 0.0


def stage1_matrix(corpus, q: QuestionTerms, cands: list[Candidate]) -> np.ndarray:
    x = np.zeros((len(cands), len(STAGE1)), dtype=np.float64)
    if not cands:
        return x
    top = cands[0].passage
    top_score = max(c.passage.score for c in cands)
    passage_terms: dict[str, set[str]] = {}
    max_idf = max(q.idf) if q.idf else 1.0
    for i, c in enumerate(cands):
        toks = tokenize(c.text)
        s = set(toks)
        ctx = s | set(tokenize(c.before)) | set(tokenize(c.title))
        pt = passage_terms.get(c.passage.chunk_id)
        if pt is None:
            pt = passage_terms[c.passage.chunk_id] = set(tokenize(c.passage.text)) | set(tokenize(c.title))
        missing = [w for t, w in zip(q.stems, q.idf) if t not in ctx and t not in pt]
        pairs = set(zip(toks, toks[1:]))
        ws = words(c.text)
        caps = {w for w in re.findall(r"\b[A-Z][\w’'-]+", c.text[1:])} if len(c.text) > 1 else set()
        x[i] = (
            _cover(q, s), _cover(q, ctx), _cover(q, pt), 0.0,
            max(missing) / max_idf if missing and max_idf else 0.0,
            len(q.pairs & pairs) / len(q.pairs) if q.pairs else 0.0,
            len([t for t in toks if t not in q.stems]) / max(1, len(toks)),
            math.log1p(len(ws)), 1.0 / c.passage.rank, c.passage.score, top_score - c.passage.score,
            c.position, float(c.position < 0.05), float(c.doc_sentence == 0),
            float(bool(_DIGIT.search(c.text))), float(bool(_QUOTE.search(c.text))),
            float(any(w.lower() not in q.words for w in caps)), float(c.doc_id == top.doc_id),
        )
    x[:, 3] = x[:, 0] - x[:, 0].max()
    return x


def _mentions(name: str, text: str) -> bool:
    low = text.lower()
    parts = [p.lower().strip(".’'") for p in re.split(r"\s+", name) if len(p.strip(".’'")) >= 3]
    return bool(parts) and any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low) for p in parts)


def _is_new(entity: str, q: QuestionParse) -> bool:
    qlow = q.text.lower()
    parts = [p for p in re.findall(r"\w+", entity.lower()) if len(p) >= 2]
    return bool(parts) and not all(p in qlow for p in parts)


def stage2_matrix(stage1: np.ndarray, cands: list[Candidate], q: QuestionParse, parses: list[SentenceParse],
                  before_parses: list[SentenceParse], cos: np.ndarray) -> np.ndarray:
    n = len(cands)
    extra = np.zeros((n, len(STAGE2) - len(STAGE1)), dtype=np.float64)
    if not n:
        return np.hstack([stage1, extra])
    cos = np.asarray(cos, dtype=np.float64)
    order = np.argsort(-cos)
    cos_rank = np.empty(n)
    cos_rank[order] = np.arange(1, n + 1)
    qt = q.qtype if q.qtype in QUESTION_TYPES else "other"
    q_ents = [e for e, _ in q.entities]
    for i, (c, sp, bp) in enumerate(zip(cands, parses, before_parses)):
        new = {g: 0.0 for g in _GROUPS}
        n_new = 0
        for text, label in sp.entities:
            g = entity_group(label)
            if g and _is_new(text, q):
                new[g] = 1.0
                n_new += 1
        context = f"{c.text}\n{c.before}\n{c.title}\n{c.passage.text}"
        here = any(_mentions(q.subject, s) for s in sp.speakers) if q.asks_words and q.subject else False
        before = (not sp.speakers and any(_mentions(q.subject, s) for s in bp.speakers)
                  if q.asks_words and q.subject else False)
        other = bool(sp.speakers) and not here if q.asks_words else False
        quote = bool(_QUOTE.search(c.text))
        row = [
            cos[i], cos[i] - cos.max(), 1.0 / cos_rank[i],
            len(q.lemmas & sp.lemmas) / len(q.lemmas) if q.lemmas else 0.0,
            sum(_mentions(e, c.text) for e in q_ents) / len(q_ents) if q_ents else 1.0,
            sum(_mentions(e, context) for e in q_ents) / len(q_ents) if q_ents else 1.0,
            float(bool(q.focus) and q.focus in sp.lemmas), math.log1p(n_new),
            float(q.asks_words), float(here), float(before), float(other),
            float(q.asks_words and sp.has_speech), float(q.asks_words and quote),
        ]
        row += [new[g] for g in _GROUPS]
        row += [float(t == qt) for t in QUESTION_TYPES]
        row += [float(t == qt) * new[g] for t in QUESTION_TYPES for g in _GROUPS]
        row += [float(t == qt) * cos[i] for t in QUESTION_TYPES]
        extra[i] = row
    return np.hstack([stage1, extra])
