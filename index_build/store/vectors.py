"""The Chroma side: a derived vector index, written from the SQLite record.

``make_vectors(settings)`` chooses the embedded ``PersistentClient`` under the index
directory, or a Chroma server when ``BRIEFING_CHROMA_URL`` is set. Embeddings are always
passed explicitly (``query_texts`` would make Chroma download a model).
"""

from __future__ import annotations

import shutil
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..core.errors import IndexMismatchError, StoreError
from ..core.runtime import offline
from ..core.settings import Settings

__all__ = ["VectorStore", "make_vectors"]

_CHROMA_ERRORS: tuple[type[BaseException], ...] = (Exception,)  # narrowed below when possible


def _chroma_errors() -> tuple[type[BaseException], ...]:
    import chromadb.errors as ce

    errors: list[type[BaseException]] = [ce.ChromaError, ValueError, RuntimeError, OSError, ConnectionError]
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


class VectorStore:
    """One Chroma collection. ``expected`` is the build metadata it must carry."""

    def __init__(self, settings: Settings, expected: dict[str, object], create: bool = True,
                 check: bool = True, fresh: bool = False):
        offline()  # Chroma's telemetry off before it is imported
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        self.expected = {k: (v if isinstance(v, (int, float)) else str(v)) for k, v in expected.items()}
        self.errors = _chroma_errors()
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                self.client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1", port=url.port or 8000,
                    ssl=url.scheme == "https", settings=chroma_settings,
                )
                self.client.heartbeat()
            else:
                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                if fresh:
                    _forget_cached_chroma(str(settings.chroma_path))
                self.client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
        except self.errors as e:
            raise StoreError(self._where(f"cannot be opened ({type(e).__name__}: {e})")) from None
        self.collection: Any = None
        self._open(create, check)

    def _where(self, what: str) -> str:
        if self.settings.chroma_url:
            return (
                f"the Chroma server at {self.settings.chroma_url} {what}; check that it is running "
                "(`chroma run --path DIR --host 127.0.0.1 --port N`) or unset BRIEFING_CHROMA_URL"
            )
        return f"the vector index in {self.settings.chroma_path} {what}; run `briefing index --rebuild`"

    def _open(self, create: bool, check: bool = True) -> None:
        name = self.settings.collection
        try:
            if create:
                self.collection = self.client.get_or_create_collection(
                    name, metadata={**self.expected, "hnsw:space": "cosine"}
                )
            else:
                self.collection = self.client.get_collection(name)
        except self.errors as e:
            raise StoreError(self._where(f"has no usable collection {name!r} ({e})")) from None
        meta = self.collection.metadata or {}
        wrong = [
            f"{k}={meta.get(k)!r} (now {v!r})" for k, v in self.expected.items() if str(meta.get(k)) != str(v)
        ]
        if wrong and check:
            raise IndexMismatchError(
                f"the Chroma collection {name!r} was built with other settings: {', '.join(wrong)}; "
                "run `briefing index --rebuild`"
            )

    def reset(self) -> None:
        """Drop and recreate the collection (used by ``--rebuild`` and repair)."""
        try:
            try:
                self.client.delete_collection(self.settings.collection)
            except self.errors:
                pass
            self._open(create=True)
        except StoreError:
            if self.settings.chroma_url:
                raise
            # An embedded index too damaged to reset: remove the directory and start again.
            shutil.rmtree(self.settings.chroma_path, ignore_errors=True)
            self.__init__(self.settings, self.expected, create=True)  # type: ignore[misc]

    def count(self) -> int:
        try:
            return int(self.collection.count())
        except self.errors as e:
            raise StoreError(self._where(f"cannot be counted ({e})")) from None

    def ids(self, page: int = 5000) -> set[str]:
        out: set[str] = set()
        offset = 0
        try:
            while True:
                got = self.collection.get(include=[], limit=page, offset=offset)
                out.update(got["ids"])
                if len(got["ids"]) < page:
                    return out
                offset += page
        except self.errors as e:
            raise StoreError(self._where(f"cannot be read ({e})")) from None

    def max_batch(self) -> int:
        errors: tuple[type[BaseException], ...] = (AttributeError, *self.errors)
        try:
            return max(1, min(4000, int(self.client.get_max_batch_size())))
        except errors:
            return 1000

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Vectors and metadata only: the passage text lives in the record. Chroma indexes any
        document it is given for full-text search, which took half of its write time
        (10k chunks: 20.3 s CPU with the texts, 9.4 s without) for a search we never use."""
        step = self.max_batch()
        try:
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=ids[i: i + step],
                    embeddings=np.asarray(vectors[i: i + step], dtype=np.float32),
                    metadatas=metadatas[i: i + step],
                )
        except self.errors as e:
            raise StoreError(self._where(f"refused a write ({type(e).__name__}: {e})")) from None

    def delete(self, ids: list[str]) -> None:
        step = self.max_batch()
        try:
            for i in range(0, len(ids), step):
                self.collection.delete(ids=ids[i: i + step])
        except self.errors as e:
            raise StoreError(self._where(f"refused a delete ({e})")) from None

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine distance) of the ``n`` nearest chunks."""
        try:
            res = self.collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=max(1, n),
                where=where or None, include=["distances"],
            )
        except self.errors as e:
            raise StoreError(self._where(f"cannot be queried ({e})")) from None
        return list(zip(res["ids"][0], res["distances"][0]))


def _forget_cached_chroma(path: str) -> None:
    """Make the next client for ``path`` open the directory again.

    chromadb keeps one instance per directory per process and never re-reads what another
    process (a `briefing index` run next to `briefing serve`) wrote since. Clients already
    open keep their old instance, so queries running on it finish undisturbed."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        with SharedSystemClient._refcount_lock:
            SharedSystemClient._identifier_to_system.pop(path, None)
            SharedSystemClient._identifier_to_refcount.pop(path, None)
    except (ImportError, AttributeError):  # another chromadb layout: the cached instance stays
        pass


def make_vectors(settings: Settings, expected: dict[str, object], create: bool = True,
                 check: bool = True) -> VectorStore:
    """``check=False`` opens a collection built with other settings (only to reset it)."""
    return VectorStore(settings, expected, create=create, check=check)
