"""The record's rows as they leave the store: typed, so no reader indexes a tuple or a dict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from ..core.models import Skipped

__all__ = ["ChunkRow", "DocumentSummary", "IndexMeta", "skipped_from_json"]


@dataclass(frozen=True)
class DocumentSummary:
    """One document as the Sources table and the memo list it: its fields without the text."""

    doc_id: str
    source: str
    title: str
    publisher: str
    author: str
    published: str | None
    characters: int
    chunks: int
    indexed_at: float | None  # when its source was last indexed (seconds since the epoch)


@dataclass(frozen=True)
class IndexMeta:
    """The record's ``meta`` table, typed: what the build recorded about itself."""

    embedder: str | None = None  # the embedder's name (None: nothing was ever indexed)
    profile: str | None = None  # how to load that embedder again (a profile or a plugin path)
    dimension: int = 0
    chunk_tokens: int = 0
    chunk_overlap: int = 0
    schema_version: int = 0
    generation: int = 0  # bumped by every commit that changes the record
    chroma_dirty: bool = False  # Chroma may disagree with the record (a build was killed while writing it)
    embeddings_pending: bool = False  # embeddings were stored that no committed chunk may refer to yet

    @classmethod
    def of(cls, meta: dict[str, str]) -> IndexMeta:
        return cls(embedder=meta.get("embedder"), profile=meta.get("profile") or None,
                   dimension=_int(meta.get("dimension")), chunk_tokens=_int(meta.get("chunk_tokens")),
                   chunk_overlap=_int(meta.get("chunk_overlap")), schema_version=_int(meta.get("schema_version")),
                   generation=_int(meta.get("generation")), chroma_dirty=meta.get("chroma_dirty") == "1",
                   embeddings_pending=meta.get("embeddings_pending") == "1")

    def build_settings(self) -> dict[str, object]:
        """What the build recorded about how it embedded and chunked: Chroma's collection
        must carry the same (``index_build.build.expected_meta``)."""
        return {"schema_version": self.schema_version, "embedder": self.embedder, "dimension": self.dimension,
                "chunk_tokens": self.chunk_tokens, "chunk_overlap": self.chunk_overlap}


def skipped_from_json(raw: str | None) -> tuple[Skipped, ...]:
    """The files a build could not index, as stored (a JSON list); () for anything else."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(s for s in map(Skipped.from_json, items if isinstance(items, list) else []) if s)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class ChunkRow(NamedTuple):
    """A chunk with its document's fields, as the build's vector sync and the corpus read it."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    embed_key: str
    source: str
    title: str
    publisher: str
    published: str | None
