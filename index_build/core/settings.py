"""One settings object: defaults → ``briefing.toml`` → ``BRIEFING_*`` environment → flags.

pydantic-settings merges the sources in that order and coerces the values (a TOML source, an
environment source, the flags as init values). ``load_settings(**overrides)`` is the only
constructor the application uses; overrides set to ``None`` are ignored (unset CLI flags).
Every invalid value becomes one ``SettingsError`` line naming the setting and where it came
from. Loaded once, frozen, passed down; ``settings.replace(**changes)`` makes a checked copy.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from .errors import SettingsError

__all__ = ["Settings", "load_settings", "EMBEDDER_PROFILES", "EMBED_RUNTIMES"]

EMBEDDER_PROFILES = ("minilm", "static")
# How MiniLM's batches run (index_build.embed): "auto" measures and caches the fastest.
EMBED_RUNTIMES = ("auto", "torch", "onnx", "torch-bf16")
ENV_PREFIX = "BRIEFING_"

# The config file and environment of the load_settings call in progress (the sources are
# chosen by a classmethod, so they travel beside it rather than through it).
_CALL: ContextVar[tuple[Path | None, Mapping[str, str]]] = ContextVar("briefing_settings_call")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid", env_ignore_empty=True,
                                      validate_default=False)

    index_dir: Path = Path(".briefing")
    sources_dir: Path = Path("sources")
    chroma_url: str = ""  # empty: embedded PersistentClient under index_dir
    embedder: str = "minilm"  # "minilm", "static", or "module:attr" (a plugin factory)
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_source_mb: float = 64.0
    embed_batch_size: int = 64
    # MiniLM's batch runtime (EMBED_RUNTIMES); every process that embeds reads it, the build and the questions.
    embed_runtime: str = "auto"
    # How many passages to embed must wait before embedding starts alongside reading (0: read
    # every file first, then embed). See index_build.build.
    pipeline_chunks: int = 512
    collection: str = "briefing_chunks"
    # Assistant and server settings (read by later layers; defined here, once).
    top_k: int = 5
    llm: str = ""  # "", "openai:URL", "ollama:MODEL", "llamacpp:PATH"
    llm_model: str = ""
    # Extractive sentence selector: "combined" (the learned, calibrated one of
    # assistant/answer/compose.py; where it abstains, the hand-written one of extractive.py may still
    # answer: at least as good as either alone on every gold file, docs/BENCHMARKS.md), "learned" or "rules".
    answerer: str = "combined"

    @property
    def db_path(self) -> Path:
        return self.index_dir / "briefing.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def store_label(self) -> str:
        return self.chroma_url or f"embedded:{self.chroma_path}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``, checked like any other value."""
        return _checked(lambda: type(self).model_validate({**self.model_dump(), **changes}), changes, {}, None)

    @field_validator("index_dir", "sources_dir")
    @classmethod
    def _home(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("embed_runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        return value.strip().lower()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.embedder not in EMBEDDER_PROFILES and ":" not in self.embedder:
            raise ValueError(f"embedder = {self.embedder!r} is unknown; choose one of {', '.join(EMBEDDER_PROFILES)}")
        if self.answerer not in ("rules", "learned", "combined"):
            raise ValueError(f"answerer = {self.answerer!r} is unknown; choose combined, learned or rules")
        if self.embed_runtime not in EMBED_RUNTIMES:
            raise ValueError(f"BRIEFING_EMBED_RUNTIME = {self.embed_runtime!r} is unknown; "
                             f"choose one of {', '.join(EMBED_RUNTIMES)}")
        if self.chunk_tokens < 16:
            raise ValueError(f"chunk_tokens = {self.chunk_tokens} is too small; use at least 16")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ValueError("chunk_overlap must be at least 0 and smaller than chunk_tokens")
        if self.max_source_mb <= 0:
            raise ValueError("max_source_mb must be positive")
        if self.pipeline_chunks < 0:
            raise ValueError(f"BRIEFING_PIPELINE_CHUNKS = {self.pipeline_chunks} is not a count of passages; "
                             "use 0 or more")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ValueError(f"BRIEFING_CHROMA_URL = {self.chroma_url!r} must look like http://127.0.0.1:8000")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config, environ = _CALL.get((None, os.environ))
        return init_settings, _Environment(settings_cls, environ), _Toml(settings_cls, config)


class _Environment(EnvSettingsSource):
    """``BRIEFING_*`` variables of the given mapping (``os.environ`` unless a caller passes its own)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class _Toml(TomlConfigSettingsSource):
    """The settings file: top-level keys or a ``[briefing]`` table; unknown keys are errors."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = tomllib.loads(Path(file_path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise SettingsError(f"{file_path}: not valid TOML ({e})") from None
        table = data.get("briefing", data)
        unknown = sorted(set(table) - set(Settings.model_fields))
        if unknown:
            raise SettingsError(f"{file_path}: unknown setting {unknown[0]!r}")
        return dict(table)


def _checked(make: Any, overrides: Mapping[str, Any], environ: Mapping[str, str], config: Path | None) -> Settings:
    """``make()``, with pydantic's errors turned into one line naming the setting and its source."""
    try:
        settings: Settings = make()
        return settings
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        if first["type"] == "value_error":  # one of ours, from _consistent
            raise SettingsError(str(first["ctx"]["error"])) from None
        if first["type"] == "extra_forbidden":
            raise SettingsError(f"unknown setting {name!r}") from None
        env_name = f"{ENV_PREFIX}{name.upper()}"
        if name in overrides:
            origin = "command line"
        elif environ.get(env_name):
            origin = env_name
        elif config is not None and name in _Toml(Settings, config).toml_data:
            origin = str(config)
        else:
            origin = "default"
        raise SettingsError(f"{origin}: {name} = {first.get('input')!r} is not a valid value") from None


def load_settings(config: Path | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Build the settings in precedence order. ``config`` defaults to ``$BRIEFING_CONFIG``
    or ``./briefing.toml`` when it exists."""
    env = os.environ if environ is None else environ
    path = config or (Path(env["BRIEFING_CONFIG"]) if env.get("BRIEFING_CONFIG") else None)
    if path is None and Path("briefing.toml").is_file():
        path = Path("briefing.toml")
    if path is not None and not Path(path).is_file():
        raise SettingsError(f"{path}: settings file not found")
    given = {k: v for k, v in overrides.items() if v is not None}  # an unknown one: extra_forbidden below
    token = _CALL.set((path, env))
    try:
        return _checked(lambda: Settings(**given), given, env, path)
    finally:
        _CALL.reset(token)
