"""A build touches only what changed, and always ends where a fresh build would."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from index_build.build import build_index, expected_meta
from index_build.chunk import chunk_document
from index_build.core.errors import IndexLockedError, IndexMismatchError
from index_build.lock import IndexLock
from index_build.read import read_source
from index_build.store.vectors import make_vectors
from tests.conftest import SEED_000, SEED_001, article_text, open_record
from tests.fakes import FakeEmbedder, OtherFakeEmbedder


def snapshot(settings, embedder) -> dict:
    """What the record and Chroma hold, for comparing builds."""
    record = open_record(settings.index_dir)
    try:
        chunk_ids = record.all_chunk_ids()
        by_source = {s: record.chunk_ids_of_sources([s]) for s in record.sources()}
        rows = list(record.chunks_with_meta())
        docs = {d.doc_id: d for d in record.documents()}
        orphans = [r[0] for r in rows if r[1] not in docs]
        n_docs, n_chunks = record.counts()
    finally:
        record.close()
    vectors = make_vectors(settings, expected_meta(settings, embedder))
    return {
        "chunk_ids": chunk_ids, "by_source": by_source, "n_chunks": n_chunks, "n_docs": n_docs,
        "chroma_ids": vectors.ids(), "chroma_count": vectors.count(), "orphans": orphans,
        "spans_ok": all(docs[r[1]].text[r[2]:r[3]] == r[4] for r in rows if r[1] in docs),
    }


def expected_chunk_ids(folder: Path, settings) -> set[str]:
    """The chunk ids a build must produce, computed straight from the reader and chunker."""
    out: set[str] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        for doc in read_source(path, folder, 10**8):
            out.update(c.chunk_id for c in chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap))
    return out


def assert_consistent(snap: dict) -> None:
    assert snap["chroma_ids"] == snap["chunk_ids"]
    assert snap["chroma_count"] == snap["n_chunks"] == len(snap["chunk_ids"])
    assert snap["orphans"] == []
    assert snap["spans_ok"]


# -- add / update / remove -------------------------------------------------------------------
def test_first_build_adds_every_source(settings, seed_sources, fake_embedder):
    report = build_index(settings, embedder=fake_embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (2, 0, 0, 0)
    assert report.documents == 3
    assert report.chunks == report.embedded > 0
    snap = snapshot(settings, fake_embedder)
    assert_consistent(snap)
    assert snap["chunk_ids"] == expected_chunk_ids(seed_sources, settings)


def test_unchanged_sources_embed_nothing(settings, fake_embedder):
    first = build_index(settings, embedder=fake_embedder)
    embedder = FakeEmbedder()
    again = build_index(settings, embedder=embedder)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 2)
    assert again.embedded == 0 and embedder.texts_embedded == 0
    assert (again.documents, again.chunks) == (first.documents, first.chunks)


def test_touching_a_file_without_changing_it_embeds_nothing(settings, seed_sources, fake_embedder):
    import os

    build_index(settings, embedder=fake_embedder)
    os.utime(seed_sources / SEED_000, (1, 1))
    again = build_index(settings, embedder=FakeEmbedder())
    assert (again.unchanged, again.updated, again.embedded) == (2, 0, 0)


def test_editing_one_source_changes_only_its_chunks(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    before = snapshot(settings, fake_embedder)
    path = seed_sources / SEED_000
    path.write_text(path.read_text("utf-8").replace("quiet trip to Moscow", "secret trip to Moscow"), "utf-8")

    report = build_index(settings, embedder=fake_embedder)
    after = snapshot(settings, fake_embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 1)
    assert after["by_source"][SEED_001] == before["by_source"][SEED_001]
    assert after["by_source"][SEED_000] != before["by_source"][SEED_000]
    # Later chunks moved by one character (new ids), but only the one passage whose text
    # changed was embedded again.
    assert report.embedded == 1
    assert_consistent(after)
    assert after["chunk_ids"] == expected_chunk_ids(seed_sources, settings)


def test_appending_a_paragraph_keeps_the_earlier_chunks(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    before = snapshot(settings, fake_embedder)["by_source"][SEED_000]
    path = seed_sources / SEED_000
    path.write_text(path.read_text("utf-8") + "\n\nA late correction was added to this article today.\n", "utf-8")
    report = build_index(settings, embedder=fake_embedder)
    after = snapshot(settings, fake_embedder)["by_source"][SEED_000]
    assert len(before & after) >= len(before) - 2  # only the tail chunks differ
    assert report.embedded <= 2


def test_removed_source_disappears_from_record_and_chroma(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    (seed_sources / SEED_001).unlink()
    report = build_index(settings, embedder=fake_embedder)
    assert (report.removed, report.unchanged, report.documents) == (1, 1, 1)
    snap = snapshot(settings, fake_embedder)
    assert set(snap["by_source"]) == {SEED_000}
    assert_consistent(snap)
    assert snap["chunk_ids"] == expected_chunk_ids(seed_sources, settings)


def test_add_update_remove_in_one_run(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    (seed_sources / "new.md").write_text(article_text(11))
    (seed_sources / SEED_001).unlink()
    (seed_sources / SEED_000).write_text(article_text(12))
    report = build_index(settings, embedder=fake_embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 0)
    snap = snapshot(settings, fake_embedder)
    assert_consistent(snap)
    assert snap["chunk_ids"] == expected_chunk_ids(seed_sources, settings)


def test_moving_a_file_reuses_its_embeddings(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    (seed_sources / "archive").mkdir()
    shutil.move(seed_sources / SEED_000, seed_sources / "archive" / SEED_000)
    embedder = FakeEmbedder()
    report = build_index(settings, embedder=embedder)
    assert (report.added, report.removed) == (1, 1)
    assert embedder.texts_embedded == 0  # same passages, same embedded text: nothing to embed
    assert_consistent(snapshot(settings, fake_embedder))


def test_incremental_result_equals_a_fresh_build(settings, seed_sources, fake_embedder, tmp_path):
    build_index(settings, embedder=fake_embedder)
    for n in range(5):
        (seed_sources / f"a{n}.txt").write_text(article_text(n, sentences=30))
    build_index(settings, embedder=fake_embedder)
    (seed_sources / "a1.txt").unlink()
    (seed_sources / "a2.txt").write_text(article_text(99, sentences=20))
    build_index(settings, embedder=fake_embedder)

    fresh = settings.replace(index_dir=tmp_path / "fresh")
    build_index(fresh, embedder=fake_embedder)
    inc, new = snapshot(settings, fake_embedder), snapshot(fresh, fake_embedder)
    assert inc["chunk_ids"] == new["chunk_ids"]
    assert inc["by_source"] == new["by_source"]
    assert_consistent(inc)
    assert_consistent(new)


# -- settings and embedder changes -----------------------------------------------------------
def test_changed_chunk_settings_require_a_rebuild(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    with pytest.raises(IndexMismatchError) as e:
        build_index(settings.replace(chunk_tokens=100), embedder=fake_embedder)
    assert "briefing index --rebuild" in str(e.value)
    assert "chunk_tokens" in str(e.value)


def test_changed_embedder_requires_a_rebuild(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    with pytest.raises(IndexMismatchError) as e:
        build_index(settings, embedder=OtherFakeEmbedder())
    assert "briefing index --rebuild" in str(e.value)
    assert "fake:hash-64" in str(e.value) and "fake:hash-32" in str(e.value)


def test_rebuild_switches_to_new_settings_and_embedder(settings, seed_sources, fake_embedder):
    from index_build.status import index_status

    build_index(settings, embedder=fake_embedder)
    smaller = settings.replace(chunk_tokens=100, chunk_overlap=20)
    other = OtherFakeEmbedder()
    report = build_index(smaller, rebuild=True, embedder=other)
    assert (report.added, report.unchanged, report.embedded) == (2, 0, report.chunks)
    status = index_status(smaller)
    assert (status.embedder, status.dimension, status.chunk_tokens) == ("fake:hash-32", 32, 100)
    snap = snapshot(smaller, other)
    assert_consistent(snap)
    assert snap["chunk_ids"] == expected_chunk_ids(seed_sources, smaller)
    # And the next plain run with the new settings is a no-op.
    again = build_index(smaller, embedder=other)
    assert (again.unchanged, again.embedded) == (2, 0)


def test_rebuild_with_the_same_settings_re_embeds_everything(settings, fake_embedder):
    first = build_index(settings, embedder=fake_embedder)
    report = build_index(settings, rebuild=True, embedder=fake_embedder)
    assert (report.added, report.unchanged) == (2, 0)
    assert report.embedded == report.chunks == first.chunks
    assert_consistent(snapshot(settings, fake_embedder))


# -- Chroma is derived from the record -------------------------------------------------------
def test_lost_chroma_entries_are_restored_without_re_embedding(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    lost = sorted(vectors.ids())[:4]
    vectors.delete(lost)
    embedder = FakeEmbedder()
    report = build_index(settings, embedder=embedder)
    assert report.repaired == 4
    assert embedder.texts_embedded == 0
    assert_consistent(snapshot(settings, fake_embedder))


def test_stray_chroma_entries_are_removed(settings, fake_embedder):
    import numpy as np

    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    vectors.upsert(["stray-1"], np.ones((1, 64), dtype=np.float32) / 8, [{"doc_id": "gone"}])
    report = build_index(settings, embedder=fake_embedder)
    assert report.repaired == 1
    assert "stray-1" not in vectors.ids()
    assert_consistent(snapshot(settings, fake_embedder))


def test_an_interrupted_chroma_write_is_finished_by_the_next_run(settings, fake_embedder):
    """The record says Chroma may be behind (chroma_dirty): the next run reconciles it."""
    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    victim = sorted(vectors.ids())[0]
    vectors.delete([victim])
    vectors.upsert(["stray-2"], vectors_like(fake_embedder), [{"doc_id": "gone"}])  # count unchanged
    record = open_record(settings.index_dir)
    record.set_meta(chroma_dirty=1)
    record.close()
    report = build_index(settings, embedder=fake_embedder)
    assert report.repaired == 2
    snap = snapshot(settings, fake_embedder)
    assert victim in snap["chroma_ids"]
    assert_consistent(snap)


def vectors_like(embedder):
    return embedder.embed(["anything"])


def test_chroma_holds_the_metadata_and_the_record_the_text(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    record = open_record(settings.index_dir)
    try:
        rows = {r[0]: r for r in record.chunks_with_meta()}
    finally:
        record.close()
    got = vectors.collection.get(ids=list(rows), include=["documents", "metadatas"])
    for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
        row = rows[cid]
        assert text is None  # the passage text is the record's (SQLite), not Chroma's
        assert (meta["doc_id"], meta["start"], meta["end"], meta["source"], meta["title"]) == (
            row[1], row[2], row[3], row[6], row[7])
    wapo = [m for m in got["metadatas"] if m["source"] == SEED_000]
    assert all(m["publisher"] == "The Washington Post" and m["date_key"] == 20170000 for m in wapo)


def test_a_query_vector_finds_its_own_chunk(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    record = open_record(settings.index_dir)
    try:
        rows = list(record.chunks_with_meta())
        embedded = record.get_embeddings([r[5] for r in rows])
    finally:
        record.close()
    for row, vec in zip(rows, embedded):
        (best, distance), *_ = vectors.query(vec, 3)
        assert best == row[0] and distance < 1e-3


# -- one writer ------------------------------------------------------------------------------
def test_a_second_writer_is_refused_with_a_clear_message(settings, fake_embedder):
    import os

    with IndexLock(settings.index_dir):
        with pytest.raises(IndexLockedError) as e:
            build_index(settings, embedder=fake_embedder)
    assert f"pid {os.getpid()}" in str(e.value)
    assert str(settings.index_dir) in str(e.value)
    # The lock is released: the build now runs.
    assert build_index(settings, embedder=fake_embedder).added == 2


def test_the_lock_is_released_when_a_build_fails(settings, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    with pytest.raises(IndexMismatchError):
        build_index(settings, embedder=OtherFakeEmbedder())
    with IndexLock(settings.index_dir):
        pass


# -- property: any sequence of edits ends where a fresh build would --------------------------
_article = st.builds(article_text, seed=st.integers(0, 10_000), sentences=st.integers(1, 25))


class EditSequence(RuleBasedStateMachine):
    """Random add/edit/delete of small articles, with a build after each step."""

    base = None  # a session folder set by the test
    counter = itertools.count()

    @initialize()
    def setup(self):
        from index_build.core.settings import load_settings

        self.root = Path(tempfile.mkdtemp(dir=self.base))
        self.sources = self.root / "sources"
        self.sources.mkdir()
        self.embedder = FakeEmbedder()
        self.settings = load_settings(environ={}, index_dir=self.root / "index", sources_dir=self.sources,
                                      chunk_tokens=64, chunk_overlap=16)
        self.names: set[str] = set()

    @rule(text=_article, sub=st.booleans())
    def add(self, text, sub):
        name = f"{'sub/' if sub else ''}a{next(self.counter)}.{'md' if sub else 'txt'}"
        path = self.sources / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, "utf-8")
        self.names.add(name)
        self.build(expect_added=1)

    @rule(data=st.data(), text=_article)
    def edit(self, data, text):
        if not self.names:
            return
        name = data.draw(st.sampled_from(sorted(self.names)))
        old = (self.sources / name).read_text("utf-8")
        (self.sources / name).write_text(text, "utf-8")
        self.build(expect_updated=int(old != text))

    @rule(data=st.data())
    def delete(self, data):
        if not self.names:
            return
        name = data.draw(st.sampled_from(sorted(self.names)))
        (self.sources / name).unlink()
        self.names.discard(name)
        self.build(expect_removed=1)

    @rule()
    def rerun(self):
        self.build()
        assert self.report.embedded == 0

    def build(self, expect_added=0, expect_updated=0, expect_removed=0):
        self.report = build_index(self.settings, embedder=self.embedder)
        r = self.report
        assert (r.added, r.updated, r.removed) == (expect_added, expect_updated, expect_removed)
        assert r.unchanged == len(self.names) - expect_added - expect_updated
        assert r.skipped == []

    @invariant()
    def matches_the_folder(self):
        if not hasattr(self, "report"):
            return
        snap = snapshot(self.settings, self.embedder)
        assert_consistent(snap)
        assert snap["chunk_ids"] == expected_chunk_ids(self.sources, self.settings)
        assert set(snap["by_source"]) == self.names

    def teardown(self):
        if not hasattr(self, "report"):
            return
        fresh = self.settings.replace(index_dir=self.root / "fresh")
        build_index(fresh, embedder=self.embedder)
        assert snapshot(fresh, self.embedder)["chunk_ids"] == snapshot(self.settings, self.embedder)["chunk_ids"]


def test_any_sequence_of_edits_matches_a_fresh_build(tmp_path_factory):
    EditSequence.base = tmp_path_factory.mktemp("edits")
    run_state_machine_as_test(
        EditSequence,
        settings=hsettings(max_examples=20, stateful_step_count=6, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )


# -- the lexical (BM25) index is written by the build ------------------------------------------

def _lexical_stamp(settings) -> dict:
    import json

    return json.loads((settings.index_dir / "lexical" / "generation.json").read_text())


def _bm25_of_fresh_tokens(settings):
    """BM25 over tokens computed straight from the record's chunks (no stored tokens)."""
    from index_build.store.lexical import build_lexical, chunk_tokens

    record = open_record(settings.index_dir)
    try:
        rows = list(record.chunks_with_meta())
    finally:
        record.close()
    return rows, build_lexical(None, 0, [chunk_tokens(r[7], r[4]) for r in rows])


