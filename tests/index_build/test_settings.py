"""Settings come from defaults, then briefing.toml, then BRIEFING_* variables, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from index_build.core.errors import SettingsError
from index_build.core.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = load_settings(environ={})
    assert s == Settings()
    assert (s.chunk_tokens, s.chunk_overlap, s.embedder) == (200, 40, "minilm")
    assert s.index_dir == Path(".briefing") and s.sources_dir == Path("sources")
    assert s.db_path == Path(".briefing/briefing.sqlite3")
    assert s.store_label == "embedded:.briefing/chroma"


def test_settings_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        load_settings(environ={}).chunk_tokens = 5  # type: ignore[misc]


def test_file_then_environment_then_overrides(tmp_path):
    config = write(tmp_path / "b.toml", 'chunk_tokens = 120\nchunk_overlap = 20\nembedder = "static"\ntop_k = 9\n')
    env = {"BRIEFING_CHUNK_OVERLAP": "30", "BRIEFING_EMBEDDER": "minilm"}
    s = load_settings(config, environ=env, embedder="static", index_dir=None)
    assert s.chunk_tokens == 120  # from the file
    assert s.chunk_overlap == 30  # environment beats the file
    assert s.embedder == "static"  # an override beats the environment
    assert s.top_k == 9
    assert s.index_dir == Path(".briefing")  # None overrides are ignored (unset flags)


def test_briefing_table_in_the_file_is_read(tmp_path):
    config = write(tmp_path / "b.toml", "[briefing]\nchunk_tokens = 99\n")
    assert load_settings(config, environ={}).chunk_tokens == 99


def test_briefing_toml_in_the_working_directory_is_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "briefing.toml", "chunk_tokens = 77\n")
    assert load_settings(environ={}).chunk_tokens == 77


def test_briefing_config_variable_names_the_file(tmp_path):
    config = write(tmp_path / "elsewhere.toml", "max_source_mb = 2.5\n")
    assert load_settings(environ={"BRIEFING_CONFIG": str(config)}).max_source_mb == 2.5


def test_empty_environment_values_are_ignored():
    assert load_settings(environ={"BRIEFING_CHUNK_TOKENS": ""}).chunk_tokens == 200


def test_paths_expand_the_home_directory():
    s = load_settings(environ={"BRIEFING_INDEX_DIR": "~/idx"})
    assert s.index_dir == Path("~/idx").expanduser()


def test_chroma_url_switches_the_store_label():
    s = load_settings(environ={"BRIEFING_CHROMA_URL": "http://127.0.0.1:8123"})
    assert s.store_label == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"environ": {"BRIEFING_CHUNK_TOKENS": "lots"}}, "BRIEFING_CHUNK_TOKENS"),
        ({"environ": {"BRIEFING_MAX_SOURCE_MB": "big"}}, "max_source_mb"),
        ({"environ": {}, "chunk_tokens": "x"}, "chunk_tokens"),
        ({"environ": {}, "embedder": "gpt"}, "embedder"),
        ({"environ": {}, "chunk_tokens": 8}, "chunk_tokens"),
        ({"environ": {}, "chunk_overlap": 300}, "chunk_overlap"),
        ({"environ": {}, "chunk_overlap": -1}, "chunk_overlap"),
        ({"environ": {}, "max_source_mb": 0}, "max_source_mb"),
        ({"environ": {"BRIEFING_CHROMA_URL": "localhost:8000"}}, "BRIEFING_CHROMA_URL"),
        ({"environ": {}, "no_such_setting": 1}, "no_such_setting"),
    ],
)
def test_bad_values_name_the_setting(kwargs, named):
    with pytest.raises(SettingsError) as e:
        load_settings(**kwargs)
    assert named in str(e.value)


def test_bad_file_values_name_the_file_and_setting(tmp_path):
    config = write(tmp_path / "b.toml", 'chunk_tokens = "many"\n')
    with pytest.raises(SettingsError) as e:
        load_settings(config, environ={})
    assert str(config) in str(e.value) and "chunk_tokens" in str(e.value)


def test_unknown_key_in_the_file_is_an_error(tmp_path):
    config = write(tmp_path / "b.toml", "chunk_tokenz = 100\n")
    with pytest.raises(SettingsError, match="unknown setting 'chunk_tokenz'"):
        load_settings(config, environ={})


def test_invalid_toml_and_missing_file_are_errors(tmp_path):
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path / "b.toml", "chunk_tokens = = 1\n"), environ={})
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_plugin_embedders_are_allowed():
    assert load_settings(environ={}, embedder="tests.fakes:FakeEmbedder").embedder == "tests.fakes:FakeEmbedder"
