"""What is in an index, without loading a model."""

from __future__ import annotations

import json
from typing import Any

from .core.errors import BriefingError
from .core.settings import Settings
from .store.docstore import DocStore

__all__ = ["index_status"]


def index_status(settings: Settings) -> dict[str, Any]:
    """``{"documents","chunks","embedder","dimension","chunk_tokens","store", ...}``;
    ``skipped`` lists the files the last build could not index (``{"source","reason"}``)."""
    if not settings.db_path.is_file():
        raise BriefingError(
            f"no index in {settings.index_dir}; run `briefing index` to build one from sources/"
        )
    record = DocStore(settings.db_path, readonly=True)
    try:
        meta = record.meta()
        documents, chunks = record.counts()
        n_sources = len(record.sources())
    finally:
        record.close()
    return {
        "documents": documents,
        "chunks": chunks,
        "embedder": meta.get("embedder"),
        "dimension": int(meta.get("dimension", 0) or 0),
        "chunk_tokens": int(meta.get("chunk_tokens", 0) or 0),
        "store": settings.store_label,
        "sources": n_sources,
        "index_dir": str(settings.index_dir),
        "generation": int(meta.get("generation", 0) or 0),
        "skipped": _skipped(meta.get("last_skipped")),
    }


def _skipped(raw: str | None) -> list[dict[str, str]]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
