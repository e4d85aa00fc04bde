"""The record's SQLite schema, and opening it: WAL, a busy timeout, the tables created on
first write, and the one migration (the documents' provenance column, added later).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.errors import StoreError

__all__ = ["SCHEMA_VERSION", "connect", "has_provenance", "select_in"]

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY, content_hash TEXT NOT NULL, size INTEGER NOT NULL,
    doc_count INTEGER NOT NULL, indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, record_id TEXT, title TEXT NOT NULL,
    publisher TEXT NOT NULL, author TEXT NOT NULL, published TEXT, url TEXT NOT NULL,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, provenance TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, embed_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS chunk_tokens (chunk_id TEXT PRIMARY KEY, tokens TEXT NOT NULL);
"""
# SQLite's default limit on bound parameters is 999 (older builds): lists are read in parts.
_IN_BATCH = 500


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """The record at ``path``, ready for use; a file that is not a usable record is a one-line
    ``StoreError`` that says how to rebuild it."""
    try:
        if readonly:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        db.execute("PRAGMA busy_timeout=10000")
        if not readonly and not has_provenance(db):
            _add_provenance(db)
        return db
    except sqlite3.DatabaseError as e:
        raise StoreError(f"the index record {path} cannot be opened ({e}); run `briefing index --rebuild`") from None


def has_provenance(db: sqlite3.Connection) -> bool:
    return any(r[1] == "provenance" for r in db.execute("PRAGMA table_info(documents)"))


def _add_provenance(db: sqlite3.Connection) -> None:
    try:
        db.execute("ALTER TABLE documents ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}'")
    except sqlite3.OperationalError as e:
        if "duplicate column" not in str(e):  # else another writer added it first
            raise


def select_in(db: sqlite3.Connection, sql: str, values: list[str]) -> Iterator[Any]:
    """Rows of ``sql``, whose ``{}`` stands for the placeholders of an IN list, over ``values``
    in parts."""
    for i in range(0, len(values), _IN_BATCH):
        part = values[i: i + _IN_BATCH]
        yield from db.execute(sql.format(",".join("?" * len(part))), part)
