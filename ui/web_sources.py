"""The Sources tab's handlers of the web app: the index's status and documents, uploads,
deletion and rebuilds with live progress. ``WebApp`` (``ui/web.py``) inherits them; they read
and replace its assistant under its lock.
"""

from __future__ import annotations

from index_build.core.runtime import offline

offline(gradio=True)  # before gradio is imported (index_build.core.runtime says why)

import sqlite3  # noqa: E402
import threading  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from assistant.answer.service import Assistant  # noqa: E402
from index_build.build import build_index  # noqa: E402
from index_build.core.errors import BriefingError, SourceError  # noqa: E402
from index_build.core.settings import Settings  # noqa: E402
from index_build.sources import delete_source, list_sources, save_upload  # noqa: E402
from index_build.status import index_status  # noqa: E402
from index_build.store.docstore import DocStore  # noqa: E402

from . import render  # noqa: E402

__all__ = ["SourceHandlers", "error"]

_STAGES = {"scan": "Hashing sources", "read": "Reading & chunking", "embed": "Embedding passages",
           "store": "Writing index", "lexical": "Keyword index"}


class SourceHandlers:
    """What the Sources tab calls. The app provides its settings, its assistant (None until
    an index exists), the last problem opening it, the lock rebuilds hold, and ``_open``."""

    settings: Settings
    assistant: Assistant | None
    problem: str
    _lock: threading.Lock

    def _open(self) -> None:
        raise NotImplementedError

    # -- sources ------------------------------------------------------------------------
    def sources_view(self):
        """Status, documents table, and the choices that depend on what is indexed."""
        try:
            info = index_status(self.settings)
        except BriefingError as e:
            info, self.problem = None, str(e)
        rows, sources, publishers = [], [], []
        if info is not None and self.assistant is not None:
            docs = self.assistant.corpus.summaries()
            rows = [[d.source, d.title, d.publisher, d.author, d.published or "", d.characters, d.chunks] for d in docs]
            sources = sorted({d.source for d in docs})
            publishers = sorted({d.publisher for d in docs if d.publisher})
        files = list_sources(self.settings.sources_dir)
        return (render.status_html(info, self.problem, _changed_at(self.settings)), rows,
                gr.update(choices=sources), gr.update(choices=publishers),
                gr.update(choices=files, value=None),
                gr.update(choices=sources), gr.update(choices=publishers))

    def save_files(self, files) -> tuple[dict[str, Any], None]:
        """Copy uploads into the sources folder; what happened to each file, by name. An
        upload is only called added once the rebuild has read it (see ``_rebuild``)."""
        saved, errors = [], []
        for f in files or []:
            path = f if isinstance(f, str) else getattr(f, "name", str(f))
            original = Path(path).name
            try:
                saved.append(save_upload(path, original, self.settings.sources_dir, self.settings.max_source_mb))
            except SourceError as e:
                errors.append((e.source, e.reason))
            except OSError as e:
                errors.append((original, f"could not be saved ({e.strerror})"))
        return {"saved": saved, "notes": [], "errors": errors}, None

    def rebuild_after_change(self, outcome: dict[str, Any], progress=gr.Progress()):
        """Rebuild after uploads or a deletion, reporting what happened to each file."""
        notes, errors = outcome.get("notes", []), [tuple(e) for e in outcome.get("errors", [])]
        saved = [tuple(x) for x in outcome.get("saved", [])]
        if not notes and not saved:
            return (render.build_report_html(None, [], errors), *[gr.skip()] * 7)
        return self._rebuild(progress, notes, errors, saved)

    def rebuild(self, progress=gr.Progress()):
        return self._rebuild(progress)

    def _rebuild(self, progress, notes=(), errors=(), saved=()):
        def report_progress(stage: str, done: int, total: int) -> None:
            if total > 0:
                progress((done, total), desc=_STAGES.get(stage, stage),
                         unit="passages" if stage == "embed" else "files")

        progress(0, desc="Starting")
        with self._lock:
            try:
                report = build_index(self._build_settings(), progress=report_progress)
            except BriefingError as e:
                raise error(str(e)) from None
            if self.assistant is None:
                self._open()
            else:
                self.assistant.refresh()
        notes, errors = list(notes), list(errors)
        unreadable = self._remove_unreadable_uploads(report, [name for name, _ in saved])
        notes += [f"{'Replaced' if replaced else 'Added'} {name}" for name, replaced in saved if name not in unreadable]
        errors += [(name, f"{reason}; removed from the sources folder") for name, reason in unreadable.items()]
        return (render.build_report_html(report, notes, errors), *self.sources_view())

    def _remove_unreadable_uploads(self, report, uploaded: list[str]) -> dict[str, str]:
        """Uploads the rebuild could not read, by name with the reason, taken out of the
        report's skipped list and out of the sources folder: a file that was never indexed
        must not sit there looking like a source (files already in the folder are left)."""
        unreadable = {s.source: s.reason for s in report.skipped if s.source in uploaded}
        for name in unreadable:
            try:
                delete_source(self.settings.sources_dir, name)
            except (SourceError, OSError):
                (self.settings.sources_dir / name).unlink(missing_ok=True)
        report.skipped = [s for s in report.skipped if s.source not in unreadable]
        return unreadable

    def _build_settings(self) -> Settings:
        """The settings to rebuild with: the embedder profile the index was built with.

        `serve` has no --embedder, so its settings name the default profile even when the
        index was built with another (``index --embedder static``, a plugin); rebuilding with
        the default would fail with a settings mismatch."""
        if not self.settings.db_path.is_file():
            return self.settings
        try:
            with DocStore(self.settings.db_path, readonly=True) as record:
                profile = record.index_meta().profile
        except (BriefingError, sqlite3.Error):
            return self.settings
        return self.settings.replace(embedder=profile) if profile else self.settings

    def delete(self, source: str | None) -> dict[str, Any]:
        if not source:
            raise error("Choose a source file to delete.")
        try:
            delete_source(self.settings.sources_dir, source)
        except SourceError as e:
            raise error(str(e)) from None
        return {"notes": [f"Deleted {source}"], "errors": []}


def _changed_at(settings: Settings) -> datetime | None:
    """When the index last changed: the newest of its record's files (the database and its
    write-ahead log)."""
    files = (settings.db_path, settings.db_path.with_name(settings.db_path.name + "-wal"))
    times = [p.stat().st_mtime for p in files if p.is_file()]
    return datetime.fromtimestamp(max(times)) if times else None



def error(message: str) -> gr.Error:
    """An error the page shows; a known failure (no index, a source that cannot be deleted) is
    not a bug, so no traceback in the server's log."""
    return gr.Error(message, print_exception=False)
