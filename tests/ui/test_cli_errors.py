"""The command line's contract for options and mistakes (issue 14): `--index-dir` / `--config`
before or after the command word; every usage error one `error:` line with exit status 1;
empty questions, impossible dates and unknown sources refused; a closed pipe a quiet end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types

import pytest
from click.testing import CliRunner

from tests.conftest import BRIEFING, FAKE, SEED_001, SEEDS, cli_env, run_briefing
from ui.cli import main

QUESTION = "What did Ri Yong Ho demand?"
TOPIC = "North Korea sanctions"
COMMANDS = ("index", "status", "ask", "eval", "serve", "memo", "verify")


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_one_line_error(result, *words) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small index of the seed articles (fake embedder), a saved answer and a gold file."""
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(SEEDS, root / "sources", ignore=shutil.ignore_patterns("*.jsonl*"))
    idx = root / "index"
    result = invoke("--index-dir", idx, "index", root / "sources", "--json", "--embedder", FAKE)
    assert result.exit_code == 0, result.output
    answer = invoke("--index-dir", idx, "ask", QUESTION, "--json")
    assert answer.exit_code == 0, answer.output
    (root / "answer.json").write_text(answer.stdout)
    (root / "gold.jsonl").write_text(json.dumps(
        {"question": QUESTION, "answerable": True, "evidence": ["simultaneous actions"]}) + "\n")
    return root


# -- 1. --index-dir and --config after the command word ---------------------------------------
def _args(command: str, root) -> list:
    return {"status": ["status", "--json"], "ask": ["ask", QUESTION, "--json"], "memo": ["memo", TOPIC, "--json"],
            "verify": ["verify", root / "answer.json"], "eval": ["eval", root / "gold.jsonl", "--json"]}[command]


@pytest.mark.parametrize("command", ["status", "ask", "memo", "verify", "eval"])
def test_index_dir_after_the_command_word_beats_the_one_before(built, tmp_path, command):
    result = invoke("--index-dir", tmp_path / "elsewhere", *_args(command, built), "--index-dir", built / "index")
    assert result.exit_code == 0, result.output
    # and the one after the word is the one used: an empty folder there has no index
    result = invoke("--index-dir", built / "index", *_args(command, built), "--index-dir", tmp_path / "empty")
    assert_one_line_error(result, "no index in", "empty")


def test_index_takes_index_dir_and_config_after_the_command_word(tmp_path, seed_sources):
    config = tmp_path / "custom.toml"
    config.write_text(f'chunk_tokens = 100\nchunk_overlap = 20\nembedder = "{FAKE}"\n')
    before, after = tmp_path / "before", tmp_path / "after"
    result = invoke("--index-dir", before, "index", seed_sources, "--json", "--index-dir", after, "--config", config)
    assert result.exit_code == 0, result.output
    assert (after / "briefing.sqlite3").is_file() and not before.exists()
    status = json.loads(invoke("status", "--json", "--config", config, "--index-dir", after).stdout)
    assert (status["chunk_tokens"], status["embedder"]) == (100, "fake:hash-64")


def test_serve_takes_index_dir_after_the_command_word(tmp_path, monkeypatch):
    seen = {}
    fake_web = types.ModuleType("ui.web")
    fake_web.serve = lambda settings, **kw: seen.update(index_dir=settings.index_dir, port=kw["port"])
    monkeypatch.setitem(sys.modules, "ui.web", fake_web)
    result = invoke("serve", "--port", 7999, "--index-dir", tmp_path / "idx")
    assert result.exit_code == 0, result.output
    assert seen == {"index_dir": tmp_path / "idx", "port": 7999}


def test_every_command_lists_the_global_options_in_its_help():
    for command in COMMANDS:
        out = invoke(command, "--help").stdout
        assert "--index-dir" in out and "--config" in out, command


# -- 2. usage errors: one line, exit status 1 -------------------------------------------------
BAD_OPTION = [([command, "--bogus"], ["no such option", "--bogus", f"briefing {command} --help"])
              for command in COMMANDS]
MISSING_ARGUMENT = [([command], ["missing argument", name, f"briefing {command} --help"])
                    for command, name in (("ask", "QUESTION"), ("memo", "TOPIC"), ("eval", "FILE"),
                                          ("verify", "FILE"))]
BAD_VALUE = [
    (["ask", QUESTION, "--top-k", "0"], ["--top-k", "0 is not in the range"]),
    (["ask", QUESTION, "--history", "nofile.json"], ["--history", "nofile.json", "does not exist"]),
    (["eval", "nofile.jsonl"], ["FILE", "nofile.jsonl", "does not exist"]),
    (["verify", "nofile.md"], ["FILE", "nofile.md", "does not exist"]),
    (["serve", "--port", "0"], ["--port"]),
    (["status", "--index-dir"], ["--index-dir", "requires an argument"]),
    (["ask", QUESTION, "extra"], ["unexpected extra argument", "briefing ask --help"]),
    (["nosuch"], ["no such command", "nosuch", "briefing --help"]),
    (["--bogus", "status"], ["no such option", "--bogus", "briefing --help"]),
]


