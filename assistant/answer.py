"""The extractive answer step: candidates → rank → decide → short answer and speaker.

    candidate_sentences (candidates.py) → stage-1 features and score (features.py, ranker.py)
    → shortlist → MiniLM cosine + spaCy parse → stage-2 probability → answer or abstain

Every sentence of an answer is a verbatim sentence of a source (it cannot say what the
source does not); which sentences, and whether to answer at all, is decided by the learned
and calibrated ``Ranker`` — no eligibility rules.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .candidates import Candidate, candidate_sentences
from .features import question_terms, stage1_matrix, stage2_matrix
from .models import Passage
from .nlp import QuestionParse, SentenceParse, entity_group, parse_question, parse_sentences
from .ranker import Ranker, load_ranker
from .text import redundant

__all__ = ["Scored", "Selection", "select_answer", "shortlist", "stage2_features", "choose", "MAX_SENTENCES"]

MAX_SENTENCES = 2
_OVERLAP = ThreadPoolExecutor(max_workers=2, thread_name_prefix="briefing-embed")
_PRONOUNS = frozenset("he she they it we i you this that".split())
_EMPTY = SentenceParse((), (), False, frozenset())


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    probability: float
    parse: SentenceParse
    before: SentenceParse


@dataclass(frozen=True)
class Selection:
    question: QuestionParse
    ranked: tuple[Scored, ...]  # the shortlist, most probable first
    chosen: tuple[Scored, ...]  # the answer's sentences; empty = abstain
    best: float  # the best probability (0 without candidates)
    short_answer: str = ""
    speaker: str = ""  # who speaks in the first chosen sentence when it does not say so itself
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return not self.chosen


def shortlist(corpus, question: str, passages: list[Passage], ranker: Ranker, size: int | None = None
              ) -> tuple[list[Candidate], np.ndarray]:
    """The stage-1 shortlist (best first) and its stage-1 feature rows."""
    cands = candidate_sentences(corpus, passages)
    x1 = stage1_matrix(corpus, question_terms(corpus, question), cands)
    if not cands:
        return [], x1
    scores = ranker.stage1.logit(x1)
    order = sorted(range(len(cands)), key=lambda i: (-scores[i], i))[: size or ranker.shortlist]
    return [cands[i] for i in order], x1[order]


def stage2_features(corpus, q: QuestionParse, question: str, cands: list[Candidate], x1: np.ndarray
                    ) -> tuple[np.ndarray, list[SentenceParse], list[SentenceParse]]:
    """Stage-2 rows for ``cands``: the question–sentence cosine with the index's embedder and the parses."""
    if not cands:
        return stage2_matrix(x1, [], q, [], [], np.zeros(0)), [], []
    # The embedding (ONNX Runtime, which releases the GIL) runs on a worker thread while spaCy
    # parses here: on news sentences each takes ~50–90 ms, and on 2 cores they overlap.
    pending = _OVERLAP.submit(corpus.embedder.embed, [question] + [c.text for c in cands])
    # The previous sentence's parse only matters for "what did X say" (whose words these are).
    parses = parse_sentences([c.text for c in cands] + ([c.before for c in cands] if q.asks_words else []))
    vectors = np.asarray(pending.result(), dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cos = vectors[1:] @ vectors[0]
    now = parses[:len(cands)]
    before = parses[len(cands):] if q.asks_words else [_EMPTY] * len(cands)
    return stage2_matrix(x1, cands, q, now, before, cos), now, before


def choose(cands: list[Candidate], probs, answer_threshold: float, second_threshold: float,
           max_sentences: int = MAX_SENTENCES) -> list[int]:
    """Indices of the answer's sentences, most probable first: the best one when it reaches
    ``answer_threshold`` (else none: abstain), then runners-up that reach ``second_threshold``
    and neither repeat nor overlap a chosen one."""
    order = sorted(range(len(cands)), key=lambda i: -probs[i])
    if not order or probs[order[0]] < answer_threshold:
        return []
    chosen = [order[0]]
    for i in order[1:]:
        if len(chosen) >= max_sentences or probs[i] < second_threshold:
            break
        c = cands[i]
        if any(redundant(c.text, cands[j].text) or (c.doc_id == cands[j].doc_id and c.start < cands[j].end
                                                    and cands[j].start < c.end) for j in chosen):
            continue
        chosen.append(i)
    return chosen


def _short_answer(q: QuestionParse, s: Scored, ranker: Ranker) -> str:
    prior = ranker.short_answer_prior.get(q.qtype, {})
    qlow = q.text.lower()
    best, best_p = "", ranker.short_answer_min
    for text, label in s.parse.entities:
        p = prior.get(entity_group(label), 0.0)
        parts = re.findall(r"\w+", text.lower())
        if parts and all(w in qlow for w in parts):
            continue  # the question already names it
        if p > best_p and text in s.candidate.text:
            best, best_p = text, p
    return best


def _speaker(s: Scored) -> str:
    """Who is quoted in ``s`` when the sentence itself names no speaker: the speaker of the
    sentence before it (the quote runs on)."""
    if s.parse.speakers or not re.search(r"[“”\"]", s.candidate.text):
        return ""
    before = s.before if s.before is not _EMPTY else parse_sentences([s.candidate.before])[0]
    for name in before.speakers:
        if name.lower() not in _PRONOUNS and name[:1].isupper():
            return name
    return ""


def select_answer(corpus, question: str, passages: list[Passage], ranker: Ranker | None = None,
                  max_sentences: int = MAX_SENTENCES) -> Selection:
    ranker = ranker or load_ranker()
    t0 = time.perf_counter()
    q = parse_question(question)
    cands, x1 = shortlist(corpus, question, passages, ranker)
    t1 = time.perf_counter()
    x2, parses, befores = stage2_features(corpus, q, question, cands, x1)
    t2 = time.perf_counter()
    probs = ranker.stage2.proba(x2)
    scored = [Scored(c, float(p), sp, bp) for c, p, sp, bp in zip(cands, probs, parses, befores)]
    ranked = sorted(scored, key=lambda s: -s.probability)
    best = ranked[0].probability if ranked else 0.0
    chosen = [scored[i] for i in choose(cands, probs, ranker.answer_threshold, ranker.second_threshold, max_sentences)]
    short = _short_answer(q, chosen[0], ranker) if chosen else ""
    speaker = _speaker(chosen[0]) if chosen else ""
    t3 = time.perf_counter()
    return Selection(q, tuple(ranked), tuple(chosen), best, short, speaker,
                     {"candidates": (t1 - t0) * 1000, "features": (t2 - t1) * 1000, "decide": (t3 - t2) * 1000})
