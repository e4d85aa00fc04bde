"""``briefing eval``: retrieval, answer, citation and abstention metrics on a gold file.

Two formats, told apart per line:

* seed format — ``id, question, history, answerable, evidence, key_facts``: a passage is
  relevant when it contains an evidence string after the same cleaning as the index;
* rtqa format — ``id, question, answer, evidence_doc``: a passage is relevant when it
  comes from ``evidence_doc`` or contains the answer text (answers of 4+ characters).
"""

from __future__ import annotations

import json
import random
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index_build.core.errors import BriefingError
from index_build.decode import repair_text

from .answer.service import Assistant
from .models import Answer, Filters

__all__ = ["GoldItem", "load_gold", "evaluate", "METRICS", "format_table", "answer_in", "withheld_ids",
           "answer_elsewhere"]

METRICS = ("hit@1", "hit@5", "hit@10", "mrr@10", "key_fact_recall", "answer_match", "answer_ceiling",
           "answer_match_in_ceiling", "answer_match_outside_ceiling", "short_answer_match", "abstain_withheld",
           "citation_validity",
           "citation_support", "abstain_unanswerable", "abstain_answerable", "p50_ms", "p95_ms")


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    history: tuple[str, ...]
    answerable: bool
    evidence: tuple[str, ...]  # cleaned evidence strings (seed format)
    key_facts: tuple[tuple[str, ...], ...]
    answer: str  # rtqa format
    evidence_doc: str  # rtqa format: record id of the evidence document


