"""Shared builders for assistant tests: a seed index made with the fake embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_seed_index(base: Path, extra: dict[str, str] | None = None):
    """Index the seeds (plus ``extra`` files) with the fake embedder; return settings."""
    from index_build.build import build_index
    from index_build.core.settings import load_settings
    from tests.fakes import FakeEmbedder

    sources = base / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "sources").glob("*.txt")):
        shutil.copyfile(path, sources / path.name)
    for name, text in (extra or {}).items():
        (sources / name).write_text(text, encoding="utf-8")
    settings = load_settings(environ={}, index_dir=base / "index", sources_dir=sources,
                             embedder="tests.fakes:FakeEmbedder")
    build_index(settings, embedder=FakeEmbedder())
    return settings
