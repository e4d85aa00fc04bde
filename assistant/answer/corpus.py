"""The read side of an index: chunk table in memory, BM25 (persisted), Chroma, embedder.

Opened once per process and refreshed when the index generation changes (a rebuild).
The query embedder is the one that built the index: the profile is read from the index
and its name checked, so a question is never embedded into another model's space.

A loaded generation is a ``CorpusView`` (``view``) that is never modified: a refresh reads
the new generation into a new view aside (in one SQLite read transaction) and then swaps one
reference. A query takes ``corpus.snapshot()`` once and uses that view throughout, so a
rebuild finishing mid-question cannot hand it the new chunk table with the old BM25. The
corpus itself also reads as an ``IndexView`` (each attribute from the current generation), for
a caller that reads one thing.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from index_build.core.errors import BriefingError, IndexMismatchError
from index_build.core.models import Document
from index_build.core.settings import Settings
from index_build.embed import Embedder, make_embedder
from index_build.store.docstore import DocStore
from index_build.store.rows import DocumentSummary
from index_build.store.vectors import VectorStore

from ..models import Filters
from .view import CorpusView, IndexView, date_key, state_of

__all__ = ["Corpus", "CorpusView", "IndexView", "date_key"]

def _profile_of(embedder_name: str) -> str:
    if embedder_name.startswith("minilm:"):
        return "minilm"
    if embedder_name.startswith("static:"):
        return "static"
    return embedder_name


class Corpus:
    """The current generation of an index. Attribute reads (``ids``, ``bm25``, ``idf()``,
    ``document()`` …) go to the current ``CorpusView``; a query that makes several of them
    should take ``snapshot()`` once instead."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._lock = threading.Lock()  # one loader at a time
        self._embedder = embedder
        self._view: CorpusView | None = None
        self.load()

    def snapshot(self) -> CorpusView:
        """The current generation; it stays consistent however long the caller uses it."""
        if self._view is None:  # pragma: no cover - __init__ loads one or raises
            raise BriefingError(f"the index in {self.settings.index_dir} is not loaded")
        return self._view

    # -- IndexView: each read from the current generation (several reads: take snapshot()) -
    @property
    def embedder(self) -> Embedder:
        return self._view.embedder if self._view is not None else self._embedder  # type: ignore[return-value]

    @property
    def generation(self) -> int:
        return self._view.generation if self._view is not None else -1

    @property
    def ids(self) -> list[str]:
        return self.snapshot().ids

    @property
    def doc_ids(self) -> list[str]:
        return self.snapshot().doc_ids

    @property
    def texts(self) -> list[str]:
        return self.snapshot().texts

    @property
    def titles(self) -> list[str]:
        return self.snapshot().titles

    @property
    def sources(self) -> list[str]:
        return self.snapshot().sources

    @property
    def publishers(self) -> list[str]:
        return self.snapshot().publishers

    @property
    def published(self) -> list[str | None]:
        return self.snapshot().published

    @property
    def starts(self) -> np.ndarray:
        return self.snapshot().starts

    @property
    def ends(self) -> np.ndarray:
        return self.snapshot().ends

    @property
    def pos(self) -> dict[str, int]:
        return self.snapshot().pos

    @property
    def df(self) -> dict[str, int]:
        return self.snapshot().df

    @property
    def bm25(self) -> Any:
        return self.snapshot().bm25

    @property
    def vectors(self) -> VectorStore | None:
        return self.snapshot().vectors

    def idf(self, term: str) -> float:
        return self.snapshot().idf(term)

    def mask(self, filters: Filters) -> np.ndarray | None:
        return self.snapshot().mask(filters)

    def where(self, filters: Filters) -> dict[str, Any] | None:
        return self.snapshot().where(filters)

    def vectors_matrix(self) -> np.ndarray | None:
        return self.snapshot().vectors_matrix()

    def document(self, doc_id: str) -> Document | None:
        return self.snapshot().document(doc_id)

    def summaries(self) -> list[DocumentSummary]:
        return self.snapshot().summaries()

    # -- loading ------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            self._view = self._read(fresh=self._view is not None)

    def _read(self, fresh: bool = False) -> CorpusView:
        if not self.settings.db_path.is_file():
            raise BriefingError(
                f"no index in {self.settings.index_dir}; run `briefing index` to build one from sources/"
            )
        # One read transaction: meta and chunks of one generation.
        with DocStore(self.settings.db_path, readonly=True) as record, record.reading():
            meta = record.index_meta()
            rows = list(record.chunks_with_meta())
        if meta.embedder is None:
            raise BriefingError(f"the index in {self.settings.index_dir} is empty; run `briefing index`")
        if self._embedder is None or self._embedder.name != meta.embedder:
            profile = meta.profile or _profile_of(meta.embedder)
            self._embedder = make_embedder(profile, self.settings.embed_batch_size, self.settings.embed_runtime)
        if self._embedder.name != meta.embedder:
            raise IndexMismatchError(
                f"the index was built with {meta.embedder}, but the query embedder is "
                f"{self._embedder.name}; run `briefing index --rebuild`"
            )
        # A reload opens Chroma afresh: the rebuild may have been written by another process.
        return CorpusView(self.settings, self._embedder, meta, rows, fresh_vectors=fresh)

    def _stored_state(self) -> tuple[int, bool]:
        with DocStore(self.settings.db_path, readonly=True) as record:
            return state_of(record.index_meta())

    def _loaded_state(self) -> tuple[int, bool] | None:
        return self._view.state if self._view is not None else None

    def refresh(self) -> bool:
        """Reload if the index changed since it was loaded (a new generation, or Chroma
        finished being written). True when it did.

        The new generation is read aside and swapped in whole; queries holding the old view
        finish on it. Concurrent callers load it once."""
        if self._stored_state() == self._loaded_state():
            return False
        with self._lock:
            if self._stored_state() != self._loaded_state():
                self._view = self._read(fresh=True)
        return True
