"""`briefing index` and `briefing status` as a user runs them: output, JSON, errors, help."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
import threading

import pytest
from click.testing import CliRunner

from index_build.lock import IndexLock
from tests.conftest import BRIEFING, FAKE, article_text, cli_env, json_line, run_briefing
from ui.cli import main

INDEX_KEYS = {"added", "updated", "removed", "unchanged", "skipped", "documents", "chunks", "seconds"}
STATUS_KEYS = {"documents", "chunks", "embedder", "dimension", "chunk_tokens", "store"}


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args, env=None):
    return runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_one_line_error(result, *words):
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# -- index -----------------------------------------------------------------------------------
def test_index_json_summary(runner, index_dir, seed_sources):
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--embedder", FAKE)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert INDEX_KEYS <= set(report)
    assert {k: report[k] for k in INDEX_KEYS - {"seconds"}} == {
        "added": 2, "updated": 0, "removed": 0, "unchanged": 0, "skipped": [], "documents": 3, "chunks": 11}
    assert isinstance(report["seconds"], float) and 0 < report["seconds"] < 120
    assert result.stderr == ""  # quiet under --json

    again = json.loads(invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json",
                              "--embedder", FAKE).stdout)
    assert (again["added"], again["unchanged"], again["chunks"]) == (0, 2, 11)


def test_index_json_lists_skipped_files_with_reasons(runner, index_dir, seed_sources):
    (seed_sources / "empty.txt").write_bytes(b"")
    (seed_sources / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    report = json.loads(invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json",
                               "--embedder", FAKE).stdout)
    skipped = {s["source"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"empty.txt", "broken.pdf"}
    assert all(set(s) == {"source", "reason"} for s in report["skipped"])
    assert "is empty" in skipped["empty.txt"] and "PDF" in skipped["broken.pdf"]
    assert report["added"] == 2


def test_index_summary_for_people(runner, index_dir, seed_sources):
    (seed_sources / "empty.txt").write_bytes(b"")
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--embedder", FAKE)
    assert result.exit_code == 0
    assert "Indexed: 2 added, 0 updated, 0 removed, 0 unchanged, 1 skipped." in result.stdout
    assert "Index holds 3 documents, 11 chunks (11 newly embedded)" in result.stdout
    assert "skipped empty.txt: is empty; add text to it or remove it" in result.stderr


def test_index_defaults_to_the_sources_folder_in_the_working_directory(runner, index_dir, seed_sources,
                                                                        monkeypatch):
    monkeypatch.chdir(seed_sources.parent)
    result = invoke(runner, "--index-dir", index_dir, "index", "--json", "--embedder", FAKE)
    assert json.loads(result.stdout)["added"] == 2


def test_rebuild_flag_reindexes_everything(runner, index_dir, seed_sources):
    invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--embedder", FAKE)
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--rebuild",
                    "--embedder", FAKE)
    report = json.loads(result.stdout)
    assert (report["added"], report["unchanged"], report["embedded"]) == (2, 0, 11)


def test_embedder_change_is_an_error_naming_rebuild_and_rebuild_fixes_it(runner, index_dir, seed_sources):
    invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--embedder", FAKE)
    other = "tests.fakes:OtherFakeEmbedder"
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--embedder", other)
    assert_one_line_error(result, "briefing index --rebuild", "fake:hash-64")
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--rebuild",
                    "--embedder", other)
    assert result.exit_code == 0, result.output
    status = json.loads(invoke(runner, "--index-dir", index_dir, "status", "--json").stdout)
    assert (status["embedder"], status["dimension"]) == ("fake:hash-32", 32)


# -- status ----------------------------------------------------------------------------------
def test_status_json(runner, index_dir, seed_sources):
    invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--embedder", FAKE)
    result = invoke(runner, "--index-dir", index_dir, "status", "--json")
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    assert STATUS_KEYS <= set(status)
    assert {k: status[k] for k in STATUS_KEYS} == {
        "documents": 3, "chunks": 11, "embedder": "fake:hash-64", "dimension": 64, "chunk_tokens": 200,
        "store": f"embedded:{index_dir / 'chroma'}"}


def test_status_for_people(runner, index_dir, seed_sources):
    invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--json", "--embedder", FAKE)
    out = invoke(runner, "--index-dir", index_dir, "status").stdout
    assert f"Index {index_dir}: 3 documents from 2 sources, 11 chunks" in out
    assert "Embedder fake:hash-64 (64 dims), chunks of 200 tokens" in out


def test_index_dir_from_the_environment(runner, index_dir, seed_sources):
    env = {"BRIEFING_INDEX_DIR": str(index_dir)}
    invoke(runner, "index", seed_sources, "--json", "--embedder", FAKE, env=env)
    assert (index_dir / "briefing.sqlite3").is_file()
    assert json.loads(invoke(runner, "status", "--json", env=env).stdout)["chunks"] == 11


def test_index_dir_flag_beats_the_environment(runner, tmp_path, seed_sources):
    flag, env_dir = tmp_path / "from-flag", tmp_path / "from-env"
    invoke(runner, "--index-dir", flag, "index", seed_sources, "--json", "--embedder", FAKE,
           env={"BRIEFING_INDEX_DIR": str(env_dir)})
    assert (flag / "briefing.sqlite3").is_file() and not env_dir.exists()


def test_settings_file_option(runner, tmp_path, index_dir, seed_sources):
    config = tmp_path / "custom.toml"
    config.write_text(f'chunk_tokens = 100\nchunk_overlap = 20\nembedder = "{FAKE}"\n')
    invoke(runner, "--index-dir", index_dir, "--config", config, "index", seed_sources, "--json")
    status = json.loads(invoke(runner, "--index-dir", index_dir, "--config", config, "status", "--json").stdout)
    assert (status["chunk_tokens"], status["embedder"]) == (100, "fake:hash-64")
    assert status["chunks"] > 11


# -- errors ----------------------------------------------------------------------------------
def test_status_without_an_index_says_how_to_build_one(runner, index_dir):
    assert_one_line_error(invoke(runner, "--index-dir", index_dir, "status"), "no index in", "briefing index")


def test_missing_sources_folder(runner, index_dir, tmp_path):
    result = invoke(runner, "--index-dir", index_dir, "index", tmp_path / "nowhere", "--embedder", FAKE)
    assert_one_line_error(result, "nowhere", "sources folder not found")


@pytest.mark.parametrize(
    "args, env, words",
    [
        (["--embedder", "gpt"], {}, ["embedder", "gpt", "minilm"]),
        (["--embedder", "no.such.module:Thing"], {}, ["no.such.module:Thing", "cannot be loaded"]),
        ([], {"BRIEFING_CHUNK_TOKENS": "many"}, ["BRIEFING_CHUNK_TOKENS"]),
        ([], {"BRIEFING_CHROMA_URL": "localhost"}, ["BRIEFING_CHROMA_URL"]),
    ],
    ids=["unknown-profile", "missing-plugin", "bad-env-number", "bad-chroma-url"],
)
def test_bad_settings_are_one_line_errors(runner, index_dir, seed_sources, args, env, words):
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, *args, env=env)
    assert_one_line_error(result, *words)


def test_second_writer_gets_a_clear_error(runner, index_dir, seed_sources):
    with IndexLock(index_dir):
        result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--embedder", FAKE)
    assert_one_line_error(result, "another briefing process", "wait for it to finish")


def test_unexpected_failures_are_one_line_too(runner, index_dir, seed_sources, monkeypatch):
    import index_build.build

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(index_build.build, "build_index", boom)
    result = invoke(runner, "--index-dir", index_dir, "index", seed_sources, "--embedder", FAKE)
    assert_one_line_error(result, "unexpected RuntimeError: disk on fire", "BRIEFING_DEBUG=1")


# -- help ------------------------------------------------------------------------------------
def test_help_lists_the_commands_and_global_options(runner):
    out = invoke(runner, "--help").stdout
    for word in ("index", "status", "--index-dir", "BRIEFING_INDEX_DIR", "--config"):
        assert word in out


def test_index_help_describes_its_options(runner):
    out = invoke(runner, "index", "-h").stdout
    for word in ("SOURCES", "--rebuild", "--watch", "--json", "--embedder", "minilm", "static", "unchanged"):
        assert word in out


def test_status_help(runner):
    assert "--json" in invoke(runner, "status", "--help").stdout


# -- the installed command, in a subprocess --------------------------------------------------
@pytest.mark.integration
def test_installed_command_errors_are_one_line_without_traceback(tmp_path):
    proc = run_briefing("--index-dir", tmp_path / "none", "status", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: no index in ") and proc.stderr.count("\n") == 1
    proc = run_briefing("index", tmp_path / "nowhere", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "sources folder not found" in proc.stderr


def _run_with_terminal_stderr(args, cwd) -> tuple[int, str, str]:
    master, slave = pty.openpty()
    # A new pty is 0 columns wide; give it the size of an ordinary terminal window.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen([str(BRIEFING), *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                            env=cli_env(), cwd=cwd, text=True)
    os.close(slave)
    chunks: list[bytes] = []

    def pump():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump)
    reader.start()
    out, _ = proc.communicate(timeout=180)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.integration
def test_installed_command_draws_progress_on_a_terminal_and_prints_json_quietly(tmp_path, seed_sources):
    index = tmp_path / "idx"
    code, out, terminal = _run_with_terminal_stderr(
        ["--index-dir", index, "index", seed_sources, "--embedder", FAKE], tmp_path)
    assert code == 0
    assert "Embedding chunks" in terminal and "11/11" in terminal
    assert "Indexed: 2 added" in out

    (seed_sources / "late.txt").write_text(article_text(31))
    code, out, terminal = _run_with_terminal_stderr(
        ["--index-dir", index, "index", seed_sources, "--embedder", FAKE, "--json"], tmp_path)
    assert code == 0
    assert terminal.strip() == ""  # no bars under --json, even on a terminal
    report = json_line(out)
    assert INDEX_KEYS <= set(report)
    assert (report["added"], report["unchanged"], report["documents"]) == (1, 2, 4)

    status = run_briefing("status", "--json", env=cli_env(BRIEFING_INDEX_DIR=str(index)), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json_line(status.stdout)
    assert STATUS_KEYS <= set(info)
    assert (info["documents"], info["embedder"], info["dimension"]) == (4, "fake:hash-64", 64)
