"""Server mode: BRIEFING_CHROMA_URL points the index at a real `chroma run` on 127.0.0.1."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from index_build.build import build_index, expected_meta
from index_build.core.errors import StoreError
from index_build.core.settings import load_settings
from index_build.store.vectors import make_vectors
from tests.conftest import BRIEFING, FAKE, SEEDS, cli_env, run_briefing
from tests.served import free_port, stop_process
from ui.cli import main

pytestmark = pytest.mark.integration

CHROMA = Path(sys.executable).parent / "chroma"


def heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


class ChromaServer:
    """A `chroma run` on 127.0.0.1 that a test can kill and start again (same data, same port)."""

    def __init__(self, path: Path, port: int | None = None):
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = path.parent / f"{path.name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        if not CHROMA.exists():
            pytest.fail(f"{CHROMA} is missing; it is installed with chromadb")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=cli_env())
        deadline = time.monotonic() + timeout
        while not heartbeat(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as in a crash or an OOM kill."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_index_in_a_chroma_server(chroma_server, tmp_path, fake_embedder):
    settings = load_settings(environ={"BRIEFING_CHROMA_URL": chroma_server}, index_dir=tmp_path / "idx",
                             sources_dir=SEEDS, collection="server_build")
    report = build_index(settings, embedder=fake_embedder)
    assert (report.added, report.documents, report.chunks) == (2, 3, 11)

    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    assert vectors.count() == 11
    assert not (tmp_path / "idx" / "chroma").exists()  # nothing embedded on disk
    hits = vectors.query(fake_embedder.embed(["Haley slams Russia over report on North Korea work permits"])[0], 3)
    assert len(hits) == 3
    got = vectors.collection.get(ids=[hits[0][0]], include=["metadatas"])
    assert got["metadatas"][0]["title"] == "Haley slams Russia over report on North Korea work permits"

    again = build_index(settings, embedder=fake_embedder)
    assert (again.unchanged, again.embedded, again.repaired) == (2, 0, 0)


def test_lost_server_entries_are_restored_from_the_record(chroma_server, tmp_path, fake_embedder):
    settings = load_settings(environ={"BRIEFING_CHROMA_URL": chroma_server}, index_dir=tmp_path / "idx",
                             sources_dir=SEEDS, collection="server_repair")
    build_index(settings, embedder=fake_embedder)
    vectors = make_vectors(settings, expected_meta(settings, fake_embedder))
    vectors.delete(sorted(vectors.ids())[:3])
    report = build_index(settings, embedder=fake_embedder)
    assert report.repaired == 3
    assert vectors.count() == 11


def test_cli_with_a_chroma_server(chroma_server, tmp_path):
    env = {"BRIEFING_CHROMA_URL": chroma_server, "BRIEFING_COLLECTION": "server_cli"}
    runner = CliRunner()
    idx = str(tmp_path / "idx")
    result = runner.invoke(main, ["--index-dir", idx, "index", str(SEEDS), "--json", "--embedder", FAKE], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chunks"] == 11
    status = json.loads(runner.invoke(main, ["--index-dir", idx, "status", "--json"], env=env).stdout)
    assert status["store"] == chroma_server
    assert (status["documents"], status["chunks"]) == (3, 11)


def test_server_down_is_a_clear_error_naming_the_url(tmp_path, fake_embedder):
    url = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(environ={"BRIEFING_CHROMA_URL": url}, index_dir=tmp_path / "idx", sources_dir=SEEDS)
    with pytest.raises(StoreError) as e:
        build_index(settings, embedder=fake_embedder)
    assert url in str(e.value) and "chroma run" in str(e.value)

    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "idx"), "index", str(SEEDS), "--embedder", FAKE],
                                env={"BRIEFING_CHROMA_URL": url})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the Chroma server at " + url)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_server_down_from_the_installed_command(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    proc = run_briefing("--index-dir", tmp_path / "idx", "index", SEEDS, "--embedder", FAKE,
                        env=cli_env(BRIEFING_CHROMA_URL=url), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: the Chroma server at {url}") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_server_killed_mid_build_fails_cleanly_and_the_next_run_converges(tmp_path):
    """`chroma run` dies (SIGKILL) while `briefing index` is writing to it: the build stops
    with one line naming the server, the record keeps the whole build, and once the server
    is back on the same data and port the next run brings Chroma in line with the record."""
    from tests.fakes import FakeEmbedder
    from tests.index_build.test_crash_recovery import (
        Folder,
        assert_record_is_fresh,
        dirty_after,
        generation,
        record_state,
        wait_until,
    )
    from tests.index_probe import probe

    folder = Folder(tmp_path / "sources", random.Random(11))
    for i in range(60):
        folder.write(f"article_{i:03d}.txt")
    fresh = tmp_path / "fresh"
    build_index(load_settings(environ={}, index_dir=fresh, sources_dir=folder.root), embedder=FakeEmbedder())
    want = record_state(fresh / "briefing.sqlite3")

    server = ChromaServer(tmp_path / "chroma" / "db")
    server.start()
    try:
        for attempt in range(3):  # a build that finishes before the server is stopped is tried again
            collection = f"killed_server_{attempt}"
            env = cli_env(BRIEFING_CHROMA_URL=server.url, BRIEFING_COLLECTION=collection)
            index = tmp_path / f"index{attempt}"
            db = index / "briefing.sqlite3"
            args = [str(BRIEFING), "--index-dir", str(index), "index", str(folder.root), "--json", "--embedder", FAKE]
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                    cwd=tmp_path)
            # The record is committed and Chroma is being written: the server stops answering
            # (so the write is surely in flight), then dies.
            assert wait_until(proc, dirty_after(db, 0)), f"the build did not reach its Chroma phase: {proc.stderr}"
            server.proc.send_signal(signal.SIGSTOP)
            time.sleep(0.5)
            if proc.poll() is None:
                break
            server.proc.send_signal(signal.SIGCONT)
            assert proc.wait() == 0
            proc.communicate()
        else:
            pytest.fail("every build finished its Chroma writes before the server could be stopped")
        server.kill()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1
        assert "Traceback" not in err
        assert err.startswith(f"error: the Chroma server at {server.url} ") and err.count("\n") == 1, err
        assert "chroma run" in err
        assert out == ""
        # The record is intact: it holds the whole build and knows Chroma is behind.
        assert_record_is_fresh(db, want)
        assert record_state(db)["meta"]["chroma_dirty"] == "1"

        server.start()  # the same data directory, the same port
        again = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        report = json.loads(again.stdout)
        assert (report["added"], report["updated"], report["embedded"]) == (0, 0, 0)  # nothing redone
        assert report["chunks"] == len(want["chunks"])
        assert_record_is_fresh(db, want)
        assert generation(db) == 1
        p = probe(index, chroma_url=server.url, collection=collection)
        assert p["chunk_ids"] == p["chroma_ids"] == sorted(want["chunks"]), "Chroma and the record disagree"
        assert p["chroma_count"] == len(want["chunks"])
        assert p["wrong_vectors"] == [] and p["wrong_spans"] == [] and p["spans_ok"]
        assert p["probes_ok"] == p["probes"] > 0 and p["chroma_dirty"] == "0"
    finally:
        server.stop()
