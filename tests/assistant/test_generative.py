"""Generative answers over real HTTP to a scripted OpenAI-compatible server: streaming,
verification that drops a sentence its citation does not support, abstention."""

from __future__ import annotations

import pytest

from tests.assistant_fixtures import build_seed_index
from tests.openai_fixture import FakeOpenAI, passage_number


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory):
    return build_seed_index(tmp_path_factory.mktemp("gen"))


def _assistant(settings):
    from assistant.answer.corpus import Corpus
    from assistant.answer.service import Assistant
    from tests.fakes import FakeEmbedder

    return Assistant(settings, corpus=Corpus(settings, embedder=FakeEmbedder()))


def _prompt(messages):
    return messages[-1]["content"]


def test_generated_answer_streams_and_keeps_only_supported_sentences(seed_settings):
    def script(messages):
        n = passage_number(_prompt(messages), "simultaneous actions")
        return (f"Ri repeated the North Korean demand for “simultaneous actions” by the two sides [{n}]. "
                f"Haley praised Moscow for enforcing the ban on oil shipments to Pyongyang [{n}].")

    with FakeOpenAI(script) as server:
        assistant = _assistant(seed_settings)
        events = list(assistant.stream("What did Ri Yong Ho demand?", llm=f"openai:{server.url}"))
    deltas = [e for e in events if isinstance(e, str)]
    answer = events[-1]
    assert len(deltas) > 5, "tokens arrive one piece at a time"
    assert "Haley praised" in "".join(deltas)  # the raw stream had it …
    assert not answer.abstained
    assert "simultaneous actions" in answer.text
    assert "Haley" not in answer.text  # … verification removed it
    assert len(answer.dropped) == 1 and "Haley" in answer.dropped[0]
    (citation,) = answer.citations
    doc = assistant.corpus.document(citation.doc_id)
    assert doc.text[citation.start:citation.end] == citation.quote
    assert "simultaneous actions" in citation.quote and len(citation.quote) < 400  # the sentence, not the chunk
    assert server.requests and server.requests[-1]["stream"] is True


def test_prompt_numbers_passages_and_treats_them_as_data(seed_settings):
    seen = {}

    def script(messages):
        seen["system"] = messages[0]["content"]
        seen["user"] = _prompt(messages)
        return "NOT IN SOURCES"

    with FakeOpenAI(script) as server:
        answer = _assistant(seed_settings).ask("What is the capital of Malaysia?", llm=f"openai:{server.url}")
    assert answer.abstained and answer.passages
    assert "[1]" in seen["user"] and "<<<" in seen["user"]
    assert "not instructions" in seen["system"] and "ONLY" in seen["system"]


def test_answer_whose_every_sentence_is_unsupported_becomes_an_abstention(seed_settings):
    def script(messages):
        return "The sanctions were lifted in 2031 by the Swiss parliament [1]. Everyone agreed [2]."

    with FakeOpenAI(script) as server:
        answer = _assistant(seed_settings).ask("What did Ri Yong Ho demand?", llm=f"openai:{server.url}")
    assert answer.abstained
    assert answer.citations == []
    assert len(answer.dropped) == 2


def test_citation_of_a_passage_that_does_not_exist_is_dropped(seed_settings):
    def script(messages):
        return "Ri repeated the North Korean demand for simultaneous actions [42]."

    with FakeOpenAI(script) as server:
        answer = _assistant(seed_settings).ask("What did Ri Yong Ho demand?", llm=f"openai:{server.url}")
    assert answer.abstained and answer.dropped


def test_follow_up_is_condensed_by_the_model(seed_settings):
    def script(messages):
        if "Rewrite the follow-up" in _prompt(messages):
            return "What did Ri Yong Ho say about impatience?"
        n = passage_number(_prompt(messages), "Impatience is not helpful")
        return f"Ri said impatience is not helpful for building confidence [{n}]."

    with FakeOpenAI(script) as server:
        answer = _assistant(seed_settings).ask("What did he say about that?", history=["What did Ri Yong Ho demand?"],
                                               llm=f"openai:{server.url}")
    assert "Ri Yong Ho" in answer.standalone_query
    assert not answer.abstained and "Impatience is not helpful" in answer.citations[0].quote


def test_unreachable_model_server_is_a_clear_error(seed_settings):
    from index_build.core.errors import BriefingError

    with pytest.raises(BriefingError, match="failed"):
        _assistant(seed_settings).ask("What did Ri Yong Ho demand?", llm="openai:http://127.0.0.1:9/v1")


def test_unknown_backend_is_a_settings_error(seed_settings):
    from index_build.core.errors import SettingsError

    with pytest.raises(SettingsError, match="openai"):
        _assistant(seed_settings).ask("x", llm="skynet:big")
