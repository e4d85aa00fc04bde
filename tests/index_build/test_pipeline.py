"""The pipelined build (embedding on a worker thread while later files are read) leaves
exactly what the serial build leaves: the same record rows, the same Chroma ids and vectors,
the same embed calls in the same order. Errors on the worker reach the caller as they
would from the serial build; progress is only ever reported on the calling thread."""

from __future__ import annotations

import json
import sqlite3
import threading

import numpy as np
import pytest

from index_build.build import build_index
from index_build.core.errors import EmbedderError, SettingsError
from index_build.core.settings import load_settings
from tests.conftest import FAKE, article_text, cli_env, run_briefing
from tests.fakes import FakeEmbedder


class RecordingEmbedder(FakeEmbedder):
    """The fake, noting each call's texts and the thread it ran on."""

    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.batches: list[list[str]] = []
        self.fail_after = fail_after

    def embed(self, texts):
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise EmbedderError("the model went away")
        self.batches.append(list(texts))
        return super().embed(texts)


def _folder(root, n: int = 24):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"a{i:03d}.txt").write_text(article_text(100 + i, sentences=6 + i % 9), "utf-8")
    # A collection (several documents in one file) and a passage repeated in two files.
    lines = [json.dumps({"id": f"r{k}", "title": f"Record {k}", "text": article_text(500 + k)}) for k in range(5)]
    (root / "collection.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (root / "copy.txt").write_text(article_text(100, sentences=6), "utf-8")
    return root


def _tables(db) -> dict:
    con = sqlite3.connect(db)
    try:
        return {
            "sources": con.execute("SELECT source, content_hash, size, doc_count FROM sources ORDER BY source").fetchall(),
            "documents": con.execute("SELECT * FROM documents ORDER BY doc_id").fetchall(),
            "chunks": con.execute("SELECT * FROM chunks ORDER BY chunk_id").fetchall(),
            "embeddings": con.execute("SELECT * FROM embeddings ORDER BY key").fetchall(),
            "tokens": con.execute("SELECT * FROM chunk_tokens ORDER BY chunk_id").fetchall(),
            "meta": dict(con.execute("SELECT key, value FROM meta WHERE key != 'last_skipped'")),
        }
    finally:
        con.close()


def _chroma(settings) -> dict:
    from index_build.store.vectors import VectorStore

    store = VectorStore(settings, {}, create=False, check=False)
    got = store.collection.get(include=["embeddings", "metadatas"])
    return {i: (np.asarray(e).tobytes(), m) for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"])}


def _build(tmp_path, name, sources, monkeypatch, window: int, embedder, batch: int = 1, progress=None):
    settings = load_settings(environ={"BRIEFING_PIPELINE_CHUNKS": str(window)}, index_dir=tmp_path / name,
                             sources_dir=sources, embedder=FAKE, embed_batch_size=batch)
    report = build_index(settings, embedder=embedder, progress=progress)
    return settings, report


def test_pipelined_build_equals_the_serial_build(tmp_path, monkeypatch):
    sources = _folder(tmp_path / "sources")
    serial_emb, piped_emb = RecordingEmbedder(), RecordingEmbedder()
    s_settings, s_report = _build(tmp_path, "serial", sources, monkeypatch, 0, serial_emb)
    calls = []

    def progress(stage, done, total):
        calls.append((stage, done, total, threading.get_ident()))

    p_settings, p_report = _build(tmp_path, "piped", sources, monkeypatch, 4, piped_emb, progress=progress)

    assert s_report.chunks > 40 and s_report.embedded == p_report.embedded
    assert s_report.embedded < s_report.chunks  # the repeated passage is embedded once
    # The same embed calls, texts and order: batches of 4 (batch size 1 × 4).
    assert piped_emb.batches == serial_emb.batches
    assert {len(b) for b in piped_emb.batches[:-1]} == {4}
    serial, piped = _tables(s_settings.db_path), _tables(p_settings.db_path)
    for table in serial:
        assert piped[table] == serial[table], table
    assert _chroma(p_settings) == _chroma(s_settings)
    # The pipeline really overlapped: embedding was reported before the last file was read.
    stages = [c[0] for c in calls]
    assert "embed" in stages[: max(i for i, s in enumerate(stages) if s == "read")]
    # Progress only on this thread; the embed bar never reaches its end before the last report.
    assert {c[3] for c in calls} == {threading.get_ident()}
    embeds = [(d, t) for s, d, t, _ in calls if s == "embed"]
    assert embeds[-1] == (p_report.embedded, p_report.embedded)
    assert all(d < t for d, t in embeds[:-1])


def test_pipelined_update_equals_serial_update(tmp_path, monkeypatch):
    results = {}
    for name, window in (("serial", 0), ("piped", 3)):
        sources = _folder(tmp_path / f"src-{name}")
        settings, _ = _build(tmp_path, name, sources, monkeypatch, window, FakeEmbedder())
        for i in (2, 7, 11):  # edit three, remove two, add two
            (sources / f"a{i:03d}.txt").write_text(article_text(900 + i, sentences=14), "utf-8")
        (sources / "a004.txt").unlink()
        (sources / "a015.txt").unlink()
        for i in (1, 2):
            (sources / f"new{i}.txt").write_text(article_text(700 + i, sentences=20), "utf-8")
        emb = RecordingEmbedder()
        settings, report = _build(tmp_path, name, sources, monkeypatch, window, emb)
        results[name] = (report.added, report.updated, report.removed, report.embedded, emb.batches,
                         _tables(settings.db_path), _chroma(settings))
    serial, piped = results["serial"], results["piped"]
    assert serial[:4] == (2, 3, 2, serial[3]) and serial[3] > 0
    for a, b in zip(serial[:-2], piped[:-2]):
        assert a == b
    for table in serial[-2]:
        if table != "meta":
            assert piped[-2][table] == serial[-2][table], table
    assert piped[-1] == serial[-1]


def test_an_embedder_failing_on_the_worker_fails_the_build_and_keeps_committed_batches(tmp_path, monkeypatch):
    sources = _folder(tmp_path / "sources")
    emb = RecordingEmbedder(fail_after=3)
    before = threading.active_count()
    with pytest.raises(EmbedderError, match="went away"):
        _build(tmp_path, "index", sources, monkeypatch, 4, emb)
    assert threading.active_count() == before  # the worker is gone
    con = sqlite3.connect(tmp_path / "index" / "briefing.sqlite3")
    try:
        kept = con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        chunks = con.execute("SELECT count(*) FROM chunks").fetchone()[0]
        pending = con.execute("SELECT value FROM meta WHERE key = 'embeddings_pending'").fetchone()[0]
    finally:
        con.close()
    assert (kept, chunks, pending) == (12, 0, "1")  # three batches of 4 committed, nothing else

    # The next run keeps them and embeds only the rest: what a fresh build embeds, less those 12.
    emb = RecordingEmbedder()
    _, report = _build(tmp_path, "index", sources, monkeypatch, 4, emb)
    _, fresh = _build(tmp_path, "fresh", sources, monkeypatch, 0, FakeEmbedder())
    assert report.embedded == sum(len(b) for b in emb.batches) == fresh.embedded - 12
    assert _tables(tmp_path / "index" / "briefing.sqlite3")["embeddings"] == \
        _tables(tmp_path / "fresh" / "briefing.sqlite3")["embeddings"]


@pytest.mark.parametrize("value", ["many", "-3", "1.5"])
def test_a_bad_pipeline_setting_is_one_clear_error(value):
    with pytest.raises(SettingsError, match="BRIEFING_PIPELINE_CHUNKS"):
        load_settings(environ={"BRIEFING_PIPELINE_CHUNKS": value})


def test_a_bad_pipeline_setting_from_the_command_line_is_one_error_line(tmp_path, seed_sources):
    out = run_briefing("--index-dir", str(tmp_path / "idx"), "index", str(seed_sources), "--embedder", FAKE,
                       env=cli_env(BRIEFING_PIPELINE_CHUNKS="lots"), cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("error:"), out.stderr
    assert "BRIEFING_PIPELINE_CHUNKS" in out.stderr and "Traceback" not in out.stderr
