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

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core.dates import date_key
from .core.errors import SourceError
from .core.models import Skipped
from .core.settings import Settings
from .embed import Embedder, make_embedder
from .lock import IndexLock
from .pipeline import Progress, ReadAndEmbed, Todo, Work
from .sources import hash_file, scan_sources
from .store.docstore import SCHEMA_VERSION, DocStore
from .store.lexical import build_lexical, chunk_tokens, lexical_stamp_matches
from .store.vectors import VectorStore, make_vectors

__all__ = ["BuildReport", "build_index", "expected_meta", "open_index", "chunk_metadata",
           "reconcile", "Progress"]



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

    def as_json(self) -> dict[str, Any]:
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
                   published: str | None) -> dict[str, Any]:
    return {
        "doc_id": doc_id, "source": source, "title": title or "", "publisher": publisher or "",
        "published": published or "", "date_key": _date_key(published), "start": start, "end": end,
    }


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
            record.set_last_skipped(report.skipped)
        finally:
            record.close()
    report.seconds = time.perf_counter() - started
    return report


def _run(settings: Settings, root: Path, record: DocStore, vectors: VectorStore, embedder: Embedder,
         report: BuildReport, progress: Progress) -> None:
    plan = _plan(root, record, report, progress)
    work = ReadAndEmbed(settings, root, record, embedder, report, progress).run(plan.todo)
    change = _commit(record, plan, work, report)
    if change.parsed_or_removed:
        progress("store", 0, 1)
        _sync(record, vectors, sorted(change.new_ids - change.old_ids), sorted(change.old_ids - change.new_ids))
        record.set_meta(chroma_dirty=0)
        progress("store", 1, 1)
    _write_lexical(settings, record, progress)


# -- plan: what the folder asks of the record ------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    todo: list[Todo]  # new and changed files, in folder order
    removed: list[str]  # sources the record has and the folder no longer does
    known: dict[str, str]  # the record's sources and their content hashes


def _plan(root: Path, record: DocStore, report: BuildReport, progress: Progress) -> _Plan:
    files = scan_sources(root, report.skipped)
    known = record.sources()
    seen: set[str] = set()
    todo: list[Todo] = []
    for i, path in enumerate(files):
        source = path.relative_to(root).as_posix()
        seen.add(source)
        try:
            digest, size = hash_file(path)
        except PermissionError:
            report.skipped.append(Skipped(source, "cannot be read (permission denied); fix its permissions"))
            continue
        except OSError as e:
            report.skipped.append(Skipped(source, f"cannot be read ({e.strerror or e})"))
            continue
        if known.get(source) == digest:
            report.unchanged += 1
        else:
            todo.append(Todo(path, source, digest, size))
        progress("scan", i + 1, len(files))
    return _Plan(todo, sorted(set(known) - seen), known)


# -- commit: one transaction makes the record match the folder -------------------------------
@dataclass(frozen=True)
class _Change:
    old_ids: set[str]  # chunk ids of the changed and removed sources before the commit
    new_ids: set[str]  # chunk ids of the changed sources after it
    parsed_or_removed: bool


def _commit(record: DocStore, plan: _Plan, work: Work, report: BuildReport) -> _Change:
    report.embedded = len(work.embedded)
    changed_sources = [p.source for p in work.parsed] + plan.removed
    old_ids = record.chunk_ids_of_sources(changed_sources)
    now = time.time()
    touched = bool(work.parsed or plan.removed)
    with record.transaction() as db:
        for p in work.parsed:
            if p.source in plan.known:
                report.updated += 1
            else:
                report.added += 1
            record.replace_source(db, p.source, p.digest, p.size, p.docs, p.chunks,
                                  [work.keys_by_chunk[c.chunk_id] for c in p.chunks], now, p.tokens)
        for source in plan.removed:
            record.remove_source(db, source)
            report.removed += 1
        if touched:
            record.bump_generation(db)
            DocStore.set_meta_in(db, chroma_dirty=1)
        if touched or work.embedded or work.pending:
            # In the same transaction: a run killed after it (while Chroma is being written)
            # leaves no embeddings that no chunk refers to. Chroma's deletes need no vectors.
            record.prune_embeddings()
            record.prune_tokens()
            DocStore.set_meta_in(db, embeddings_pending=0)
    return _Change(old_ids, {c.chunk_id for p in work.parsed for c in p.chunks}, touched)


def _write_lexical(settings: Settings, record: DocStore, progress: Progress) -> None:
    """The lexical index of this generation, unless a run before (or a reader) wrote it."""
    generation = record.index_meta().generation
    chunk_count = record.counts()[1]
    if chunk_count and not lexical_stamp_matches(settings.index_dir, generation, chunk_count):
        progress("lexical", 0, 1)
        build_lexical(settings.index_dir, generation, record.lexical_tokens(chunk_tokens), progress)
