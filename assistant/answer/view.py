"""One loaded generation of an index (``CorpusView``, never modified after it is built) and
``IndexView``, what the answer stages need of one: the chunk table in memory, BM25, Chroma,
the embedder, filters, documents.

A view is read in one SQLite read transaction (``assistant.answer.corpus.Corpus`` does that);
a query takes ``corpus.snapshot()`` once and uses that view throughout, so a rebuild finishing
mid-question cannot hand it the new chunk table with the old BM25.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np

from index_build.core import dates
from index_build.core.errors import BriefingError
from index_build.core.models import Document
from index_build.core.settings import Settings
from index_build.embed import Embedder
from index_build.store.docstore import DocStore
from index_build.store.lexical import build_lexical, chunk_tokens, load_lexical
from index_build.store.rows import ChunkRow, DocumentSummary, IndexMeta
from index_build.store.vectors import VectorStore

from ..models import Filters

__all__ = ["IndexView", "CorpusView", "date_key", "state_of"]


class IndexView(Protocol):
    """What the answer and memo stages read of an index: one generation's chunk table (row
    ``i`` of each list is chunk ``ids[i]``), its search structures and its documents."""

    @property
    def settings(self) -> Settings: ...

    @property
    def generation(self) -> int: ...

    @property
    def ids(self) -> list[str]: ...

    @property
    def doc_ids(self) -> list[str]: ...

    @property
    def texts(self) -> list[str]: ...

    @property
    def titles(self) -> list[str]: ...

    @property
    def sources(self) -> list[str]: ...

    @property
    def publishers(self) -> list[str]: ...

    @property
    def published(self) -> list[str | None]: ...

    @property
    def starts(self) -> np.ndarray: ...

    @property
    def ends(self) -> np.ndarray: ...

    @property
    def pos(self) -> dict[str, int]: ...  # chunk id → row

    @property
    def df(self) -> dict[str, int]: ...  # BM25 term → chunks holding it

    @property
    def bm25(self) -> Any: ...  # bm25s.BM25, or None for an empty index

    @property
    def vectors(self) -> VectorStore | None: ...

    @property
    def embedder(self) -> Embedder: ...

    def idf(self, term: str) -> float: ...

    def mask(self, filters: Filters) -> np.ndarray | None: ...

    def where(self, filters: Filters) -> dict[str, Any] | None: ...

    def vectors_matrix(self) -> np.ndarray | None: ...

    def document(self, doc_id: str) -> Document | None: ...

    def summaries(self) -> list[DocumentSummary]: ...


# Exact search within a narrow filter keeps every embedding in memory (107k × 256 static
# dimensions: 105 MB; MiniLM's 384: 157 MB); above this, Chroma's where clause is used.
MATRIX_LIMIT_MB = 512


def date_key(value: str | None, end: bool = False) -> int:
    """``index_build.core.dates.date_key``, with the error a filter's user reads."""
    try:
        return dates.date_key(value, end)
    except ValueError:
        raise BriefingError(f"{value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD") from None


