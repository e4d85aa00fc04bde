"""The read side of an index: chunk table in memory, BM25 (persisted), Chroma, embedder.

Opened once per process and refreshed when the index generation changes (a rebuild).
The query embedder is the one that built the index: the profile is read from the index
and its name checked, so a question is never embedded into another model's space.

A loaded generation is a ``CorpusView`` that is never modified: a refresh reads the new
generation into a new view aside (in one SQLite read transaction) and then swaps one
reference. A query takes ``corpus.snapshot()`` once and uses that view throughout, so a
rebuild finishing mid-question cannot hand it the new chunk table with the old BM25.
"""

from __future__ import annotations

import threading

import numpy as np

from index_build.core import dates
from index_build.core.errors import BriefingError, IndexMismatchError
from index_build.core.models import Document
from index_build.core.settings import Settings
from index_build.embed import Embedder, make_embedder
from index_build.store.docstore import ChunkRow, DocStore, DocumentSummary, IndexMeta
from index_build.store.lexical import build_lexical, chunk_tokens, load_lexical
from index_build.store.vectors import VectorStore

from ..models import Filters

__all__ = ["Corpus", "CorpusView", "date_key"]

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


def _profile_of(embedder_name: str) -> str:
    if embedder_name.startswith("minilm:"):
        return "minilm"
    if embedder_name.startswith("static:"):
        return "static"
    return embedder_name


def _state_of(meta: IndexMeta) -> tuple[int, bool]:
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
        self.state = _state_of(meta)
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

    def where(self, filters: Filters) -> dict | None:
        clauses: list[dict] = []
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

    def __getattr__(self, name: str):
        view = self.__dict__.get("_view")
        if view is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(view, name)

    @property
    def embedder(self) -> Embedder:
        return self._view.embedder if self._view is not None else self._embedder  # type: ignore[return-value]

    @property
    def generation(self) -> int:
        return self._view.generation if self._view is not None else -1

    def snapshot(self) -> CorpusView:
        """The current generation; it stays consistent however long the caller uses it."""
        return self._view  # type: ignore[return-value]

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
            return _state_of(record.index_meta())

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
