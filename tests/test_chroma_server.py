"""Server mode: BRIEFING_CHROMA_URL points the index at a real `chroma run` on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from index_build.build import build_index, expected_meta
from index_build.errors import StoreError
from index_build.settings import load_settings
from index_build.vectors import make_vectors
from tests.conftest import FAKE, SEEDS, cli_env, run_briefing
from ui.cli import main

pytestmark = pytest.mark.integration

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing; it is installed with chromadb")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=cli_env())
    try:
        deadline = time.monotonic() + 60
        while not heartbeat(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
