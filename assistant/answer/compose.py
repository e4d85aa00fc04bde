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
from typing import Any

import numpy as np

from index_build.core.text import QUOTE_MARK, redundant
from index_build.embed import Embedder
from index_build.onnx_minilm import TokenStates

from ..models import Passage
from ..nlp import QuestionParse, SentenceParse, entity_group, parse_question, parse_sentences
from .candidates import Candidate, candidate_sentences
from .features import QuestionTerms, pool_matrix, question_terms, soft_matrix, speaks_for, stage1_matrix, stage2_matrix
from .rank import Ranker, corpus_size, load_ranker
from .view import IndexView

__all__ = ["Scored", "Selection", "select_answer", "shortlist", "stage2_features", "choose", "MAX_SENTENCES",
           "names_a_subject", "someone_elses_words"]

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
    threshold: float = 0.0  # the answer threshold this index's size calls for
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return not self.chosen


def shortlist(corpus: IndexView, qterms: QuestionTerms, passages: list[Passage], ranker: Ranker, size: int | None = None
              ) -> tuple[list[Candidate], np.ndarray, list[Candidate]]:
    """The stage-1 shortlist (best first), its stage-1 feature rows, and every candidate."""
    cands = candidate_sentences(corpus, passages)
    x1 = stage1_matrix(corpus, qterms, cands)
    if not cands:
        return [], x1, []
    scores = ranker.stage1.logit(x1)
    order = sorted(range(len(cands)), key=lambda i: (-scores[i], i))[: size or ranker.shortlist]
    return [cands[i] for i in order], x1[order], cands


_TOKENS: list[Any] = []  # the MiniLM embedder whose token states serve indexes built with another embedder


def _minilm_states(texts: list[str]) -> list[TokenStates] | None:
    """Token states from MiniLM (ONNX Runtime) for an index whose embedder has none (the
    static profile): the token-level features are the ones the model was trained on. None
    when MiniLM cannot run here (the features then match words exactly)."""
    try:
        if not _TOKENS:
            from index_build.embed import MiniLMEmbedder

            _TOKENS.append(MiniLMEmbedder())
        states: list[TokenStates] = _TOKENS[0].embed_tokens(texts)[1]
        return states
    except Exception:  # no model package, no ONNX Runtime: exact word matches instead
        return None


def _embed_with_tokens(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, list[TokenStates] | None]:
    """(vectors with the index's embedder, token states or None). An embedder that gives token
    states (MiniLM) is asked once: when it has none for this call (its PyTorch route), the
    features match words exactly rather than run MiniLM a second time. Only an embedder with
    no token states at all (the static profile) borrows them from MiniLM."""
    if getattr(embedder, "gives_tokens", False):
        vectors, states = embedder.embed_tokens(texts)  # type: ignore[attr-defined]  # MiniLM's extra method
        return vectors, states
    return embedder.embed(texts), _minilm_states(texts)


