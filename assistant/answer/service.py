"""The assistant: condense → retrieve → answer (extractive or generative) → cite → verify.

``Assistant.ask`` returns an ``Answer``; ``Assistant.stream`` yields text as it is produced
and then the final, verified ``Answer`` (whose text may differ from what streamed when
verification dropped a sentence). Abstention is an answer too: ``abstained=True``, a plain
statement that the sources don't say, and the closest passages.
"""

from __future__ import annotations

import collections.abc
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from index_build.core.errors import BriefingError
from index_build.core.settings import Settings

from ..models import Answer, Filters, Passage
from ..nlp import QuestionParse, parse_sentences
from ..nlp.question import analyze
from .candidates import sentence_before
from .cite import cite, cited_first, ground_generated
from .compose import Selection, names_a_subject, select_answer, someone_elses_words
from .converse import Condensed, condense
from .corpus import Corpus
from .extractive import candidates, select
from .generate import NOT_IN_SOURCES, SYSTEM_PROMPT, Generator, build_prompt, make_generator
from .retrieve import Retrieval, retrieve
from .view import IndexView

__all__ = ["Assistant", "ABSTAIN_TEXT"]

ABSTAIN_TEXT = "The sources don't say. None of the indexed passages answers this; the closest ones are listed below."
ABSTAIN_NONE_TEXT = "The sources don't say. No indexed passage comes close to this question."
# When abstaining, a passage is listed only if one of its sentences reached this share of the
# answer threshold: the user sees the near misses, not five random passages.
RELATED_SHARE = 1 / 3
CANDIDATE_PASSAGES = 8


# Evaluation only: passages it accepts are dropped before the answer step (a withheld answer).
Withhold = Callable[[Passage], bool]

