"""The promise on the seeds, with the real default embedder: every gold question answered
from the right passage with valid citations, and the unanswerable ones abstained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_briefing

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    base = tmp_path_factory.mktemp("real")
    result = run_briefing("--index-dir", base / "index", "index", Path(__file__).parents[2] / "sources", "--json")
    assert result.returncode == 0, result.stderr
    return base / "index"


@pytest.fixture(scope="module")
def assistant(real_index):
    from assistant.answer.service import Assistant
    from index_build.core.settings import load_settings

    return Assistant(load_settings(environ={}, index_dir=real_index))


@pytest.mark.parametrize("gold", ["seed-dev.jsonl", "seed-extra.jsonl"])
def test_seed_gold_meets_the_targets(assistant, gold):
    from assistant.evaluate import evaluate, load_gold

    metrics, rows = evaluate(assistant, load_gold(DATA / gold))
    failed = [r for r in rows if r["abstained"] == r["answerable"]]
    assert metrics["hit@5"] == 1.0, rows
    assert metrics["key_fact_recall"] >= 0.95, rows
    assert metrics["citation_validity"] == 1.0
    assert metrics["abstain_unanswerable"] == 1.0, failed
    assert metrics["abstain_answerable"] == 0.0, failed


@pytest.fixture(scope="module")
def learned(real_index):
    from assistant.answer.service import Assistant
    from index_build.core.settings import load_settings

    return Assistant(load_settings(environ={}, index_dir=real_index, answerer="learned"))


def test_questions_the_sources_are_far_from_list_no_passages(learned):
    answer = learned.ask("What is the capital of France?")
    assert answer.abstained and answer.passages == [], [p.text[:80] for p in answer.passages]
    assert "No indexed passage" in answer.text


def test_a_factoid_answer_marks_its_short_answer(learned):
    answer = learned.ask("Who is the State Department spokesman?")
    assert not answer.abstained and "Higgins" in answer.short_answer, answer.as_json()
    assert answer.short_answer in answer.citations[0].quote


HELD_OUT = ("seed-fresh.jsonl", "seed-fresh2.jsonl", "seed-fresh3.jsonl", "seed-fresh4.jsonl", "seed-fresh5.jsonl")


def test_the_default_selector_on_questions_it_was_not_tuned_on(assistant):
    """Held-out seed questions in new wordings (never trained on; 69 answerable, 24 not): the
    default (``combined``) never answers an unanswerable one and answers more than half.
    A floor a regression would break, measured over all five files together (one file of
    10–17 questions moves by a question at a time); far below the issue-13 target
    (key_fact_recall 0.95) that it does not reach yet. seed-fresh6 and later files are kept
    out of the tests: they measure, nothing is checked or tuned against them."""
    from assistant.evaluate import evaluate, load_gold

    assert assistant.settings.answerer == "combined"
    items = [item for name in HELD_OUT for item in load_gold(DATA / name)]
    metrics, rows = evaluate(assistant, items)
    assert metrics["citation_validity"] == 1.0
    assert metrics["abstain_unanswerable"] == 1.0, [r for r in rows if not r["answerable"] and not r["abstained"]]
    assert metrics["key_fact_recall"] >= 0.55, rows


def test_combined_falls_back_to_the_rules_only_where_the_learned_selector_abstains(real_index, monkeypatch):
    import dataclasses

    import assistant.answer.compose as answer_module
    from assistant.answer.rank import load_ranker
    from assistant.answer.service import Assistant
    from index_build.core.settings import load_settings

    def make(answerer):
        return Assistant(load_settings(environ={}, index_dir=real_index, answerer=answerer))

    question = "What did Ri Yong Ho demand?"
    rules, combined = make("rules").ask(question), make("combined").ask(question)
    learned = make("learned").ask(question)
    assert not learned.abstained and combined.text == learned.text  # the learned answer when there is one
    strict = dataclasses.replace(load_ranker(), answer_threshold=1.01, small_thresholds=None)  # always abstains
    monkeypatch.setattr(answer_module, "load_ranker", lambda: strict)
    assert make("learned").ask(question).abstained
    fallback = make("combined").ask(question)
    assert not rules.abstained and fallback.text == rules.text
    assert make("combined").ask("Who won the 2018 World Cup?").abstained


def test_the_learned_selector_on_the_seeds_answers_and_abstains(learned):
    """The learned selector (opt-in) on the seed files, as measured when it was trained:
    floors a regression would break, below the targets it does not reach yet (issue 13)."""
    from assistant.evaluate import evaluate, load_gold

    metrics, rows = evaluate(learned, load_gold(DATA / "seed-dev.jsonl") + load_gold(DATA / "seed-fresh.jsonl"))
    assert metrics["citation_validity"] == 1.0
    assert metrics["hit@5"] >= 0.9, rows
    assert metrics["key_fact_recall"] >= 0.45, rows
    assert metrics["abstain_unanswerable"] >= 0.8, rows


def test_ask_json_from_the_command_line(real_index):
    result = run_briefing("--index-dir", real_index, "ask", "What did Ri Yong Ho demand?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "simultaneous actions" in data["answer"] and not data["abstained"]
    assert data["citations"][0]["quote"] in data["answer"] or "simultaneous actions" in data["citations"][0]["quote"]
    assert data["citations"][0]["source"] == "001_b7735911f66044ef.txt"


def test_ask_with_history_file_and_filters(real_index, tmp_path):
    history = tmp_path / "history.json"
    history.write_text(json.dumps(["What did Ri Yong Ho demand?"]))
    result = run_briefing("--index-dir", real_index, "ask", "What did he say about impatience?",
                          "--history", history, "--source", "001_b7735911f66044ef.txt", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "Impatience is not helpful" in data["answer"]
    assert {p["source"] for p in data["passages"]} == {"001_b7735911f66044ef.txt"}


def test_ask_prints_citations_for_people(real_index):
    result = run_briefing("--index-dir", real_index, "ask", "Who did Joseph Yun meet in Moscow?")
    assert result.returncode == 0, result.stderr
    assert "Morgulov" in result.stdout and "[1] " in result.stdout and "000_8724b5602e0331c2.txt" in result.stdout


def test_eval_command_prints_json_metrics(real_index):
    result = run_briefing("eval", DATA / "seed-dev.jsonl", "--index-dir", real_index, "--json", env=cli_env())
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["hit@5"] == 1.0 and metrics["abstain_unanswerable"] == 1.0


def test_bad_history_file_is_one_clear_line(real_index, tmp_path):
    history = tmp_path / "h.json"
    history.write_text("{not json")
    result = run_briefing("--index-dir", real_index, "ask", "x", "--history", history)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