def stage2_features(corpus: IndexView, q: QuestionParse, question: str, cands: list[Candidate], x1: np.ndarray,
                    pool: list[Candidate] | None = None, qterms: QuestionTerms | None = None
                    ) -> tuple[np.ndarray, list[SentenceParse], list[SentenceParse]]:
    """Stage-2 rows for ``cands``: the question–sentence cosine and token-level match with the
    index's embedder, the parses, and features of the whole candidate ``pool`` (default: ``cands``)."""
    if not cands:
        return stage2_matrix(x1, [], q, [], [], np.zeros(0)), [], []
    # The embedding (ONNX Runtime, which releases the GIL) runs on a worker thread while spaCy
    # parses here: on news sentences each takes ~50–90 ms, and on 2 cores they overlap.
    texts = [question] + [c.text for c in cands]
    pending = _OVERLAP.submit(_embed_with_tokens, corpus.embedder, texts)
    # The previous sentence's parse only matters for "what did X say" (whose words these are).
    parses = parse_sentences([c.text for c in cands] + ([c.before for c in cands] if q.asks_words else []))
    vectors, states = pending.result()
    vectors = np.asarray(vectors, dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cos = vectors[1:] @ vectors[0]
    now = parses[:len(cands)]
    before = parses[len(cands):] if q.asks_words else [_EMPTY] * len(cands)
    soft = soft_matrix(corpus, question, texts[1:], states[0] if states else None, states[1:] if states else None)
    pooled = pool_matrix(corpus, q, qterms or question_terms(corpus, question), pool or cands, cands, now)
    return stage2_matrix(x1, cands, q, now, before, cos, pooled, soft), now, before


def choose(cands: list[Candidate], probs: np.ndarray, answer_threshold: float, second_threshold: float,
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
    """What answers a factoid question in the sentence: the noun phrase that stands where the
    question's wh-word does (the subject of "invite" for "Who had invited Yun?"), else the new
    entity of the kind that answers this question type most often."""
    qlow = q.text.lower()

    def named_by_question(text: str) -> bool:
        parts = re.findall(r"\w+", text.lower())
        return not parts or all(w in qlow for w in parts)

    verb, role = q.gap
    if verb and q.qtype in ("who", "which", "what"):
        for v, r, phrase in s.parse.roles:
            if v == verb and r == role and not named_by_question(phrase) and phrase in s.candidate.text \
                    and phrase.split()[-1].lower() not in _PRONOUNS:
                return phrase
    prior = ranker.short_answer_prior.get(q.qtype, {})
    best, best_p = "", ranker.short_answer_min
    for text, label in s.parse.entities:
        p = prior.get(entity_group(label), 0.0)
        if named_by_question(text):
            continue  # the question already names it
        if p > best_p and text in s.candidate.text:
            best, best_p = text, p
    return best


def _speaker(s: Scored) -> str:
    """Who is quoted in ``s`` when the sentence itself names no speaker: the speaker of the
    sentence before it (the quote runs on)."""
    if s.parse.speakers or not QUOTE_MARK.search(s.candidate.text):
        return ""
    before = s.before if s.before is not _EMPTY else parse_sentences([s.candidate.before])[0]
    for name in before.speakers:
        if name.lower() not in _PRONOUNS and name[:1].isupper():
            return name
    return ""


def names_a_subject(q: QuestionParse) -> bool:
    """Whether the question asks for the words of someone it names ("What did Kim Jong Un
    say?", "What did South Korea's foreign minister tell Pompeo?"): only then can a sentence be
    known to be someone else's words. "The senior official" names no one, and "he" may be
    anyone; those are left to the model."""
    return bool(q.asks_words and q.subject) and any(w[:1].isupper() for w in q.subject.split())


def someone_elses_words(q: QuestionParse, text: str, sp: SentenceParse, bp: SentenceParse) -> bool:
    """Whether the sentence ``text`` (parse ``sp``; ``bp`` the parse of its ``Candidate.before``)
    is the words of someone named other than the question's subject: every speaker it names is
    another person, or, for a quote that names none, every speaker its attribution names."""
    speakers = sp.speakers or (bp.speakers if QUOTE_MARK.search(text) else ())
    named = [s for s in speakers if s and s.split()[-1].lower() not in _PRONOUNS and s[:1].isupper()]
    return bool(named) and len(named) == len(speakers) and not any(speaks_for(q.subject, s) for s in named)


def _attributed(q: QuestionParse, cands: list[Candidate], parses: list[SentenceParse],
                befores: list[SentenceParse], probs: np.ndarray) -> np.ndarray:
    """For "what did X say / tell / demand" with X a name, a sentence that is someone else's
    words (``someone_elses_words``) cannot answer (probability 0), like an invalid citation."""
    if not names_a_subject(q):
        return probs
    out = np.array(probs, dtype=np.float64, copy=True)
    for i, (c, sp, bp) in enumerate(zip(cands, parses, befores)):
        if someone_elses_words(q, c.text, sp, bp):
            out[i] = 0.0
    return out


def select_answer(corpus: IndexView, question: str, passages: list[Passage], ranker: Ranker | None = None,
                  max_sentences: int = MAX_SENTENCES) -> Selection:
    ranker = ranker or load_ranker()
    t0 = time.perf_counter()
    q = parse_question(question)
    qterms = question_terms(corpus, question)
    cands, x1, pool = shortlist(corpus, qterms, passages, ranker)
    t1 = time.perf_counter()
    x2, parses, befores = stage2_features(corpus, q, question, cands, x1, pool, qterms)
    t2 = time.perf_counter()
    probs = ranker.stage2.proba(x2)
    allowed = _attributed(q, cands, parses, befores, probs)
    scored = [Scored(c, float(p), sp, bp) for c, p, sp, bp in zip(cands, probs, parses, befores)]
    ranked = sorted(scored, key=lambda s: -s.probability)
    best = float(allowed.max()) if len(allowed) else 0.0
    t_answer, t_second = ranker.thresholds(corpus_size(corpus))
    chosen = [scored[i] for i in choose(cands, allowed, t_answer, t_second, max_sentences)]
    short = _short_answer(q, chosen[0], ranker) if chosen else ""
    speaker = _speaker(chosen[0]) if chosen else ""
    t3 = time.perf_counter()
    return Selection(q, tuple(ranked), tuple(chosen), best, short, speaker, t_answer,
                     {"candidates": (t1 - t0) * 1000, "features": (t2 - t1) * 1000, "decide": (t3 - t2) * 1000})
