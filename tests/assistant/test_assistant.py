"""The assistant on the seeds, with the fake embedder: retrieval, filters, extractive
answers with exact citations, abstention, follow-ups."""

from __future__ import annotations

import pytest

from tests.assistant_fixtures import build_seed_index

DATED = """---
title: Seoul hosts envoys for the northern ports talks
publisher: Harbour Daily
date: 2019-03-04
---
Envoys met in Seoul on Monday to discuss the northern ports. The talks ended with an agreement to reopen the harbour at Wonsan within six weeks, officials said.
"""


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant.answer.corpus import Corpus
    from assistant.answer.service import Assistant
    from tests.fakes import FakeEmbedder

    settings = build_seed_index(tmp_path_factory.mktemp("seeds"), {"ports.md": DATED})
    return Assistant(settings, corpus=Corpus(settings, embedder=FakeEmbedder()))


def test_hybrid_retrieval_puts_the_demand_passage_first(assistant):
    from assistant.answer.retrieve import retrieve

    passages = retrieve(assistant.corpus, "What did Ri Yong Ho demand?", k=5).passages
    assert any("simultaneous actions" in p.text for p in passages[:2])
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert all(p.text == assistant.corpus.document(p.doc_id).text[p.start:p.end] for p in passages)


def test_source_filter_keeps_only_that_file(assistant):
    from assistant.answer.retrieve import retrieve
    from assistant.models import Filters

    passages = retrieve(assistant.corpus, "sanctions on North Korea", Filters(sources=("000_8724b5602e0331c2.txt",)), k=8).passages
    assert passages and {p.source for p in passages} == {"000_8724b5602e0331c2.txt"}


def test_publisher_and_date_filters(assistant):
    from assistant.answer.retrieve import retrieve
    from assistant.models import Filters

    by_pub = retrieve(assistant.corpus, "talks harbour", Filters(publishers=("harbour daily",)), k=5).passages
    assert by_pub and {p.publisher for p in by_pub} == {"Harbour Daily"}
    dated = retrieve(assistant.corpus, "sanctions talks", Filters(since="2019-01-01", until="2019-12-31"), k=5).passages
    assert dated and {p.source for p in dated} == {"ports.md"}
    old = retrieve(assistant.corpus, "sanctions", Filters(until="2018"), k=5).passages
    assert old and all(p.published and p.published <= "2018" for p in old)  # seed 000 is dated 2017
    # Seed 000 is dated by its year only: a range inside 2017 still holds it.
    mid = retrieve(assistant.corpus, "Yun trip to Moscow", Filters(since="2017-06-01", until="2017-12-31"), k=5).passages
    assert mid and {p.source for p in mid} == {"000_8724b5602e0331c2.txt"}
    assert not retrieve(assistant.corpus, "Yun trip to Moscow", Filters(since="2018-01-01", until="2018-12-31"), k=5).passages


@pytest.mark.parametrize("filters", [
    {"sources": ("000_8724b5602e0331c2.txt",)}, {"publishers": ("harbour daily",)},
    {"since": "2017-01-01"}, {"until": "2018"}, {"since": "2019-01-01", "until": "2019-12-31"},
    {"since": "2031-01-01"}, {"since": "2017-06-01", "until": "2017-12-31"}, {"since": "2019-03"},
])
def test_the_three_ways_of_filtering_dense_search_agree(assistant, monkeypatch, filters):
    """A broad filter is applied to a wider unfiltered Chroma query; a narrow one is searched
    exactly over the kept chunks' embeddings; Chroma's ``where`` clause is the fallback. All
    three must pick the same passages with the same scores."""
    import assistant.answer.retrieve as retrieve_module
    from assistant.models import Filters

    seen = []
    real_query = type(assistant.corpus.vectors).query

    def spy(self, vector, n, where=None):
        seen.append(where)
        return real_query(self, vector, n, where)

    monkeypatch.setattr(type(assistant.corpus.vectors), "query", spy)
    runs = {}
    for mode, share, exact in (("post", 0.0, False), ("exact", 1.01, True), ("where", 1.01, False)):
        monkeypatch.setattr(retrieve_module, "POST_FILTER_SHARE", share)
        monkeypatch.setattr(retrieve_module, "EXACT_FILTERED", exact)
        seen.clear()
        got = retrieve_module.retrieve(assistant.corpus, "sanctions talks harbour Moscow", Filters(**filters), k=8)
        runs[mode] = [(p.chunk_id, round(p.score, 5)) for p in got.passages]
        matches = assistant.corpus.mask(Filters(**filters)).any()
        expected = {"post": [None] if matches else [], "exact": [],
                    "where": [assistant.corpus.where(Filters(**filters))]}[mode]
        if mode == "post" and not matches:  # nothing kept: falls through to the other ways
            continue
        assert seen == expected, (mode, seen)
    assert runs["exact"] == runs["where"]
    assert runs["post"] == runs["where"]
    assert bool(runs["where"]) == ("2031" not in str(filters))