USAGE_ERRORS = BAD_OPTION + MISSING_ARGUMENT + BAD_VALUE


@pytest.mark.parametrize("args, words", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_and_exit_1(tmp_path, args, words):
    assert_one_line_error(invoke(*args), *words)


def test_help_and_version_still_exit_0():
    for args in (["--help"], ["-h"], ["--version"], *([c, "--help"] for c in COMMANDS)):
        result = invoke(*args)
        assert result.exit_code == 0 and result.stdout and result.stderr == "", args


@pytest.mark.integration
def test_installed_command_usage_error_is_one_line(tmp_path):
    proc = run_briefing("ask", "--top-k", "0", QUESTION, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("error: invalid value for '--top-k'") and proc.stderr.count("\n") == 1


# -- 3. empty question or topic ---------------------------------------------------------------
@pytest.mark.parametrize("args, what", [(["ask", ""], "question"), (["ask", "  \t "], "question"),
                                        (["ask", "", "--json"], "question"), (["memo", ""], "topic"),
                                        (["memo", "   ", "-o", "memo.md"], "topic")])
def test_empty_question_or_topic_is_an_error(built, args, what):
    assert_one_line_error(invoke("--index-dir", built / "index", *args), f"the {what} is empty")


# -- 4. impossible dates ----------------------------------------------------------------------
@pytest.mark.parametrize("command", [["ask", QUESTION], ["memo", TOPIC]], ids=["ask", "memo"])
@pytest.mark.parametrize("option, value", [("--since", "2019-13-45"), ("--until", "2019-02-30"),
                                           ("--since", "2019-00"), ("--until", "19-01-01"),
                                           ("--since", "yesterday"), ("--until", "2019-1-1x")])
def test_impossible_dates_are_refused(built, command, option, value):
    result = invoke("--index-dir", built / "index", *command, option, value)
    assert_one_line_error(result, option, value, "YYYY, YYYY-MM or YYYY-MM-DD")


@pytest.mark.parametrize("dates", [["--since", "2018"], ["--until", "2019-12"], ["--since", "2016-02-29"],
                                   ["--since", "2018-01", "--until", "2019-12-31"]])
def test_partial_and_real_dates_are_accepted(built, dates):
    result = invoke("--index-dir", built / "index", "ask", QUESTION, "--json", *dates)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["question"] == QUESTION


@pytest.mark.parametrize("command", [["ask", QUESTION], ["memo", TOPIC]], ids=["ask", "memo"])
@pytest.mark.parametrize("since, until", [("2019", "2018-12-31"), ("2019-03", "2019-02"), ("2019-03-02", "2019-03-01")])
def test_since_after_until_is_refused(built, command, since, until):
    """No date can lie in such a range: said in one line, as the web page does."""
    result = invoke("--index-dir", built / "index", *command, "--since", since, "--until", until)
    assert_one_line_error(result, f"--since {since} is after --until {until}", "nothing can match")


@pytest.mark.parametrize("since, until", [("2019", "2019"), ("2019-03", "2019"), ("2018-12-31", "2019-01")])
def test_a_range_that_ends_where_it_starts_is_accepted(built, since, until):
    result = invoke("--index-dir", built / "index", "ask", QUESTION, "--json", "--since", since, "--until", until)
    assert result.exit_code == 0, result.output


# -- 5. --source that matches nothing ---------------------------------------------------------
@pytest.mark.parametrize("command", [["ask", QUESTION], ["memo", TOPIC]], ids=["ask", "memo"])
def test_unknown_source_is_an_error_with_close_names(built, command):
    idx = built / "index"
    typo = SEED_001[:-1]
    line = assert_one_line_error(invoke("--index-dir", idx, *command, "--source", typo),
                                 "no indexed source matches", typo, "did you mean", SEED_001)
    assert line.count(".txt") <= 1 + 3  # the value and at most three names
    assert_one_line_error(invoke("--index-dir", idx, *command, "--source", SEED_001, "--source", "nosuch.txt"),
                          "no indexed source matches", "nosuch.txt")


def test_known_source_is_still_accepted(built):
    result = invoke("--index-dir", built / "index", "ask", QUESTION, "--json", "--source", SEED_001)
    assert result.exit_code == 0, result.output
    assert {c["source"] for c in json.loads(result.stdout)["citations"]} <= {SEED_001}


# -- 6. a closed pipe -------------------------------------------------------------------------
@pytest.mark.integration
def test_closed_pipe_ends_quietly(tmp_path, seed_sources):
    # 2,000 skipped files: `status` lists them all, far more than a pipe holds, so it is
    # still writing when the reader goes away (as `briefing status | head -1` does).
    for n in range(2000):
        (seed_sources / f"empty-file-number-{n:05d}-with-a-long-name.txt").write_bytes(b"")
    idx = tmp_path / "idx"
    assert invoke("--index-dir", idx, "index", seed_sources, "--json", "--embedder", FAKE).exit_code == 0
    proc = subprocess.Popen([str(BRIEFING), "status", "--index-dir", str(idx)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env(), cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    assert first.startswith(b"Index ")
    assert err == "", err
    assert code in (0, 141)
