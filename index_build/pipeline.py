"""The build's read-and-embed stage: each new or changed file is read, cleaned and chunked,
and the passages the record lacks are embedded on a worker thread while the next files are
read (once ``Settings.pipeline_chunks`` passages wait; a smaller build reads everything
first). The batches and their commits are the serial build's, in the same order: every batch
is committed to the record as soon as it is embedded, so a killed run keeps its work."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .chunk import chunk_document
from .core.errors import SourceError
from .core.models import Chunk, Document, Skipped
from .core.settings import Settings
from .embed import Embedder
from .read import read_source
from .store.docstore import DocStore, embed_key
from .store.lexical import chunk_tokens

__all__ = ["Todo", "Parsed", "Work", "ReadAndEmbed", "Progress", "Report"]


class Report(Protocol):
    """What the stage adds to the build's report (``BuildReport``): skipped files and warnings."""

    skipped: list[Skipped]
    warnings: list[str]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Todo:
    path: Path
    source: str  # relative to the sources folder
    digest: str
    size: int


@dataclass(frozen=True)
class Parsed:
    source: str
    digest: str
    size: int
    docs: list[Document]
    chunks: list[Chunk]
    tokens: list[str]  # BM25 tokens per chunk


@dataclass
class Work:
    parsed: list[Parsed] = field(default_factory=list)
    keys_by_chunk: dict[str, str] = field(default_factory=dict)  # chunk id → embed key
    embedded: list[str] = field(default_factory=list)  # every key embedded by this run, in order
    pending: bool = False  # embeddings are stored that no committed chunk may refer to yet


class ReadAndEmbed:
    """Reads, cleans and chunks each file, and embeds the passages the record lacks on a
    worker thread (``_Embedding``) while the next files are read. The batches are the serial
    build's: the passages the record lacks, in file order, cut every ``batch``. They are started
    once ``window`` of them wait (or reading is done), so a small build still reads everything
    before it embeds anything."""

    def __init__(self, settings: Settings, root: Path, record: DocStore, embedder: Embedder,
                 report: Report, progress: Progress):
        self.settings, self.root, self.record, self.embedder = settings, root, record, embedder
        self.report, self.progress = report, progress
        self.batch = max(1, settings.embed_batch_size) * 4
        self.window = settings.pipeline_chunks
        self.work = Work(pending=record.index_meta().embeddings_pending)
        self.texts_by_key: dict[str, str] = {}
        self.unchecked: list[str] = []  # keys not yet looked up in the record
        self.waiting: list[str] = []  # keys the record lacks, not yet sent to the worker
        self.embedding = _Embedding(record.path, embedder)
        self.started = False
        self.total_bytes = 1
        self.read_bytes = 0

    def run(self, todo: list[Todo]) -> Work:
        self.total_bytes = sum(t.size for t in todo) or 1
        try:
            for i, item in enumerate(todo):
                parsed = self._read(item)
                if parsed is None:
                    continue
                self.work.parsed.append(parsed)
                self.progress("read", i + 1, len(todo))
                self._queue(parsed.chunks)
                if self.window and (self.started or len(self.unchecked) + len(self.waiting) >= self.window):
                    self._look_up()
                    if not self.started and len(self.waiting) >= self.window:
                        self.started = True
                        self.progress("embed", 0, len(self.work.embedded) + 1)
                    if self.started:
                        self._send(final=False)
                self._report_embedded(reading=True)
                self.embedding.raise_error()
            self._finish()
        finally:
            self.embedding.close()
        return self.work

    def _read(self, item: Todo) -> Parsed | None:
        max_bytes = int(self.settings.max_source_mb * 1024 * 1024)
        try:
            docs = read_source(item.path, self.root, max_bytes, self.report.warnings)
            chunks, tokens = [], []
            for d in docs:
                for c in chunk_document(d, self.settings.chunk_tokens, self.settings.chunk_overlap):
                    chunks.append(c)
                    tokens.append(chunk_tokens(d.title, c.text))
        except SourceError as e:
            self.report.skipped.append(Skipped(e.source, e.reason))
            return None
        except Exception as e:  # noqa: BLE001 - parsers raise their own types (pypdf, lxml, …)
            # A parser failing on one odd file must not stop the build of all the others.
            self.report.skipped.append(Skipped(item.source, f"could not be read ({type(e).__name__}: {e}); "
                                                            "convert it to another format or remove it"))
            return None
        finally:
            self.read_bytes += item.size
        return Parsed(item.source, item.digest, item.size, docs, chunks, tokens)

    def _queue(self, chunks: list[Chunk]) -> None:
        for c in chunks:
            key = self.work.keys_by_chunk[c.chunk_id] = embed_key(self.embedder.name, c.embed_text)
            if key not in self.texts_by_key:
                self.texts_by_key[key] = c.embed_text
                self.unchecked.append(key)

    def _look_up(self) -> None:
        if not self.unchecked:
            return
        absent = self.record.missing_embeddings(self.unchecked)
        found = [k for k in self.unchecked if k in absent]
        self.unchecked.clear()
        if found and not self.work.pending:
            # Embeddings are stored before the record refers to them. Mark that first: if this
            # run is killed and the next has nothing to commit (the file was put back), it still prunes.
            self.record.set_meta(embeddings_pending=1)
            self.work.pending = True
        if found:
            self.embedding.start()  # the model loads while reading goes on
        self.waiting.extend(found)
        self.work.embedded.extend(found)

    def _send(self, final: bool) -> None:
        while len(self.waiting) >= self.batch or (final and self.waiting):
            keys = self.waiting[:self.batch]
            del self.waiting[:self.batch]
            self.embedding.submit(keys, [self.texts_by_key[k] for k in keys])

    def _report_embedded(self, reading: bool) -> None:
        if self.embedding.collect(block=False) and self.started:
            total = len(self.work.embedded)
            if reading:  # while files remain, a guess from the bytes read so far (and never reached)
                total = max(total + 1, round(total * self.total_bytes / max(self.read_bytes, 1)))
            self.progress("embed", self.embedding.done, total)

    def _finish(self) -> None:
        """Embed what the record does not have yet, committing each batch."""
        self._look_up()
        if not self.started:
            self.progress("embed", 0, len(self.work.embedded))
            self.started = True
        self._send(final=True)
        while self.embedding.done < len(self.work.embedded):
            self.embedding.collect(block=True)
            self.progress("embed", self.embedding.done, len(self.work.embedded))
        self.embedding.raise_error()


class _Embedding:
    """Embeds batches on one worker thread and commits each to the record as soon as it is
    done (through a connection of its own), in the order they were submitted, while the
    calling thread reads the next files. Progress and errors go back to the calling thread:
    the callback (a web page's progress bar) is only ever called from there."""

    def __init__(self, db_path: Path, embedder: Embedder):
        self.db_path = db_path
        self.embedder = embedder
        self.inbox: queue.Queue[tuple[list[str], list[str]] | None] = queue.Queue()
        self.outbox: queue.Queue[int | BaseException] = queue.Queue()
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
                raise item
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
