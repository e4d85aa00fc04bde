"""`briefing eval` metrics, checked against scores computed by hand on a tiny gold file."""

from __future__ import annotations

import json

import pytest

from assistant.evaluate import METRICS, evaluate, load_gold
from assistant.models import Answer, Citation, Passage

DOCS = {
    "d1": "noise words here. alpha beta gamma stated plainly. more noise.",
    "d2": "delta here and eps there.",
}


def _p(rank, doc, start, end):
    return Passage(rank, f"c{rank}{doc}", doc, f"{doc}.txt", doc.upper(), "", None, start, end,
                   DOCS[doc][start:end], 1.0 / rank)


def _cite(n, doc, start, end, quote=None):
    return Citation(n, f"x{n}", doc, f"{doc}.txt", doc.upper(), start, end, quote or DOCS[doc][start:end])


class _Doc:
    def __init__(self, text):
        self.text = text


class _Corpus:
    def document(self, doc_id):
        return _Doc(DOCS[doc_id]) if doc_id in DOCS else None


class ScriptedAssistant:
    """Returns prepared answers by question; evaluation logic is what is under test."""

    def __init__(self, answers):
        self.answers = answers
        self.corpus = _Corpus()

    def ask(self, question, history, filters, top_k):
        return self.answers[question]


@pytest.fixture
def gold(tmp_path):
    rows = [
        {"id": "q1", "question": "Q1", "history": [], "answerable": True, "evidence": ["alpha beta"], "key_facts": [["gamma"]]},
        {"id": "q2", "question": "Q2", "history": [], "answerable": True, "evidence": ["delta"], "key_facts": [["eps"], ["zeta", "eta"]]},
        {"id": "q3", "question": "Q3", "history": [], "answerable": True, "evidence": ["theta"], "key_facts": [["iota"]]},
        {"id": "q4", "question": "Q4", "history": [], "answerable": False, "evidence": [], "key_facts": []},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_metrics_match_the_hand_computed_scores(gold):
    answers = {
        # q1: relevant passage at rank 2; answer has the fact; valid citation with the fact.
        "Q1": Answer("Q1", "alpha beta gamma [1]", False, [_cite(1, "d1", 18, 48)],
                     [_p(1, "d2", 0, 10), _p(2, "d1", 18, 48)], {"total": 10.0}),
        # q2: relevant at rank 1; only one of two fact groups; citation quote does not match its span.
        "Q2": Answer("Q2", "eps only [1]", False, [_cite(1, "d2", 0, 10, quote="delta here, really")],
                     [_p(1, "d2", 0, 10)], {"total": 20.0}),
        # q3: nothing relevant retrieved; abstained although answerable.
        "Q3": Answer("Q3", "The sources don't say.", True, [], [_p(1, "d2", 0, 10)], {"total": 30.0}),
        # q4: unanswerable and abstained.
        "Q4": Answer("Q4", "The sources don't say.", True, [], [_p(1, "d1", 0, 17)], {"total": 40.0}),
    }
    metrics, rows = evaluate(ScriptedAssistant(answers), load_gold(gold), record_ids={})
    assert set(metrics) == set(METRICS)
    assert metrics["hit@1"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["hit@5"] == pytest.approx(2 / 3, abs=1e-3)
    assert metrics["hit@10"] == pytest.approx(2 / 3, abs=1e-3)
    assert metrics["mrr@10"] == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-3)
    assert metrics["key_fact_recall"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["citation_validity"] == pytest.approx(0.5)
    assert metrics["citation_support"] == pytest.approx(1.0)
    assert metrics["abstain_unanswerable"] == pytest.approx(1.0)
    assert metrics["abstain_answerable"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["answer_match"] is None  # seed format has no answer text
    assert metrics["p50_ms"] == pytest.approx(25.0)  # median of 10, 20, 30, 40
    assert [r["first_relevant_rank"] for r in rows] == [2, 1, None, None]


def test_rtqa_format_uses_the_evidence_doc_and_answer_text(tmp_path):
    path = tmp_path / "rtqa.jsonl"
    path.write_text(json.dumps({"id": "20200101_1", "question": "Which word?", "choices": ["gamma", "x"],
                                "answer": "gamma", "evidence_doc": "e-0001", "evidence": "..."}) + "\n"
                    + json.dumps({"id": "20200101_2", "question": "Which other?", "choices": ["nope", "x"],
                                  "answer": "nope", "evidence_doc": "e-0002", "evidence": "..."}) + "\n")
    answers = {
        # evidence doc is d2 (record e-0001) at rank 2; rank 1 contains the answer text → hit@1
        "Which word?": Answer("Which word?", "it was gamma [1]", False, [_cite(1, "d1", 18, 48)],
                              [_p(1, "d1", 18, 48), _p(2, "d2", 0, 10)], {"total": 5.0}),
        # evidence doc d1 (record e-0002) at rank 3, answer text nowhere
        "Which other?": Answer("Which other?", "no idea", True, [],
                               [_p(1, "d2", 0, 10), _p(2, "d2", 0, 10), _p(3, "d1", 0, 17)], {"total": 7.0}),
    }
    metrics, _ = evaluate(ScriptedAssistant(answers), load_gold(path), record_ids={"d1": "e-0002", "d2": "e-0001"})
    assert metrics["hit@1"] == pytest.approx(0.5)
    assert metrics["hit@5"] == pytest.approx(1.0)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3) / 2, abs=1e-3)
    assert metrics["answer_match"] == pytest.approx(0.5)


def test_a_broken_gold_file_is_a_clear_error(tmp_path):
    from index_build.core.errors import BriefingError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n')
    with pytest.raises(BriefingError, match="line 1"):
        load_gold(path)


def test_a_question_whose_answer_another_document_holds_is_not_asked_withheld():
    from assistant.evaluate import answer_elsewhere

    texts = ["Ecuador declared an internal armed conflict.", "Quito is the capital of Ecuador.",
             "Emma sold for a record sum.", "The Fed held rates. Rate cuts may come."]
    records = ["e-1", "a-1", "e-2", "a-2"]
    wanted = {"q1": ("Ecuador", "e-1"), "q2": ("Emma", "e-2"), "q3": ("rate", "e-3"), "q4": ("cut", "e-4")}
    # q1: an article also says Ecuador; q2: only its evidence does; q3: "rate" is in an article
    # (4+ letters: any occurrence); q4: "cut" only as part of "cuts" (short answers: whole words only).
    assert answer_elsewhere(texts, records, wanted) == {"q1", "q3"}


def test_answer_text_matches_whatever_the_typography():
    """“Denny’s” in an article is the gold answer "Denny's"; a title's quotation marks are not
    part of the answer; a short answer is still a whole word."""
    from assistant.evaluate import answer_elsewhere, answer_in

    assert answer_in("Denny's", "Denny’s has joined a growing number of restaurants")
    assert answer_in("“Squid Game”", 'the hit show "Squid Game" is coming back')
    assert answer_in("Martha’s Vineyard", "the food scene on Martha's   Vineyard")
    assert answer_in("UK", "the UK government") and not answer_in("UK", "a Ukrainian drone")
    assert not answer_in("Denny's", "Danny's diner")
    assert answer_elsewhere(["Denny’s added a surcharge", "Denny's again"], ["a", "b"],
                            {"q": ("Denny's", "a")}) == {"q"}