def load_gold(path: Path) -> list[GoldItem]:
    items: list[GoldItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BriefingError(f"{path}: cannot read the gold file ({e.strerror or e})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            items.append(GoldItem(
                id=str(d.get("id", n)), question=d["question"], history=tuple(d.get("history") or ()),
                answerable=bool(d.get("answerable", True)),
                # Seed format: a list of evidence strings. The rtqa format's "evidence" is the
                # passage as one string; its relevance rule is evidence_doc + answer text.
                evidence=tuple(repair_text(e) for e in _evidence_list(d.get("evidence"))),
                key_facts=tuple(tuple(g) for g in d.get("key_facts") or ()),
                answer=str(d.get("answer") or ""), evidence_doc=str(d.get("evidence_doc") or ""),
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BriefingError(f"{path}: line {n} is not a gold question ({type(e).__name__}: {e})") from None
    if not items:
        raise BriefingError(f"{path}: no questions in the file")
    return items


def _evidence_list(value: object) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return []
    return [str(e) for e in value if str(e)]


def _relevant(item: GoldItem, text: str, record_id: str | None) -> bool:
    if item.evidence and any(e in text for e in item.evidence):
        return True
    if item.evidence_doc and record_id == item.evidence_doc:
        return True
    return len(item.answer) >= 4 and item.answer.lower() in text.lower()


def _has_facts(item: GoldItem, answer_text: str) -> bool:
    low = answer_text.lower()
    return all(any(alt.lower() in low for alt in group) for group in item.key_facts)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# Typographic variants of one character: "Denny’s" is "Denny's"; “Squid Game” is "Squid Game".
_FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def fold(text: str) -> str:
    """``text`` lowercased with typographic quotes, dashes and spaces folded to plain ones."""
    return re.sub(r"\s+", " ", text.translate(_FOLD)).lower()


def _answer_text(answer: str) -> str:
    return fold(answer).strip().strip("\"'").strip()  # a title's quotation marks are not the answer


def answer_in(answer: str, text: str) -> bool:
    """The gold answer's text is in ``text`` (case and typography aside; a whole word when
    it is under 4 characters)."""
    a, t = _answer_text(answer), fold(text)
    if len(a) >= 4:
        return a in t
    return bool(a) and re.search(rf"(?<!\w){re.escape(a)}(?!\w)", t) is not None


def answer_elsewhere(texts: list[str], records: list[str | None], wanted: dict[str, tuple[str, str]]) -> set[str]:
    """Which of ``wanted`` (id → (answer text, evidence record id)) have their answer text in
    a passage (``texts``, each of the record ``records[i]``) of another record than their
    evidence: withholding the evidence would not make those unanswerable, so they are not
    asked withheld (issue 13: "drop questions whose answer text still occurs in the index")."""
    import bisect

    starts, parts, at = [], [], 0
    for t in texts:
        starts.append(at)
        parts.append(fold(t))
        at += len(parts[-1]) + 1  # (folding may change the length: "İ" → "i̇", runs of spaces)
    blob = "\x00".join(parts)
    out: set[str] = set()
    for qid, (answer, evidence) in wanted.items():
        a = _answer_text(answer)
        if not a:
            continue
        pattern = re.compile(re.escape(a) if len(a) >= 4 else rf"(?<!\w){re.escape(a)}(?!\w)")
        for m in pattern.finditer(blob):
            if records[bisect.bisect_right(starts, m.start()) - 1] != evidence:
                out.add(qid)
                break
    return out


def withheld_ids(items: list[GoldItem], share: float, seed: int = 7) -> set[str]:
    """The rtqa questions (a random ``share``) asked again with their evidence withheld."""
    ids = sorted(i.id for i in items if i.evidence_doc and i.answerable)
    return set(random.Random(seed).sample(ids, int(len(ids) * share)))


@dataclass
class _Tally:
    """What ``evaluate`` counts, question by question."""

    hits: dict[int, list[bool]] = field(default_factory=lambda: {1: [], 5: [], 10: []})
    rr: list[float] = field(default_factory=list)
    facts: list[bool] = field(default_factory=list)
    matches: list[bool] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)
    support: list[bool] = field(default_factory=list)
    abst_un: list[bool] = field(default_factory=list)
    abst_ans: list[bool] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    in_ceiling: list[bool] = field(default_factory=list)
    match_in: list[bool] = field(default_factory=list)
    match_out: list[bool] = field(default_factory=list)
    short: list[bool] = field(default_factory=list)
    abst_withheld: list[bool] = field(default_factory=list)

    def answerable(self, item: GoldItem, answer: Answer, first: int | None, retrieved: list[Any]) -> None:
        for k in self.hits:
            self.hits[k].append(first is not None and first <= k)
        self.rr.append(1.0 / first if first and first <= 10 else 0.0)
        self.abst_ans.append(answer.abstained)
        if item.key_facts:
            self.facts.append(_has_facts(item, answer.text))
        if item.answer:
            ok = answer_in(item.answer, answer.text)
            self.matches.append(ok)
            ceiling = any(answer_in(item.answer, p.text) for p in retrieved[:5]) or any(
                answer_in(item.answer, c.quote) for c in answer.citations)
            self.in_ceiling.append(ceiling)
            (self.match_in if ceiling else self.match_out).append(ok)
            if not answer.abstained:
                self.short.append(bool(answer.short_answer) and (
                    answer_in(item.answer, answer.short_answer) or answer_in(answer.short_answer, item.answer)))

    def citations(self, corpus: Any, item: GoldItem, answer: Answer, record_ids: dict[str, str | None]) -> None:
        for c in answer.citations:
            doc = corpus.document(c.doc_id)
            ok = doc is not None and doc.text[c.start:c.end] == c.quote
            self.valid.append(ok)
            in_relevant = _relevant(item, c.quote, record_ids.get(c.doc_id))
            if not in_relevant and doc is not None:
                # The quote sits inside a relevant passage of the same document.
                in_relevant = any(p.doc_id == c.doc_id and p.start <= c.start and c.end <= p.end
                                  and _relevant(item, p.text, record_ids.get(p.doc_id)) for p in answer.passages)
            quote = c.quote.lower()
            has_fact = bool(item.key_facts) and any(any(a.lower() in quote for a in g) for g in item.key_facts)
            self.support.append(in_relevant or has_fact)

    def metrics(self) -> dict[str, float | None]:
        def mean(xs: list[bool] | list[float]) -> float | None:
            return round(sum(xs) / len(xs), 4) if xs else None

        times = self.times
        return {
            "hit@1": mean(self.hits[1]), "hit@5": mean(self.hits[5]), "hit@10": mean(self.hits[10]),
            "mrr@10": mean(self.rr), "key_fact_recall": mean(self.facts), "answer_match": mean(self.matches),
            "answer_ceiling": mean(self.in_ceiling), "answer_match_in_ceiling": mean(self.match_in),
            "answer_match_outside_ceiling": mean(self.match_out), "short_answer_match": mean(self.short),
            "abstain_withheld": mean(self.abst_withheld), "citation_validity": mean(self.valid),
            "citation_support": mean(self.support), "abstain_unanswerable": mean(self.abst_un),
            "abstain_answerable": mean(self.abst_ans),
            "p50_ms": round(statistics.median(times), 1) if times else None, "p95_ms": round(_pct(times, 0.95), 1),
        }


def evaluate(assistant: Assistant, items: list[GoldItem], progress: Callable[[int, int], None] | None = None,
             record_ids: dict[str, str | None] | None = None, withhold: float = 0.0
             ) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
    """Ask every question; return the metrics and one row per question.

    ``withhold``: for this share of the rtqa questions, also ask with the evidence document's
    passages dropped from the retrieved ones (``abstain_withheld``: how many of those were
    abstained on); questions whose answer text another document also holds are not asked so
    (``answer_elsewhere``)."""
    corpus = assistant.corpus
    if record_ids is None:
        record_ids = {}
        if any(i.evidence_doc for i in items):
            from index_build.store.docstore import DocStore

            with DocStore(corpus.settings.db_path, readonly=True) as rec:
                record_ids = rec.record_ids()
    ids = record_ids
    tally = _Tally()
    rows: list[dict[str, Any]] = []
    withheld = withheld_ids(items, withhold) if withhold else set()
    if withheld:
        withheld -= answer_elsewhere(corpus.texts, [ids.get(d) for d in corpus.doc_ids],
                                     {i.id: (i.answer, i.evidence_doc) for i in items if i.id in withheld})
    for n, item in enumerate(items, start=1):
        answer: Answer = assistant.ask(item.question, list(item.history), Filters(), top_k=10)
        tally.times.append(answer.timings_ms.get("total", 0.0))
        retrieved = answer.considered or answer.passages  # an abstention may list only the near misses
        ranks = [p.rank for p in retrieved if _relevant(item, p.text, ids.get(p.doc_id))]
        first = min(ranks) if ranks else None
        if item.answerable:
            tally.answerable(item, answer, first, retrieved)
            if item.id in withheld:
                def drop(p: Any, item: GoldItem = item) -> bool:
                    return ids.get(p.doc_id) == item.evidence_doc or answer_in(item.answer, p.text)

                w = assistant.ask(item.question, list(item.history), Filters(), top_k=10, withhold=drop)
                tally.abst_withheld.append(w.abstained)
        else:
            tally.abst_un.append(answer.abstained)
        tally.citations(corpus, item, answer, ids)
        rows.append({"id": item.id, "question": item.question, "answerable": item.answerable,
                     "abstained": answer.abstained, "first_relevant_rank": first, "answer": answer.text,
                     "ms": round(tally.times[-1], 1)})
        if progress:
            progress(n, len(items))
    return tally.metrics(), rows


def format_table(metrics: dict[str, float | None], n: int) -> str:
    width = max(len(k) for k in metrics)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -----"]
    for k in METRICS:
        v = metrics.get(k)
        lines.append(f"{k:<{width}}  {'n/a' if v is None else v}")
    lines.append(f"({n} questions)")
    return "\n".join(lines)
