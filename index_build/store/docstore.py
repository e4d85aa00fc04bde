"""The record: documents, chunks, offsets and embeddings in SQLite (WAL, transactions).

Chroma is a derived index written from this record (see ``vectors.py``); when the two
disagree, Chroma is rebuilt from here without re-embedding. Embeddings are keyed by
(embedder, embedded text), so an unchanged passage is never embedded twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..core.errors import IndexMismatchError
from ..core.models import Chunk, Document, Skipped, sha256_hex
from .rows import ChunkRow, DocumentSummary, IndexMeta, skipped_from_json
from .schema import SCHEMA_VERSION, connect, has_provenance, select_in

__all__ = ["DocStore", "SCHEMA_VERSION", "embed_key"]

def embed_key(embedder: str, text: str) -> str:
    return sha256_hex(f"{embedder}\0{text}")[:40]


class DocStore:
    """One SQLite file under the index directory. Not shared between threads for
    writing; readers open their own connection (``check_same_thread=False`` + a lock in
    the caller)."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.db = connect(self.path, readonly)
        # An index from before metadata provenance was kept reads as "unknown" ({}).
        self._provenance_sql = "provenance" if has_provenance(self.db) else "'{}'"

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DocStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[DocStore]:
        """One read transaction: everything read inside sees one generation of the record."""
        self.db.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta"))

    def index_meta(self) -> IndexMeta:
        return IndexMeta.of(self.meta())

    def last_skipped(self) -> tuple[Skipped, ...]:
        """What the last build could not index (read only by ``status``: it can be thousands
        of files, so it is not part of ``index_meta``, which every question's refresh reads)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_skipped'").fetchone()
        return skipped_from_json(row[0] if row else None)

    def set_last_skipped(self, skipped: list[Skipped]) -> None:
        self.set_meta(last_skipped=json.dumps([s.as_json() for s in skipped], ensure_ascii=False))

    def set_meta(self, **values: object) -> None:
        self.set_meta_in(self.db, **values)

    @staticmethod
    def set_meta_in(db: sqlite3.Connection, **values: object) -> None:
        """``set_meta`` inside a transaction already open on ``db``."""
        db.executemany(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [(k, str(v)) for k, v in values.items()],
        )

    def check_or_init(self, expected: dict[str, object]) -> None:
        """Record the build settings on first use; later, refuse other settings."""
        current = self.meta()
        if "schema_version" not in current:
            self.set_meta(**expected)
            return
        wrong = [
            f"{k}={current.get(k)!r} (now {v!r})"
            for k, v in expected.items()
            if str(current.get(k)) != str(v)
        ]
        if wrong:
            raise IndexMismatchError(
                f"the index in {self.path.parent} was built with other settings: {', '.join(wrong)}; "
                "run `briefing index --rebuild` to rebuild it with the current ones"
            )

    def reset(self) -> None:
        """Empty the record. The generation counter survives and moves on: readers key what
        they cached (the assistant's BM25 files, a running server's chunk table) on it, and
        a rebuild restarting at 1 would look to them like the index they already have."""
        with self.transaction() as db:
            gen = int(dict(db.execute("SELECT key, value FROM meta")).get("generation", 0))
            for table in ("meta", "sources", "documents", "chunks", "embeddings", "chunk_tokens"):
                db.execute(f"DELETE FROM {table}")
            db.execute("INSERT INTO meta(key, value) VALUES('generation', ?)", (str(gen + 1),))

    # -- reads --------------------------------------------------------------------------
    def sources(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT source, content_hash FROM sources"))

    def counts(self) -> tuple[int, int]:
        docs = self.db.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return docs, chunks

    def chunk_ids_of_sources(self, sources: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for source in sources:
            out.update(
                r[0]
                for r in self.db.execute(
                    "SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE d.source = ?",
                    (source,),
                )
            )
        return out

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT chunk_id FROM chunks")}

    def _documents(self, where: str, args: tuple[str, ...] = ()) -> list[Document]:
        rows = self.db.execute(
            "SELECT doc_id, source, text, content_hash, title, publisher, author, published, url, record_id, "
            f"{self._provenance_sql} FROM documents {where}", args)
        return [Document(doc_id=r[0], source=r[1], text=r[2], content_hash=r[3], title=r[4], publisher=r[5],
                         author=r[6], published=r[7], url=r[8], record_id=r[9], provenance=json.loads(r[10]))
                for r in rows]

    def document(self, doc_id: str) -> Document | None:
        found = self._documents("WHERE doc_id = ?", (doc_id,))
        return found[0] if found else None

    def documents(self) -> list[Document]:
        return self._documents("ORDER BY source, record_id")

    def record_ids(self) -> dict[str, str | None]:
        """doc_id → the record id within its source (a JSONL line's "id", a story's number)."""
        return dict(self.db.execute("SELECT doc_id, record_id FROM documents"))

    def document_summaries(self) -> list[DocumentSummary]:
        rows = self.db.execute(
            "SELECT d.doc_id, d.source, d.title, d.publisher, d.author, d.published, length(d.text), "
            "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.doc_id), "
            "(SELECT s.indexed_at FROM sources s WHERE s.source = d.source) "
            "FROM documents d ORDER BY d.source, d.record_id"
        )
        return [DocumentSummary(*r) for r in rows]

    def chunks_with_meta(self, chunk_ids: Iterable[str] | None = None) -> Iterator[ChunkRow]:
        """A ``ChunkRow`` per chunk: every chunk in source order, or those of ``chunk_ids``."""
        sql = (
            'SELECT c.chunk_id, c.doc_id, c.start, c."end", c.text, c.embed_key, d.source, d.title, '
            "d.publisher, d.published FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
        )
        if chunk_ids is None:
            yield from map(ChunkRow._make, self.db.execute(sql + " ORDER BY d.source, c.doc_id, c.ordinal"))
            return
        yield from map(ChunkRow._make, select_in(self.db, sql + " WHERE c.chunk_id IN ({})", list(chunk_ids)))

    # -- embeddings ---------------------------------------------------------------------
    def missing_embeddings(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        have = {r[0] for r in select_in(self.db, "SELECT key FROM embeddings WHERE key IN ({})", wanted)}
        return {k for k in wanted if k not in have}

    def put_embeddings(self, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings(key, vector) VALUES(?, ?)",
                [(k, v.tobytes()) for k, v in zip(keys, vectors)],
            )

    def get_embeddings(self, keys: list[str]) -> np.ndarray:
        found: dict[str, bytes] = dict(select_in(self.db, "SELECT key, vector FROM embeddings WHERE key IN ({})", keys))
        return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys]) if keys else np.zeros((0, 0))

    def lexical_tokens(self, compute: Callable[[str | None, str], str]) -> list[str]:
        """BM25 tokens of every chunk, in ``chunks_with_meta`` order; chunks without stored tokens
        (an index from before they were stored) get ``compute(title, text)``."""
        has_table = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chunk_tokens'").fetchone()
        if not has_table:
            return [compute(r.title, r.text) for r in self.chunks_with_meta()]
        rows = self.db.execute(
            "SELECT t.tokens, CASE WHEN t.tokens IS NULL THEN d.title END, CASE WHEN t.tokens IS NULL THEN c.text END "
            "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id LEFT JOIN chunk_tokens t ON t.chunk_id = c.chunk_id "
            "ORDER BY d.source, c.doc_id, c.ordinal")
        return [tokens if tokens is not None else compute(title, text) for tokens, title, text in rows]

    def prune_tokens(self) -> int:
        cur = self.db.execute("DELETE FROM chunk_tokens WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")
        return cur.rowcount

    def prune_embeddings(self) -> int:
        cur = self.db.execute("DELETE FROM embeddings WHERE key NOT IN (SELECT embed_key FROM chunks)")
        return cur.rowcount

    # -- writes -------------------------------------------------------------------------
    def replace_source(
        self, db: sqlite3.Connection, source: str, content_hash: str, size: int,
        docs: list[Document], chunks: list[Chunk], keys: list[str], now: float,
        tokens: list[str] | None = None,
    ) -> None:
        """Inside a transaction: make ``source`` hold exactly ``docs`` and ``chunks``."""
        old_docs = [r[0] for r in db.execute("SELECT doc_id FROM documents WHERE source = ?", (source,))]
        new_doc_ids = {d.doc_id for d in docs}
        new_chunk_ids = {c.chunk_id for c in chunks}
        for doc_id in old_docs:
            stale = [
                r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))
                if r[0] not in new_chunk_ids
            ]
            db.executemany("DELETE FROM chunks WHERE chunk_id = ?", [(c,) for c in stale])
            if doc_id not in new_doc_ids:
                db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        db.executemany(
            "INSERT OR REPLACE INTO documents(doc_id, source, record_id, title, publisher, author, published, url, "
            "content_hash, text, provenance) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.source, d.record_id, d.title, d.publisher, d.author, d.published, d.url,
                 d.content_hash, d.text, json.dumps(d.provenance))
                for d in docs
            ],
        )
        db.executemany(
            'INSERT OR REPLACE INTO chunks(chunk_id, doc_id, ordinal, start, "end", text, embed_key) '
            "VALUES(?,?,?,?,?,?,?)",
            [(c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, k) for c, k in zip(chunks, keys)],
        )
        if tokens is not None:
            db.executemany("INSERT OR REPLACE INTO chunk_tokens(chunk_id, tokens) VALUES(?, ?)",
                           [(c.chunk_id, t) for c, t in zip(chunks, tokens)])
        db.execute(
            "INSERT OR REPLACE INTO sources(source, content_hash, size, doc_count, indexed_at) VALUES(?,?,?,?,?)",
            (source, content_hash, size, len(docs), now),
        )

    def remove_source(self, db: sqlite3.Connection, source: str) -> None:
        db.execute(
            "DELETE FROM chunks WHERE doc_id IN (SELECT doc_id FROM documents WHERE source = ?)", (source,)
        )
        db.execute("DELETE FROM documents WHERE source = ?", (source,))
        db.execute("DELETE FROM sources WHERE source = ?", (source,))

    def bump_generation(self, db: sqlite3.Connection) -> int:
        gen = int(dict(db.execute("SELECT key, value FROM meta")).get("generation", 0)) + 1
        db.execute(
            "INSERT INTO meta(key, value) VALUES('generation', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(gen),),
        )
        return gen
