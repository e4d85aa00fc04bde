"""The incremental build: sources folder → record (SQLite) → Chroma.

A run diffs the sources folder against the record by content hash. New and changed sources
are read, cleaned and chunked; only passages whose embedding is not yet in the record are
embedded (in batches, each committed at once, so a killed run keeps its work). Embedding runs
on a worker thread while the next files are read (once ``$BRIEFING_PIPELINE_CHUNKS``, default
512, passages wait; a smaller build reads everything first): the same batches in the same
order as one after the other, and the same commits in the same order. One SQLite
transaction then makes the record match the folder, and Chroma is brought in line:
new chunks upserted first, stale ones deleted after. A ``chroma_dirty`` mark is set before
Chroma is touched and cleared after; a run that finds it set (or counts that disagree)
reconciles Chroma's id set with the record, re-using stored embeddings.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chunk import chunk_document
from .core.dates import date_key
from .core.errors import SourceError
from .core.models import Chunk, Document, Skipped
from .core.settings import Settings
from .embed import Embedder, make_embedder
from .lock import IndexLock
from .read import SUPPORTED_SUFFIXES, read_source, suffix_of
from .store.docstore import SCHEMA_VERSION, DocStore, embed_key
from .store.lexical import build_lexical, chunk_tokens, lexical_stamp_matches
from .store.vectors import VectorStore, make_vectors

__all__ = ["BuildReport", "build_index", "scan_sources", "expected_meta", "open_index", "chunk_metadata",
           "reconcile", "Progress"]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class BuildReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    repaired: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "skipped": [x.as_json() for x in self.skipped], "documents": self.documents,
            "chunks": self.chunks, "seconds": round(self.seconds, 3),
            "embedded": self.embedded, "repaired": self.repaired, "warnings": self.warnings,
        }


def expected_meta(settings: Settings, embedder: Embedder) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "embedder": embedder.name,
        "dimension": int(embedder.dimension),
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
    }


def _date_key(published: str | None) -> int:
    """``date_key`` for Chroma's range filters; 0 for no date (or one a reader let through
    that is not a date: a filter never matches it)."""
    try:
        return date_key(published)
    except ValueError:
        return 0


def chunk_metadata(doc_id: str, start: int, end: int, source: str, title: str, publisher: str,
                   published: str | None) -> dict:
    return {
        "doc_id": doc_id, "source": source, "title": title or "", "publisher": publisher or "",
        "published": published or "", "date_key": _date_key(published), "start": start, "end": end,
    }


def _hash_file(path: Path) -> tuple[str, int]:
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
    return digest.hexdigest(), path.stat().st_size


def scan_sources(root: Path, report: BuildReport) -> list[Path]:
    """Supported files under ``root``. Hidden files are ignored; symlinks that lead out of
    the folder, loop or dangle are reported and not followed; pipes, sockets and devices are
    reported and never opened (reading a pipe waits forever); other types are reported as
    skipped."""
    root_real = root.resolve()
    found: list[Path] = []

    def skip(source: str, reason: str) -> None:
        report.skipped.append(Skipped(source, reason))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except FileNotFoundError:
                    skip(rel, "is a link to a file that does not exist; not followed")
                    continue
                except (RuntimeError, OSError):  # a loop: RuntimeError before Python 3.13, OSError after
                    skip(rel, "is a link that loops back on itself; not followed")
                    continue
                if not target.is_relative_to(root_real):
                    skip(rel, "is a link to a file outside the sources folder; not followed")
                    continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError as e:
                skip(rel, f"cannot be read ({e.strerror or e}); check the file")
                continue
            if not regular:
                skip(rel, "is not a regular file (a pipe, socket or device); not read")
                continue
            if suffix_of(name) not in SUPPORTED_SUFFIXES:
                skip(rel, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
                continue
            found.append(path)
    return found


def reconcile(record: DocStore, vectors: VectorStore, full: bool = False) -> int:
    """Make Chroma's id set equal the record's. Returns how many ids were fixed."""
    dirty = record.index_meta().chroma_dirty
    _, n_chunks = record.counts()
    if not (full or dirty or vectors.count() != n_chunks):
        return 0
    want = record.all_chunk_ids()
    have = vectors.ids()
    extra = sorted(have - want)
    missing = sorted(want - have)
    _sync(record, vectors, missing, extra)
    record.set_meta(chroma_dirty=0)
    return len(extra) + len(missing)


def _sync(record: DocStore, vectors: VectorStore, upsert_ids: list[str], delete_ids: list[str]) -> None:
    """Upsert first, then delete: a document is never missing mid-update."""
    step = 2000
    for i in range(0, len(upsert_ids), step):
        rows = list(record.chunks_with_meta(upsert_ids[i: i + step]))
        if not rows:
            continue
        vecs = record.get_embeddings([r.embed_key for r in rows])
        vectors.upsert(
            [r.chunk_id for r in rows], vecs,
            [chunk_metadata(r.doc_id, r.start, r.end, r.source, r.title, r.publisher, r.published) for r in rows],
        )
    if delete_ids:
        vectors.delete(delete_ids)


def open_index(settings: Settings, embedder: Embedder, rebuild: bool = False) -> tuple[DocStore, VectorStore]:
    record = DocStore(settings.db_path)
    expected = expected_meta(settings, embedder)
    if rebuild:
        record.reset()
    record.check_or_init(expected)
    # How to load the same embedder again for queries (a profile or a plugin path).
    record.set_meta(profile=settings.embedder)
    # --rebuild exists to get past a settings mismatch: open without checking, then reset.
    vectors = make_vectors(settings, expected, check=not rebuild)
    if rebuild:
        vectors.reset()
    return record, vectors


def _noop(stage: str, done: int, total: int) -> None:
    return None


class _Embedding:
    """Embeds batches on one worker thread and commits each to the record as soon as it is
    done (through a connection of its own), in the order they were submitted, while the
    calling thread reads the next files. Progress and errors go back to the calling thread:
    the callback (a web page's progress bar) is only ever called from there."""

    def __init__(self, db_path: Path, embedder: Embedder):
        self.db_path = db_path
        self.embedder = embedder
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None
        self.submitted = 0
        self.done = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name="briefing-embed", daemon=True)
            self.thread.start()

    def submit(self, keys: list[str], texts: list[str]) -> None:
        self.start()
        self.submitted += len(keys)
        self.inbox.put((keys, texts))

    def _work(self) -> None:
        record = None
        try:
            load = getattr(self.embedder, "load", None)
            if callable(load):
                load()
            record = DocStore(self.db_path)
            while (item := self.inbox.get()) is not None:
                keys, texts = item
                record.put_embeddings(keys, self.embedder.embed(texts))
                self.outbox.put(len(keys))
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread, raised there
            self.outbox.put(e)
        finally:
            if record is not None:
                record.close()

    def collect(self, block: bool) -> bool:
        """Take what the worker finished; True if anything was. ``block``: wait for one report."""
        got = False
        while True:
            try:
                item = self.outbox.get(block=block and not got and self.error is None, timeout=None)
            except queue.Empty:
                return got
            if isinstance(item, BaseException):
                self.error = item
                self.raise_error()
            self.done += item
            got = True

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Stop the worker (after the batch it is on) and wait for it."""
        if self.thread is None:
            return
        while True:
            try:
                self.inbox.get_nowait()
            except queue.Empty:
                break
        self.inbox.put(None)
        self.thread.join()
        self.thread = None


def build_index(
    settings: Settings,
    sources_dir: Path | None = None,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring the index in line with the sources folder. Holds the index write lock."""
    started = time.perf_counter()
    progress = progress or _noop
    root = Path(sources_dir or settings.sources_dir)
    report = BuildReport()
    if not root.is_dir():
        raise SourceError(str(root), "sources folder not found; create it and put articles in it, "
                                     "or name another folder")
    with IndexLock(settings.index_dir):
        embedder = embedder or make_embedder(settings.embedder, settings.embed_batch_size, settings.embed_runtime)
        record, vectors = open_index(settings, embedder, rebuild=rebuild)
        try:
            report.repaired = reconcile(record, vectors)
            _run(settings, root, record, vectors, embedder, report, progress)
            report.documents, report.chunks = record.counts()
            # `briefing status` lists what the last run could not index, and why.
            record.set_meta(last_skipped=json.dumps([x.as_json() for x in report.skipped], ensure_ascii=False))
        finally:
            record.close()
    report.seconds = time.perf_counter() - started
    return report