def _distinct(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values (first-seen order) and, per row, the index of its value among them."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))
    return list(index), inverse


def state_of(meta: IndexMeta) -> tuple[int, bool]:
    """What a view depends on: the generation, and whether Chroma was still being written."""
    return meta.generation, meta.chroma_dirty


class CorpusView:
    """One generation of the index, as loaded. Built once, then only read (apart from its
    cache of documents, which is locked)."""

    def __init__(self, settings: Settings, embedder: Embedder, meta: IndexMeta, rows: list[ChunkRow],
                 fresh_vectors: bool = False):
        self.settings = settings
        self._embedder = embedder
        self.meta = meta
        self.generation = meta.generation
        self.state = state_of(meta)
        self.ids = [r.chunk_id for r in rows]
        self.doc_ids = [r.doc_id for r in rows]
        self.starts = np.array([r.start for r in rows], dtype=np.int64)
        self.ends = np.array([r.end for r in rows], dtype=np.int64)
        self.texts = [r.text for r in rows]
        self._embed_keys = [r.embed_key for r in rows]
        self._matrix: np.ndarray | None = None
        self._matrix_lock = threading.Lock()
        self.sources = [r.source for r in rows]
        self.titles = [r.title for r in rows]
        self.publishers = [r.publisher for r in rows]
        self.published = [r.published for r in rows]
        self.date_keys = np.array([date_key(p) for p in self.published], dtype=np.int64)
        self.date_ends = np.array([date_key(p, end=True) for p in self.published], dtype=np.int64)
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self._source_index = _distinct(self.sources)
        self._publisher_index = _distinct(self.publishers)
        self._rows_of: dict[str, list[int]] = {}
        for i, d in enumerate(self.doc_ids):
            self._rows_of.setdefault(d, []).append(i)
        self._docs: dict[str, Document] = {}
        self._docs_lock = threading.Lock()
        self.vectors = (VectorStore(settings, meta.build_settings(), create=False, fresh=fresh_vectors)
                        if self.ids else None)
        self._load_lexical()

    def _load_lexical(self) -> None:
        """BM25 over headline + passage: the build writes it per generation; built here (and
        saved) only when it is missing, e.g. after a build killed right after its commit."""
        self.bm25 = None
        self.df: dict[str, int] = {}
        if not self.ids:
            return
        index_dir = self.settings.index_dir
        lexical = load_lexical(index_dir, self.generation, len(self.ids))
        if lexical is None:
            with DocStore(self.settings.db_path, readonly=True) as record, record.reading():
                same = record.index_meta().generation == self.generation
                tokens = record.lexical_tokens(chunk_tokens) if same else None
            if tokens is None or len(tokens) != len(self.ids):  # the record moved on since this view was read
                tokens = [chunk_tokens(t, x) for t, x in zip(self.titles, self.texts)]
            lexical = build_lexical(index_dir, self.generation, tokens)
        self.bm25, self.df = lexical.bm25, lexical.df

    # -- queries ------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def snapshot(self) -> "CorpusView":
        return self

    def idf(self, term: str) -> float:
        n = max(1, len(self.ids))
        df = self.df.get(term, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        m = np.ones(len(self.ids), dtype=bool)
        # Tested once per distinct source / publisher, then spread to the chunks (a Python
        # test of every chunk took 250 ms per question at 107k chunks).
        if filters.sources:
            names, inverse = self._source_index
            m &= np.array([filters.keeps_source(s) for s in names], dtype=bool)[inverse]
        if filters.publishers:
            names, inverse = self._publisher_index
            m &= np.array([filters.keeps_publisher(p) for p in names], dtype=bool)[inverse]
        if filters.since:
            # A document dated only by year (or month) is in range when that period reaches it.
            m &= self.date_ends >= date_key(filters.since)
        if filters.until:
            m &= (self.date_keys <= date_key(filters.until, end=True)) & (self.date_keys > 0)
        return m

    def vectors_matrix(self) -> np.ndarray | None:
        """Every chunk's embedding (unit length) in row order, read from the record on first
        use; for exact search within a narrow filter. None when it would take more than
        ``MATRIX_LIMIT_MB`` or the record no longer holds them (a later build pruned them)."""
        if self._matrix is None and self.ids:
            dim = self.meta.dimension
            if dim <= 0 or len(self.ids) * dim * 4 > MATRIX_LIMIT_MB * 1024 * 1024:
                return None
            with self._matrix_lock:
                if self._matrix is None:
                    with DocStore(self.settings.db_path, readonly=True) as record:
                        try:
                            matrix = record.get_embeddings(self._embed_keys)
                        except KeyError:
                            return None
                    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
                    norms[norms == 0] = 1.0
                    self._matrix = (matrix / norms).astype(np.float32)
        return self._matrix

    def where(self, filters: Filters) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if filters.sources:
            exact = [s for s in filters.sources]
            clauses.append({"source": {"$in": exact}})
        if filters.publishers:
            wanted = {x.casefold() for x in filters.publishers}
            pubs = sorted(set(filters.publishers) | {p for p in set(self.publishers) if p.casefold() in wanted})
            clauses.append({"publisher": {"$in": pubs}})
        if filters.since:
            since = date_key(filters.since)
            year, month = since // 10000 * 10000, since // 100 * 100  # the same year / month, undated further
            clauses.append({"$or": [{"date_key": {"$gte": since}}, {"date_key": {"$eq": year}},
                                    {"date_key": {"$eq": month}}]})
        if filters.until:
            clauses.append({"date_key": {"$lte": date_key(filters.until, end=True)}})
            clauses.append({"date_key": {"$gt": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def document(self, doc_id: str) -> Document | None:
        """The document as this generation indexed it; None when it is not in the record,
        or when a later rebuild changed its text (this generation's offsets would point
        into other words)."""
        with self._docs_lock:
            if doc_id in self._docs:
                return self._docs[doc_id]
        with DocStore(self.settings.db_path, readonly=True) as record:
            doc = record.document(doc_id)
        if doc is None or not self._matches(doc):
            return None  # not cached: the document may come back, or a newer view has its new text
        with self._docs_lock:
            if len(self._docs) > 512:
                self._docs.clear()
            self._docs[doc_id] = doc
        return doc

    def _matches(self, doc: Document) -> bool:
        return all(doc.text[self.starts[i]:self.ends[i]] == self.texts[i] for i in self._rows_of.get(doc.doc_id, ()))

    def summaries(self) -> list[DocumentSummary]:
        """Every document of the record, without its text (the Sources table, the memo)."""
        with DocStore(self.settings.db_path, readonly=True) as record:
            return record.document_summaries()