def test_extractive_answer_cites_the_exact_sentence(assistant):
    answer = assistant.ask("What did Ri Yong Ho demand?")
    assert not answer.abstained
    assert "simultaneous actions" in answer.text and "[1]" in answer.text
    first = answer.citations[0]
    doc = assistant.corpus.document(first.doc_id)
    assert doc.text[first.start:first.end] == first.quote
    assert "simultaneous actions" in first.quote
    # narrowed to the sentence, not the whole chunk
    assert len(first.quote) < 400 and first.quote.count(". ") <= 2
    assert first.title and first.source == "001_b7735911f66044ef.txt"


def test_every_citation_marker_has_a_citation(assistant):
    import re

    answer = assistant.ask("Why did Nikki Haley criticize Russia?")
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}


def test_unanswerable_question_abstains_with_closest_passages(assistant):
    answer = assistant.ask("What did Kim Jong Un say in his letter to Trump?")
    assert answer.abstained
    assert answer.citations == []
    assert "don't say" in answer.text
    assert answer.passages, "the closest passages are shown instead"


@pytest.mark.parametrize("question", [
    "What is the capital of Malaysia?",
    "How many troops does the United States have in South Korea?",
    "What did Xi Jinping say about North Korea?",
])
def test_questions_the_sources_cannot_answer_abstain(assistant, question):
    assert assistant.ask(question).abstained


def test_follow_up_resolves_the_pronoun(assistant):
    # The hand-written selector answers here: with the fake embedder the learned one's scores
    # mean nothing (and the default path lets them veto the fallback); the same follow-up is
    # answered by the default path with the real model in tests/assistant/test_seed_quality.py (seed-extra x08).

    from assistant.answer.service import Assistant

    rules = Assistant(assistant.settings.replace(answerer="rules"), corpus=assistant.corpus)
    answer = rules.ask("What did he say about impatience?", history=["What did Ri Yong Ho demand?"])
    assert not answer.abstained
    assert "Impatience is not helpful" in answer.text
    assert "Ri Yong Ho" in answer.standalone_query


def test_follow_up_carries_the_earlier_turn(assistant):
    answer = assistant.ask("What did the Russian side stress at that meeting?",
                           history=["Who did Joseph Yun meet in Moscow?"])
    assert "political and diplomatic means" in answer.text


def test_answer_json_has_the_documented_shape(assistant):
    data = assistant.ask("How many new work permits were reportedly issued to North Koreans this year?").as_json()
    assert set(data) == {"question", "answer", "abstained", "short_answer", "confidence", "citations", "passages",
                         "timings_ms"}
    # the learned selector answers this one, so the confidence is its calibrated probability
    assert 0.0 < data["confidence"] <= 1.0
    assert "700" in data["answer"]
    assert set(data["citations"][0]) == {"n", "doc_id", "source", "title", "start", "end", "quote"}
    assert set(data["passages"][0]) == {"rank", "chunk_id", "doc_id", "source", "title", "start", "end", "score"}
    assert {"retrieve", "answer", "total"} <= set(data["timings_ms"])


def test_query_embedder_must_match_the_index(tmp_path):
    """If the recorded profile now loads another model, asking refuses instead of
    embedding the question into the wrong space."""
    from assistant.answer.corpus import Corpus
    from index_build.core.errors import IndexMismatchError
    from index_build.store.docstore import DocStore

    settings = build_seed_index(tmp_path)
    record = DocStore(settings.db_path)
    record.set_meta(profile="tests.fakes:OtherFakeEmbedder")
    record.close()
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Corpus(settings)


def test_the_index_embedder_is_used_for_questions(tmp_path):
    from assistant.answer.corpus import Corpus

    settings = build_seed_index(tmp_path)
    corpus = Corpus(settings)  # no embedder given: loaded from the profile the index records
    assert corpus.embedder.name == "fake:hash-64"