def _run(settings: Settings, root: Path, record: DocStore, vectors: VectorStore, embedder: Embedder,
         report: BuildReport, progress: Progress) -> None:
    files = scan_sources(root, report)
    known = record.sources()
    seen: set[str] = set()
    todo: list[tuple[Path, str, str, int]] = []  # path, source, hash, size
    for i, path in enumerate(files):
        source = path.relative_to(root).as_posix()
        seen.add(source)
        try:
            digest, size = _hash_file(path)
        except PermissionError:
            reason = "cannot be read (permission denied); fix its permissions"
            report.skipped.append(Skipped(source, reason))
            continue
        except OSError as e:
            report.skipped.append(Skipped(source, f"cannot be read ({e.strerror or e})"))
            continue
        if known.get(source) == digest:
            report.unchanged += 1
        else:
            todo.append((path, source, digest, size))
        progress("scan", i + 1, len(files))
    removed = sorted(set(known) - seen)

    parsed: list[tuple[str, str, int, list[Document], list[Chunk], list[str]]] = []
    max_bytes = int(settings.max_source_mb * 1024 * 1024)
    # Embedding runs on a worker thread while the next files are read (see _Embedding). The
    # batches are the serial build's: the passages the record lacks, in file order, cut every
    # ``batch``. They are started once ``window`` of them wait (or reading is done), so a small
    # build still reads everything before it embeds anything.
    batch = max(1, settings.embed_batch_size) * 4
    window = settings.pipeline_chunks
    keys_by_chunk: dict[str, str] = {}
    texts_by_key: dict[str, str] = {}
    unchecked: list[str] = []  # keys not yet looked up in the record
    waiting: list[str] = []  # keys the record lacks, not yet sent to the worker
    missing: list[str] = []  # every key embedded by this run, in order
    pending = record.index_meta().embeddings_pending
    embedding = _Embedding(record.path, embedder)
    total_bytes = sum(t[3] for t in todo) or 1
    read_bytes = 0
    started = False

    def look_up() -> None:
        nonlocal pending
        if not unchecked:
            return
        absent = record.missing_embeddings(unchecked)
        found = [k for k in unchecked if k in absent]
        unchecked.clear()
        if found and not pending:
            # Embeddings are stored before the record refers to them. Mark that first: if this
            # run is killed and the next has nothing to commit (the file was put back), it still prunes.
            record.set_meta(embeddings_pending=1)
            pending = True
        if found:
            embedding.start()  # the model loads while reading goes on
        waiting.extend(found)
        missing.extend(found)

    def send(final: bool) -> None:
        while len(waiting) >= batch or (final and waiting):
            keys = waiting[:batch]
            del waiting[:batch]
            embedding.submit(keys, [texts_by_key[k] for k in keys])

    def report_embedded(reading: bool) -> None:
        if embedding.collect(block=False) and started:
            total = len(missing)
            if reading:  # while files remain, a guess from the bytes read so far (and never reached)
                total = max(total + 1, round(len(missing) * total_bytes / max(read_bytes, 1)))
            progress("embed", embedding.done, total)

    try:
        for i, (path, source, digest, size) in enumerate(todo):
            try:
                docs = read_source(path, root, max_bytes, report.warnings)
                chunks, tokens = [], []
                for d in docs:
                    for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap):
                        chunks.append(c)
                        tokens.append(chunk_tokens(d.title, c.text))
            except SourceError as e:
                report.skipped.append(Skipped(e.source, e.reason))
                continue
            except Exception as e:  # noqa: BLE001 - parsers raise their own types (pypdf, lxml, …)
                # A parser failing on one odd file must not stop the build of all the others.
                report.skipped.append(Skipped(source, f"could not be read ({type(e).__name__}: {e}); "
                                              "convert it to another format or remove it"))
                continue
            finally:
                read_bytes += size
            parsed.append((source, digest, size, docs, chunks, tokens))
            progress("read", i + 1, len(todo))
            for c in chunks:
                key = keys_by_chunk[c.chunk_id] = embed_key(embedder.name, c.embed_text)
                if key not in texts_by_key:
                    texts_by_key[key] = c.embed_text
                    unchecked.append(key)
            if window and (started or len(unchecked) + len(waiting) >= window):
                look_up()
                if not started and len(waiting) >= window:
                    started = True
                    progress("embed", 0, len(missing) + 1)
                if started:
                    send(final=False)
            report_embedded(reading=True)
            embedding.raise_error()

        # Embed what the record does not have yet, committing each batch.
        look_up()
        if not started:
            progress("embed", 0, len(missing))
            started = True
        send(final=True)
        while embedding.done < len(missing):
            embedding.collect(block=True)
            progress("embed", embedding.done, len(missing))
        embedding.raise_error()
    finally:
        embedding.close()
    report.embedded = len(missing)

    # One transaction makes the record match the folder.
    changed_sources = [p[0] for p in parsed] + removed
    old_ids = record.chunk_ids_of_sources(changed_sources)
    now = time.time()
    with record.transaction() as db:
        for source, digest, size, docs, chunks, tokens in parsed:
            if source in known:
                report.updated += 1
            else:
                report.added += 1
            record.replace_source(db, source, digest, size, docs, chunks,
                                  [keys_by_chunk[c.chunk_id] for c in chunks], now, tokens)
        for source in removed:
            record.remove_source(db, source)
            report.removed += 1
        if parsed or removed:
            record.bump_generation(db)
            DocStore.set_meta_in(db, chroma_dirty=1)
        if parsed or removed or missing or pending:
            # In the same transaction: a run killed after it (while Chroma is being written)
            # leaves no embeddings that no chunk refers to. Chroma's deletes need no vectors.
            record.prune_embeddings()
            record.prune_tokens()
            DocStore.set_meta_in(db, embeddings_pending=0)
    new_ids = {c.chunk_id for p in parsed for c in p[4]}
    if parsed or removed:
        progress("store", 0, 1)
        _sync(record, vectors, sorted(new_ids - old_ids), sorted(old_ids - new_ids))
        record.set_meta(chroma_dirty=0)
        progress("store", 1, 1)
    # The lexical index of this generation, unless a run before (or a reader) wrote it.
    generation = record.index_meta().generation
    chunk_count = record.counts()[1]
    if chunk_count and not lexical_stamp_matches(settings.index_dir, generation, chunk_count):
        progress("lexical", 0, 1)
        build_lexical(settings.index_dir, generation, record.lexical_tokens(chunk_tokens), progress)
