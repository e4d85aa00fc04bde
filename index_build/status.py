"""What is in an index, without loading a model."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .core.errors import BriefingError
from .core.models import Skipped
from .core.settings import Settings
from .store.docstore import DocStore

__all__ = ["IndexStatus", "index_status"]


@dataclass(frozen=True)
class IndexStatus:
    """What ``briefing status`` and the Sources tab show of an index."""

    documents: int
    chunks: int
    embedder: str | None
    dimension: int
    chunk_tokens: int
    store: str  # the Chroma server's URL, or "embedded:<path>"
    sources: int  # source files
    index_dir: str
    generation: int
    skipped: tuple[Skipped, ...]  # what the last build could not index

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "skipped": [s.as_json() for s in self.skipped]}


def index_status(settings: Settings) -> IndexStatus:
    if not settings.db_path.is_file():
        raise BriefingError(
            f"no index in {settings.index_dir}; run `briefing index` to build one from sources/"
        )
    with DocStore(settings.db_path, readonly=True) as record:
        meta = record.index_meta()
        skipped = record.last_skipped()
        documents, chunks = record.counts()
        n_sources = len(record.sources())
    return IndexStatus(documents=documents, chunks=chunks, embedder=meta.embedder, dimension=meta.dimension,
                       chunk_tokens=meta.chunk_tokens, store=settings.store_label, sources=n_sources,
                       index_dir=str(settings.index_dir), generation=meta.generation, skipped=skipped)
