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
  Also soft coverage from the embedder's token states (BERTScore-style: each question word's
  best-matching token of the sentence, IDF-weighted; exact word matches where no token states
  are available), and features of the whole candidate pool: how much of the question the
  retrieved passages cover at all, and how many other documents repeat a sentence's new entity.

Nothing here is keyed to particular words of particular questions: which feature matters for
which question type is learned (``ranker.py``; trained by ``bench/train_answer.py``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index_build.core.text import QUOTE_MARK, STOPWORDS, content_terms, stem, tokenize, words
from index_build.onnx_minilm import TokenStates

from ..nlp import ENTITY_GROUPS, QUESTION_TYPES, QuestionParse, SentenceParse, entity_group
from .candidates import Candidate
from .view import IndexView

__all__ = ["STAGE1", "STAGE2", "QuestionTerms", "question_terms", "stage1_matrix", "stage2_matrix", "soft_matrix",
           "pool_matrix", "speaks_for"]

_GROUPS = tuple(ENTITY_GROUPS)
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
    f"q_{t}_x_cos" for t in QUESTION_TYPES) + (
    "u_cover", "u_missing_rare", "ent_support", "ent_supported",
    "ms_recall", "ms_min", "ms_low2", "ms_precision", "ms_recall_rel")
_POOL = 4
_SOFT = 5


@dataclass(frozen=True)
class QuestionTerms:
    stems: tuple[str, ...]
    idf: tuple[float, ...]
    pairs: frozenset[tuple[str, str]]  # adjacent content stems of the question
    words: frozenset[str]  # lowercased words of the question


def question_terms(corpus: IndexView, question: str) -> QuestionTerms:
    stems = tuple(content_terms(question))
    toks = tokenize(question)
    return QuestionTerms(stems, tuple(corpus.idf(t) for t in stems), frozenset(zip(toks, toks[1:])),
                         frozenset(words(question)))


def _cover(q: QuestionTerms, have: set[str]) -> float:
    total = sum(q.idf)
    return sum(w for t, w in zip(q.stems, q.idf) if t in have) / total if total else 0.0


def stage1_matrix(corpus: IndexView, q: QuestionTerms, cands: list[Candidate]) -> np.ndarray:
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
            float(bool(_DIGIT.search(c.text))), float(bool(QUOTE_MARK.search(c.text))),
            float(any(w.lower() not in q.words for w in caps)), float(c.doc_id == top.doc_id),
        )
    x[:, 3] = x[:, 0] - x[:, 0].max()
    return x


def _mentions(name: str, text: str) -> bool:
    low = text.lower()
    # Words of 3+ letters, and capitalised 2-letter ones: the names Ri, Xi, Wu (not "of", "to").
    parts = [p.lower().strip(".’'") for p in re.split(r"\s+", name)
             if len(p.strip(".’'")) >= 3 or (len(p.strip(".’'")) == 2 and p[:1].isupper() and p[1:2].islower())]
    return bool(parts) and any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low) for p in parts)


def speaks_for(subject: str, speaker: str) -> bool:
    """Whether ``speaker`` (a sentence's speaker) is the question's ``subject`` ("What did X
    say"), matched by the subject's names: "South Korea's foreign minister" is not "North
    Korean Foreign Minister Ri" just because both are foreign ministers."""
    names = _names(subject)
    return _mentions(names, speaker) or _same_name_forms(names, speaker)


def _same_name_forms(name: str, text: str) -> bool:
    """A name word of 4+ letters and a word of ``text`` that differ only by an adjective
    ending: "Russian" and "Russia", "Korean" and "Korea", "Japanese" and "Japan", "Ukrainian"
    and "Ukraine" (a country's adjective names the same speaker: "the Russian foreign
    ministry" is "The Russia foreign ministry"; "Hale" is not "Haley")."""
    parts = [p.lower().strip(".’'") for p in re.split(r"\s+", name)]
    parts = [p for p in parts if len(p) >= 4 and p.isalpha()]
    if not parts:
        return False
    ws = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4}

    def same(a: str, b: str) -> bool:  # b = a + an adjective ending
        return b.startswith(a) and b[len(a):] in _DEMONYM_ENDINGS or (a.endswith("e") and same(a[:-1], b))

    return any(same(p, w) or same(w, p) for p in parts for w in ws)


# English endings that make a country's adjective: Russia-n, Korea-n, Japan-ese, Israel-i,
# Ukrain(e)-ian (a final "e" may drop; irregular ones such as Britain-British are not matched).
_DEMONYM_ENDINGS = frozenset({"n", "an", "ian", "ese", "i", "ish"})


def _names(subject: str) -> str:
    """The part of a question's subject that names someone: its capitalised words when it has
    any ("South Korea's foreign minister" → "South Korea's": the role words "foreign minister"
    fit any foreign minister), else the whole subject ("the senior official")."""
    caps = [w for w in re.split(r"\s+", subject) if w[:1].isupper()]
    return " ".join(caps) if caps else subject


