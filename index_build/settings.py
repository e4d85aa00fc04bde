"""One settings object: defaults → ``briefing.toml`` → ``BRIEFING_*`` environment → flags.

Loaded once, frozen, passed down. ``load_settings(**overrides)`` is the only constructor
the application uses; overrides set to ``None`` are ignored (unset CLI flags).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import SettingsError

__all__ = ["Settings", "load_settings", "EMBEDDER_PROFILES"]

EMBEDDER_PROFILES = ("minilm", "static")


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path(".briefing")
    sources_dir: Path = Path("sources")
    chroma_url: str = ""  # empty: embedded PersistentClient under index_dir
    embedder: str = "minilm"  # "minilm", "static", or "module:attr" (a plugin factory)
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_source_mb: float = 64.0
    embed_batch_size: int = 64
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


_INT = {"chunk_tokens", "chunk_overlap", "embed_batch_size", "top_k"}
_FLOAT = {"max_source_mb"}
_PATH = {"index_dir", "sources_dir"}


def _coerce(name: str, value: object, origin: str) -> object:
    try:
        if name in _INT:
            return int(value)  # type: ignore[arg-type]
        if name in _FLOAT:
            return float(value)  # type: ignore[arg-type]
        if name in _PATH:
            return Path(str(value)).expanduser()
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{origin}: {name} = {value!r} is not a valid value") from None


def _validate(s: Settings) -> Settings:
    if s.embedder not in EMBEDDER_PROFILES and ":" not in s.embedder:
        raise SettingsError(
            f"embedder = {s.embedder!r} is unknown; choose one of {', '.join(EMBEDDER_PROFILES)}"
        )
    if s.answerer not in ("rules", "learned", "combined"):
        raise SettingsError(f"answerer = {s.answerer!r} is unknown; choose combined, learned or rules")
    if s.chunk_tokens < 16:
        raise SettingsError(f"chunk_tokens = {s.chunk_tokens} is too small; use at least 16")
    if not 0 <= s.chunk_overlap < s.chunk_tokens:
        raise SettingsError("chunk_overlap must be at least 0 and smaller than chunk_tokens")
    if s.max_source_mb <= 0:
        raise SettingsError("max_source_mb must be positive")
    if s.chroma_url and not s.chroma_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"BRIEFING_CHROMA_URL = {s.chroma_url!r} must look like http://127.0.0.1:8000"
        )
    return s


def load_settings(config: Path | None = None, environ: dict | None = None, **overrides) -> Settings:
    """Build the settings in precedence order. ``config`` defaults to ``$BRIEFING_CONFIG``
    or ``./briefing.toml`` when it exists."""
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Settings)}
    values: dict[str, object] = {}

    path = config or (Path(env["BRIEFING_CONFIG"]) if env.get("BRIEFING_CONFIG") else None)
    if path is None and Path("briefing.toml").is_file():
        path = Path("briefing.toml")
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"{path}: settings file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise SettingsError(f"{path}: not valid TOML ({e})") from None
        data = data.get("briefing", data)
        for key, value in data.items():
            if key not in names:
                raise SettingsError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, value, str(path))

    for name in names:
        raw = env.get(f"BRIEFING_{name.upper()}")
        if raw not in (None, ""):
            values[name] = _coerce(name, raw, f"BRIEFING_{name.upper()}")

    for key, value in overrides.items():
        if value is None:
            continue
        if key not in names:
            raise SettingsError(f"unknown setting {key!r}")
        values[key] = _coerce(key, value, "command line")

    return _validate(replace(Settings(), **values))
