"""A build killed with SIGKILL at any point is repaired by the next run.

Real ``briefing index`` subprocesses are killed at random times (seeded) and at chosen
moments (mid-embedding, mid-Chroma-write, mid-update); the next run must leave the same
chunks as a fresh build: no duplicates, no orphans, Chroma equal to the record.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from index_build.build import build_index
from tests.conftest import BRIEFING, ROOT, article_text, cli_env, json_line
from tests.test_incremental import expected_chunk_ids

pytestmark = pytest.mark.integration

SLOW_FAKE = "tests.fakes:SlowFakeEmbedder"
N_ARTICLES = 40


def write_corpus(folder: Path, n: int, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    for i in range(n):
        (folder / f"article_{i:03d}.txt").write_text(article_text(1000 + i, sentences=rnd.randint(8, 40)), "utf-8")


def start(sources: Path, index: Path, embedder: str = SLOW_FAKE, batch: int = 2) -> subprocess.Popen:
    env = cli_env(BRIEFING_EMBED_BATCH_SIZE=str(batch))
    return subprocess.Popen(
        [str(BRIEFING), "--index-dir", str(index), "index", str(sources), "--json", "--embedder", embedder],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )


def query(db: Path, sql: str):
    """One value from the index record, read while another process may be writing it."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            row = con.execute(sql).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def wait_until(proc: subprocess.Popen, condition: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return False


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL; True when the process was still running (a real crash)."""
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if not running:
        assert proc.returncode == 0, proc.stderr.read()
    else:
        assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()
    return running


def finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return json_line(out)


def probe(index: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.index_probe", str(index)], capture_output=True, text=True,
                          env=cli_env(), cwd=ROOT, timeout=120)
    assert proc.returncode == 0, f"inspecting the index failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def assert_healthy(p: dict, expected_ids: set[str]) -> None:
    assert p["n_chunks"] == len(set(p["chunk_ids"])), "duplicate chunks in the record"
    assert set(p["chunk_ids"]) == expected_ids
    assert p["chroma_ids"] == p["chunk_ids"], "Chroma and the record disagree"
    assert p["chroma_count"] == p["n_chunks"]
    assert p["orphan_chunks"] == [] and p["docs_without_source"] == []
    assert p["wrong_vectors"] == [] and p["wrong_texts"] == []
    assert p["spans_ok"]
    assert p["probes_ok"] == p["probes"] > 0, "Chroma queries do not find the stored chunks"
    assert p["chroma_dirty"] == "0"


def generation(db: Path) -> int:
    return int(query(db, "SELECT value FROM meta WHERE key = 'generation'") or 0)


def embeddings(db: Path) -> int:
    return query(db, "SELECT count(*) FROM embeddings") or 0


def dirty_after(db: Path, gen: int) -> Callable[[], bool]:
    """True once a run has committed its record changes and is writing Chroma."""
    return lambda: generation(db) > gen and query(db, "SELECT value FROM meta WHERE key = 'chroma_dirty'") == "1"


def test_killed_builds_are_repaired_by_the_next_run(tmp_path):
    from tests.fakes import FakeEmbedder

    rnd = random.Random(20240611)
    sources = tmp_path / "sources"
    write_corpus(sources, N_ARTICLES)
    index = tmp_path / "index"
    db = index / "briefing.sqlite3"
    batch = 2 * 4  # embed_batch_size 2: the build commits embeddings 8 at a time

    # The reference: a fresh build of the same folder into another directory.
    reference = build_index(replace(_default_settings(), index_dir=tmp_path / "reference"), sources,
                            embedder=FakeEmbedder())
    expected = expected_chunk_ids(sources, _default_settings())
    assert reference.chunks == len(expected) > 3 * N_ARTICLES
    n_batches = -(-reference.chunks // batch)

    # 1-2: killed at random points of the embedding phase (after a random number of committed
    # batches, plus a random fraction of the next one).
    for _ in range(2):
        have = embeddings(db)
        target = have + batch * rnd.randint(1, max(1, (n_batches - have // batch) // 2))
        proc = start(sources, index)
        assert wait_until(proc, lambda: embeddings(db) >= target), "the embedding phase was not reached"
        time.sleep(rnd.uniform(0, 0.03))
        assert kill(proc), "the build finished before it could be interrupted"
        assert embeddings(db) < reference.chunks
    # 3: killed while Chroma is being written (the record is committed, Chroma is behind).
    proc = start(sources, index)
    assert wait_until(proc, dirty_after(db, generation(db))), "the Chroma phase was not reached"
    time.sleep(rnd.uniform(0, 0.03))
    kill(proc)

    report = finish(start(sources, index))
    assert (report["documents"], report["chunks"]) == (reference.documents, reference.chunks)
    assert report["skipped"] == []
    assert_healthy(probe(index), expected)

    # An incremental update killed while Chroma is being brought in line.
    edited = [f"article_{i:03d}.txt" for i in (1, 5, 9, 13, 17)]
    removed = [f"article_{i:03d}.txt" for i in (2, 6, 10)]
    for n, name in enumerate(edited):
        (sources / name).write_text(article_text(5000 + n, sentences=25), "utf-8")
    for name in removed:
        (sources / name).unlink()
    for n in range(3):
        (sources / f"new_{n}.md").write_text(article_text(6000 + n, sentences=30), "utf-8")

    proc = start(sources, index)
    assert wait_until(proc, dirty_after(db, generation(db))), "the Chroma phase was not reached"
    time.sleep(rnd.uniform(0, 0.02))
    kill(proc)
    # At the moment of the crash no edited article is missing from Chroma: new passages are
    # written before old ones are deleted.
    assert set(edited) <= set(probe(index)["chroma_sources"])

    report = finish(start(sources, index))
    # The record had committed the whole update before the kill; at most Chroma needed repair.
    n_files = len(list(sources.iterdir()))
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (0, 0, 0, n_files)
    expected = expected_chunk_ids(sources, _default_settings())
    assert_healthy(probe(index), expected)

    # And it equals a fresh build of the edited folder.
    fresh = build_index(replace(_default_settings(), index_dir=tmp_path / "fresh"), sources, embedder=FakeEmbedder())
    assert fresh.chunks == len(expected) == report["chunks"]


def test_killed_real_model_build_keeps_its_embeddings_and_is_repaired(tmp_path, minilm):
    from index_build.settings import load_settings

    sources = tmp_path / "sources"
    write_corpus(sources, 4, seed=3)
    index = tmp_path / "index"
    db = index / "briefing.sqlite3"
    proc = start(sources, index, embedder="minilm", batch=2)
    assert wait_until(proc, lambda: (query(db, "SELECT count(*) FROM embeddings") or 0) > 0, timeout=180)
    assert kill(proc), "the build finished before it could be interrupted"
    kept = query(db, "SELECT count(*) FROM embeddings")
    assert kept and kept > 0

    settings = load_settings(environ={}, index_dir=index, sources_dir=sources, embedder="minilm")
    report = build_index(settings)
    expected = expected_chunk_ids(sources, settings)
    assert report.chunks == len(expected)
    assert report.embedded == report.chunks - kept  # nothing embedded before the crash was lost
    p = probe(index)
    assert p["embedder"] == "minilm:all-MiniLM-L6-v2"
    assert_healthy(p, expected)


def _default_settings():
    from index_build.settings import load_settings

    return load_settings(environ={})
