"""Chunks point at exact spans of the cleaned text, fit the token budget and cover everything."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from index_build.chunk import chunk_document, count_tokens, sentence_spans
from index_build.core.models import Chunk, Document, make_chunk_id
from index_build.read import read_source
from tests.conftest import SEEDS

SLACK = 4  # a single unsplittable piece may run a few tokens over the budget


def make_doc(text: str, title: str = "", publisher: str = "") -> Document:
    return Document(doc_id="doc-1", source="x.txt", text=text, content_hash="h", title=title, publisher=publisher)


def check_chunks(doc: Document, chunks: list[Chunk], budget: int) -> None:
    text = doc.text
    if not text.strip():
        assert chunks == []
        return
    assert chunks, "a text with words must give at least one chunk"
    for n, c in enumerate(chunks):
        assert text[c.start:c.end] == c.text
        assert c.text.strip() == c.text and c.text, "chunks are trimmed and non-empty"
        assert c.ordinal == n
        assert c.doc_id == doc.doc_id
        assert c.chunk_id == make_chunk_id(doc.doc_id, c.start, c.end, c.text)
        assert count_tokens([c.text])[0] <= budget + SLACK, (n, count_tokens([c.text])[0])
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start < nxt.start and prev.end < nxt.end, "chunks are ordered and move forward"
        # Nothing between two chunks but whitespace: every word is in some chunk.
        assert text[prev.end:nxt.start].strip() == "" or nxt.start <= prev.end
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start:c.end] = [True] * (c.end - c.start)
    missed = [ch for ch, cov in zip(text, covered) if not cov and not ch.isspace()]
    assert missed == []
    assert len({c.chunk_id for c in chunks}) == len(chunks)


@pytest.fixture(scope="module")
def seed_docs():
    return [d for p in sorted(SEEDS.glob("*.txt")) for d in read_source(p, SEEDS, 10**8)]


def test_seed_chunks_are_exact_spans_within_budget(seed_docs):
    for doc in seed_docs:
        check_chunks(doc, chunk_document(doc), 200)
        check_chunks(doc, chunk_document(doc, 64, 16), 64)


def test_default_chunks_on_the_seeds_are_about_200_tokens(seed_docs):
    sizes = []
    for doc in seed_docs:
        chunks = chunk_document(doc)
        sizes += [count_tokens([c.text])[0] for c in chunks[:-1]]  # the last chunk of a story may be short
    assert len(sizes) >= 6
    assert all(120 <= n <= 200 for n in sizes), sizes
    assert sum(sizes) / len(sizes) >= 160


def test_seed_chunks_overlap_their_predecessor(seed_docs):
    pairs = overlapping = 0
    for doc in seed_docs:
        chunks = chunk_document(doc)
        for prev, nxt in zip(chunks, chunks[1:]):
            pairs += 1
            overlapping += nxt.start < prev.end
    assert pairs >= 6
    assert overlapping >= pairs - 2  # only where the last sentence is longer than the overlap


def test_chunks_end_at_sentence_boundaries(seed_docs):
    doc = seed_docs[0]
    for c in chunk_document(doc)[:-1]:
        assert c.text[-1] in ".!?”\"’)", repr(c.text[-40:])


def test_short_sentences_overlap_by_whole_sentences():
    text = " ".join(f"Sentence number {i} is short." for i in range(60))
    doc = make_doc(text)
    chunks = chunk_document(doc, 40, 12)
    check_chunks(doc, chunks, 40)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        shared = doc.text[nxt.start:prev.end]
        assert nxt.start < prev.end and shared.endswith(".") and count_tokens([shared])[0] <= 12


def test_headlines_and_paragraphs_are_never_merged_into_one_sentence():
    text = "A Headline Without A Full Stop\nBloomberg\nThe body starts here. It goes on."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "A Headline Without A Full Stop", "Bloomberg", "The body starts here.", "It goes on."]


def test_many_short_lines_still_fit_the_budget():
    doc = make_doc("\n".join("abcdefghijklmnopqrstuvwxyz" * 4))
    check_chunks(doc, chunk_document(doc, 16, 4), 16)


def test_one_endless_word_is_cut_at_token_boundaries():
    doc = make_doc("x" * 5000)
    chunks = chunk_document(doc, 32, 8)
    check_chunks(doc, chunks, 32)
    assert "".join(c.text for c in chunks) == doc.text


def test_headline_and_publisher_go_into_embedded_text_only():
    doc = make_doc("Body sentence one. Body sentence two.", title="The Headline", publisher="Wire")
    (chunk,) = chunk_document(doc)
    assert chunk.text == "Body sentence one. Body sentence two."
    assert chunk.embed_text == "The Headline\nWire\n\nBody sentence one. Body sentence two."


def test_whitespace_only_text_gives_no_chunks():
    assert chunk_document(make_doc(" \n\t\n ")) == []


def test_chunk_ids_are_stable_across_runs(seed_docs):
    doc = seed_docs[0]
    assert [c.chunk_id for c in chunk_document(doc)] == [c.chunk_id for c in chunk_document(doc)]


# -- property-based: arbitrary Unicode -------------------------------------------------------
_pieces = st.one_of(
    st.text(min_size=0, max_size=300),
    st.sampled_from([
        "Hello world. ", "Mr. Smith went to Washington. ", "\n", "\n\n", "  ", "\t",
        "🎉🇺🇸👩‍👩‍👧 ", "مرحبا بالعالم. ", "שלום עולם. ", "e\u0301\u0301 ", "ภาษาไทย ", "中文句子。",
        "\u200b", "\r\n", "\u2028", "“quoted.” ", "x" * 400, "supercalifragilistic" * 30,
    ]),
)
_texts = st.lists(_pieces, min_size=0, max_size=25).map("".join)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, budget=st.sampled_from([16, 24, 48, 200]), overlap_share=st.floats(0, 0.5))
def test_chunks_are_exact_spans_of_arbitrary_unicode(text, budget, overlap_share):
    doc = make_doc(text)
    chunks = chunk_document(doc, budget, int(budget * overlap_share))
    check_chunks(doc, chunks, budget)


@hsettings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=2000))
def test_arbitrary_text_with_default_settings(text):
    doc = make_doc(text)
    check_chunks(doc, chunk_document(doc), 200)