def _is_new(entity: str, q: QuestionParse) -> bool:
    qlow = q.text.lower()
    parts = [p for p in re.findall(r"\w+", entity.lower()) if len(p) >= 2]
    return bool(parts) and not all(p in qlow for p in parts)


def _content_tokens(words_: tuple[str, ...]) -> list[int]:
    keep = [j for j, w in enumerate(words_) if w and re.search(r"\w", w) and w.lower() not in STOPWORDS]
    return keep or list(range(len(words_)))


def soft_matrix(corpus: IndexView, question: str, sentences: list[str], q_state: TokenStates | None = None,
                states: list[TokenStates] | None = None) -> np.ndarray:
    """Per sentence: soft recall of the question's words (IDF-weighted mean over its content
    tokens of the best cosine with a token of the sentence), the worst-matched token, the mean
    of the two worst, soft precision (how much of the sentence matches the question), and the
    recall relative to the best sentence's. ``q_state`` / ``states``: the embedder's
    ``TokenStates``; without them, a token matches when its word's stem is the same (the
    degenerate case: one-hot token vectors)."""
    n = len(sentences)
    x = np.zeros((n, _SOFT), dtype=np.float64)
    if not n:
        return x
    if q_state is not None and states is not None:
        qw = q_state.words
        keep = _content_tokens(qw)
        qv = q_state.vectors[keep]
        sims = [qv @ st.vectors.T if len(st.vectors) else np.zeros((len(keep), 1)) for st in states]
    else:
        qw = tuple(words(question))
        keep = _content_tokens(qw)
        qstems = [stem(qw[j].lower()) for j in keep]
        sims = []
        for text in sentences:
            toks = [stem(w.lower()) for w in words(text)] or [""]
            sims.append(np.array([[float(a == b) for b in toks] for a in qstems]).reshape(len(keep), len(toks)))
    if not keep:
        return x
    wts = np.array([corpus.idf(stem(qw[j].lower())) for j in keep], dtype=np.float64)
    wts = wts / max(wts.sum(), 1e-9)
    for i, sim in enumerate(sims):
        m = sim.max(axis=1)
        x[i, :4] = (float(m @ wts), float(m.min()), float(np.sort(m)[:2].mean()), float(sim.max(axis=0).mean()))
    x[:, 4] = x[:, 0] - x[:, 0].max()
    return x


def pool_matrix(corpus: IndexView, q: QuestionParse, qterms: QuestionTerms, pool: list[Candidate],
                cands: list[Candidate], parses: list[SentenceParse]) -> np.ndarray:
    """Per sentence of ``cands``, features of the whole candidate ``pool`` (every sentence of the
    retrieved passages): the question's IDF mass its words cover, the rarest question term none
    of it holds, and how many other documents of it repeat one of the sentence's new entities.
    (Not how many documents it spans: that learns the size of the corpus, and one added
    document would then change unrelated answers.)"""
    union: set[str] = set()
    for c in pool:
        union |= set(tokenize(c.text)) | set(tokenize(c.title))
    total = sum(qterms.idf) or 1.0
    cover = sum(w for t, w in zip(qterms.stems, qterms.idf) if t in union) / total
    top = max(qterms.idf) if qterms.idf else 1.0
    missing = [w for t, w in zip(qterms.stems, qterms.idf) if t not in union]
    lows = [(c.doc_id, c.text.lower()) for c in pool]
    x = np.zeros((len(cands), _POOL), dtype=np.float64)
    for i, (c, sp) in enumerate(zip(cands, parses)):
        support = 0
        for text, label in sp.entities:
            if entity_group(label) and _is_new(text, q):
                low = text.lower()
                support = max(support, len({d for d, t in lows if d != c.doc_id and low in t}))
        x[i] = (cover, max(missing) / top if missing else 0.0, math.log1p(support), float(support > 0))
    return x


def stage2_matrix(stage1: np.ndarray, cands: list[Candidate], q: QuestionParse, parses: list[SentenceParse],
                  before_parses: list[SentenceParse], cos: np.ndarray, pool: np.ndarray | None = None,
                  soft: np.ndarray | None = None) -> np.ndarray:
    """Stage-2 rows: ``stage1`` plus the cosine and parse features, then ``pool``
    (``pool_matrix``) and ``soft`` (``soft_matrix``) columns."""
    n = len(cands)
    extra = np.zeros((n, len(STAGE2) - len(STAGE1) - _POOL - _SOFT), dtype=np.float64)
    pool = np.zeros((n, _POOL)) if pool is None else pool
    soft = np.zeros((n, _SOFT)) if soft is None else soft
    if not n:
        return np.hstack([stage1, extra, pool.reshape(0, _POOL), soft.reshape(0, _SOFT)])
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
        here = any(speaks_for(q.subject, s) for s in sp.speakers) if q.asks_words and q.subject else False
        before = (not sp.speakers and any(speaks_for(q.subject, s) for s in bp.speakers)
                  if q.asks_words and q.subject else False)
        other = bool(sp.speakers) and not here if q.asks_words else False
        quote = bool(QUOTE_MARK.search(c.text))
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
    return np.hstack([stage1, extra, pool, soft])