def test_the_build_writes_bm25_for_its_generation_and_readers_load_it(settings, seed_sources, fake_embedder,
                                                                    monkeypatch):
    import numpy as np

    import assistant.answer.view as view_module
    from assistant.answer.corpus import Corpus

    build_index(settings, embedder=fake_embedder)
    record = open_record(settings.index_dir)
    generation, chunks = int(record.meta()["generation"]), record.counts()[1]
    record.close()
    assert _lexical_stamp(settings)["generation"] == generation
    assert _lexical_stamp(settings)["chunks"] == chunks

    def no_build(*args, **kwargs):
        raise AssertionError("the reader rebuilt BM25 although the build had written it")

    monkeypatch.setattr(view_module, "build_lexical", no_build)
    corpus = Corpus(settings, embedder=fake_embedder).snapshot()
    rows, fresh = _bm25_of_fresh_tokens(settings)
    assert corpus.ids == [r[0] for r in rows]
    assert corpus.df == fresh.df
    for query in (["moscow"], ["nuclear", "talk"], ["simultan", "action"]):
        q = [t for t in query if t in corpus.df]
        assert q, query
        assert np.allclose(corpus.bm25.get_scores(q), fresh.bm25.get_scores(q))


def test_an_edit_tokenizes_only_the_new_chunks_and_bm25_follows(settings, seed_sources, fake_embedder, monkeypatch):
    import index_build.build as build_module
    import index_build.pipeline as pipeline_module
    from index_build.store import lexical

    build_index(settings, embedder=fake_embedder)
    first = _lexical_stamp(settings)
    calls = []
    real = lexical.chunk_tokens

    def counting(title, text):
        calls.append(text)
        return real(title, text)

    monkeypatch.setattr(pipeline_module, "chunk_tokens", counting)  # the passages read
    monkeypatch.setattr(build_module, "chunk_tokens", counting)  # tokens missing from the record
    path = seed_sources / SEED_000
    path.write_text(path.read_text("utf-8").replace("quiet trip to Moscow", "secret trip to Zanzibar"), "utf-8")
    build_index(settings, embedder=fake_embedder)
    second = _lexical_stamp(settings)
    assert second["generation"] == first["generation"] + 1
    record = open_record(settings.index_dir)
    try:
        n_edited = len(record.chunk_ids_of_sources([SEED_000]))
        stored = record.db.execute("SELECT count(*) FROM chunk_tokens").fetchone()[0]
        n_chunks = record.counts()[1]
    finally:
        record.close()
    # Only the edited file's chunks were tokenized (when it was read); the stored tokens of the
    # other file were reused, stale ones pruned.
    assert 0 < len(calls) == n_edited < n_chunks
    assert stored == n_chunks
    from index_build.store.lexical import load_lexical

    loaded = load_lexical(settings.index_dir, second["generation"], n_chunks)
    rows, fresh = _bm25_of_fresh_tokens(settings)
    assert loaded is not None and loaded.df == fresh.df
    assert loaded.df.get("zanzibar") and "zanzibar" in fresh.df


def test_a_reader_builds_bm25_when_the_build_was_killed_before_writing_it(settings, seed_sources, fake_embedder):
    import shutil

    from assistant.answer.corpus import Corpus

    build_index(settings, embedder=fake_embedder)
    shutil.rmtree(settings.index_dir / "lexical")
    corpus = Corpus(settings, embedder=fake_embedder).snapshot()
    rows, fresh = _bm25_of_fresh_tokens(settings)
    assert corpus.df == fresh.df
    assert _lexical_stamp(settings)["generation"] == corpus.generation
    # and the next build, with nothing to do, leaves it in place
    build_index(settings, embedder=fake_embedder)
    assert _lexical_stamp(settings)["generation"] == corpus.generation