class Assistant:
    def __init__(self, settings: Settings, corpus: Corpus | None = None, generator: Generator | None = None):
        self.settings = settings
        self.corpus = corpus or Corpus(settings)
        self._generator = generator
        self._lock = threading.Lock()

    # -- public -------------------------------------------------------------------------
    def ask(self, question: str, history: list[str] | None = None, filters: Filters = Filters(),
            top_k: int | None = None, llm: str | None = None, withhold: Withhold | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, top_k, llm, withhold):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[str] | None = None, filters: Filters = Filters(),
               top_k: int | None = None, llm: str | None = None, withhold: Withhold | None = None
               ) -> Iterator[str | Answer]:
        """Yield text deltas, then the final ``Answer``.

        ``withhold`` (evaluation only): a predicate on passages; those it accepts are dropped
        from the retrieved ones, as if their documents were not indexed.

        The whole question runs on one snapshot of the index (``Corpus.snapshot``), so a
        rebuild that finishes meanwhile cannot mix two generations into one answer."""
        t0 = time.perf_counter()
        question = (question or "").strip()
        top_k = max(1, top_k or self.settings.top_k)
        generator = self.generator_for(llm)
        condensed = self._condense(question, history or [], generator)
        corpus = _snapshot(self.corpus)
        retrieval = _retrieve(corpus, condensed.query, filters, max(top_k, CANDIDATE_PASSAGES), withhold)
        t1 = time.perf_counter()
        passages = retrieval.passages
        if generator is None:
            answer = self._extractive(corpus, question, condensed, passages, top_k)
            if answer.abstained and corpus is not self.corpus and self._newer_generation(corpus):
                # A rebuild changed the documents under this snapshot mid-question: once more
                # on the new generation rather than abstain because of the timing.
                corpus = _snapshot(self.corpus)
                retrieval = _retrieve(corpus, condensed.query, filters, max(top_k, CANDIDATE_PASSAGES), withhold)
                passages = retrieval.passages
                answer = self._extractive(corpus, question, condensed, passages, top_k)
            if not answer.abstained:
                for piece in re.findall(r"\S+\s*", answer.text):
                    yield piece
        else:
            answer = yield from self._generative(corpus, generator, question, condensed, passages[:top_k], top_k)
        t2 = time.perf_counter()
        answer.timings_ms = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000,
                             "total": (t2 - t0) * 1000, **{f"retrieve_{k}": v for k, v in retrieval.timings_ms.items()}}
        answer.standalone_query = condensed.query
        if answer.abstained:
            yield answer.text
        yield answer

    def refresh(self) -> bool:
        return self.corpus.refresh()

    def _newer_generation(self, corpus: IndexView) -> bool:
        try:
            self.corpus.refresh()
        except BriefingError:
            return False
        return _snapshot(self.corpus) is not corpus

    # -- parts --------------------------------------------------------------------------
    def generator_for(self, llm: str | None) -> Generator | None:
        """The language model ``llm`` names (None: the configured one; "extractive": none),
        loaded once and kept; answers and memos use the same."""
        if llm == "extractive":
            return None
        spec = llm or self.settings.llm
        if not spec or spec == "extractive":
            return self._generator
        with self._lock:
            if self._generator is None or self._generator.name != spec:
                self._generator = make_generator(spec, self.settings.llm_model)
            return self._generator

    def _condense(self, question: str, history: list[str], generator: Generator | None) -> Condensed:
        rule = condense(question, history)
        if generator is None or rule.query == question:
            return rule
        prompt = ("Earlier questions:\n" + "\n".join(f"- {h}" for h in history[-4:]) +
                  f"\n\nFollow-up: {question}\n\nRewrite the follow-up as one standalone question. "
                  "Reply with the question only.")
        rewritten = generator.complete("You rewrite follow-up questions.", prompt).strip().splitlines()
        text = rewritten[0].strip() if rewritten else ""
        return Condensed(text, f"{text} {rule.query}") if text else rule

    def _abstain(self, question: str, passages: list[Passage], top_k: int, dropped: list[str] | None = None
                 ) -> Answer:
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, citations=[],
                      passages=passages[:top_k], dropped=list(dropped or []))

    def _extractive(self, corpus: IndexView, question: str, condensed: Condensed, passages: list[Passage],
                    top_k: int) -> Answer:
        if self.settings.answerer in ("learned", "combined"):
            answer, sel = self._learned(corpus, question, condensed, passages, top_k)
            if not answer.abstained or self.settings.answerer == "learned":
                return answer
            # "combined": where the learned selector abstains, the hand-written one may still
            # answer, but not with a sentence the learned one weighed and found far from the
            # question, nor with someone else's words.
            fallback = self._rules(corpus, question, condensed, passages, top_k)
            if (fallback.abstained or _implausible(sel, fallback)
                    or _others_words(corpus, sel.question, fallback)):
                return answer
            return fallback
        return self._rules(corpus, question, condensed, passages, top_k)

    def _rules(self, corpus: IndexView, question: str, condensed: Condensed, passages: list[Passage],
               top_k: int) -> Answer:
        """The hand-written selector (``extractive.py``; ``answerer = "rules"``)."""
        q = analyze(condensed.question)
        chosen = select(candidates(corpus, q, condensed.question, passages[:CANDIDATE_PASSAGES]))
        if not chosen:
            return self._abstain(question, passages, top_k)
        citations, text = cite(corpus, chosen)
        if not citations:
            return self._abstain(question, passages, top_k)
        return Answer(question=question, text=text, abstained=False, citations=citations,
                      passages=cited_first(passages, citations)[:top_k])

    def _learned(self, corpus: IndexView, question: str, condensed: Condensed, passages: list[Passage],
                 top_k: int) -> tuple[Answer, Selection]:
        """The learned, calibrated selector (``answer.py``; ``answerer = "learned"``): its
        answer and the selection it came from."""
        sel = select_answer(corpus, condensed.question, passages[:CANDIDATE_PASSAGES])
        if sel.abstained:
            return self._abstain_related(question, passages, top_k, sel), sel
        citations, text = cite(corpus, [s.candidate for s in sel.chosen], sel.speaker)
        if not citations:
            return self._abstain_related(question, passages, top_k, sel), sel
        return Answer(question=question, text=text, abstained=False, citations=citations,
                      passages=cited_first(passages, citations)[:top_k], short_answer=sel.short_answer,
                      confidence=sel.best), sel

    def _abstain_related(self, question: str, passages: list[Passage], top_k: int, sel: Selection) -> Answer:
        floor = _related_floor(sel)
        near = {s.candidate.passage.chunk_id for s in sel.ranked if s.probability >= floor}
        kept = [p for p in passages if p.chunk_id in near]
        answer = self._abstain(question, kept, top_k)
        answer.considered = passages[:top_k]
        answer.confidence = sel.best
        if not kept:
            answer.text = ABSTAIN_NONE_TEXT
        return answer

    def _generative(self, corpus: IndexView, generator: Generator, question: str, condensed: Condensed,
                    passages: list[Passage], top_k: int) -> collections.abc.Generator[str, None, Answer]:
        if not passages:
            return self._abstain(question, passages, top_k)
        raw = []
        for delta in generator.stream(SYSTEM_PROMPT, build_prompt(condensed.question, passages)):
            raw.append(delta)
            yield delta
        text = "".join(raw).strip()
        if not text or NOT_IN_SOURCES in text.upper():
            return self._abstain(question, passages, top_k)
        return self._verify_generated(corpus, question, text, passages, top_k)

    def _verify_generated(self, corpus: IndexView, question: str, text: str, passages: list[Passage],
                          top_k: int) -> Answer:
        grounded = ground_generated(corpus, text, passages)
        if not grounded.text:
            return self._abstain(question, passages, top_k, grounded.dropped)
        return Answer(question=question, text=grounded.text, abstained=False, citations=grounded.citations,
                      passages=cited_first(passages, grounded.citations)[:top_k], dropped=grounded.dropped)


def _related_floor(sel: Selection) -> float:
    """The probability a sentence needs to count as close to the question: what an abstention
    lists, and what the hand-written fallback may cite."""
    return sel.threshold * RELATED_SHARE


def _implausible(sel: Selection, answer: Answer) -> bool:
    """Whether the answer cites a sentence that the learned selector scored below its
    relevance floor (the floor that decides which passages an abstention lists as close):
    the hand-written selector then answers with what the calibrated one found far from the
    question. A sentence it never scored (outside its shortlist: a byline) is not judged."""
    floor = _related_floor(sel)
    scored = {(s.candidate.doc_id, s.candidate.start, s.candidate.end): s.probability for s in sel.ranked}
    return any(scored.get((c.doc_id, c.start, c.end), 1.0) < floor for c in answer.citations)


def _others_words(corpus: IndexView, q: QuestionParse, answer: Answer) -> bool:
    """For "what did X say", whether every sentence the answer cites is the words of someone
    else that the source names: the same check the learned selector applies to its candidates
    (``answer.someone_elses_words``), applied to the hand-written selector's answer."""
    if not names_a_subject(q) or not answer.citations:
        return False
    befores = []
    for c in answer.citations:
        doc = corpus.document(c.doc_id)
        befores.append(sentence_before(doc.text, c.start) if doc is not None else "")
    parses = parse_sentences([c.quote for c in answer.citations] + befores)
    n = len(answer.citations)
    return all(someone_elses_words(q, c.quote, parses[i], parses[n + i]) for i, c in enumerate(answer.citations))


def _retrieve(corpus: IndexView, query: str, filters: Filters, k: int, withhold: Withhold | None) -> Retrieval:
    if withhold is None:
        return retrieve(corpus, query, filters, k=k)
    got = retrieve(corpus, query, filters, k=k + 16)
    kept = [p for p in got.passages if not withhold(p)][:k]
    got.passages = [replace(p, rank=i) for i, p in enumerate(kept, start=1)]
    return got


def _snapshot(corpus: IndexView) -> IndexView:
    """One generation of the index for one question (a corpus without snapshots: itself)."""
    take = getattr(corpus, "snapshot", None)
    return take() if take is not None else corpus
