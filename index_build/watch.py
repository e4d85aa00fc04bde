"""``briefing index --watch``: rebuild when the sources folder changes (watchfiles)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from .build import BuildReport, Progress, build_index
from .core.errors import BriefingError
from .core.models import Skipped
from .core.settings import Settings

__all__ = ["watch_sources"]


def watch_sources(settings: Settings, progress: Progress | None = None,
                  stop_event: threading.Event | None = None) -> Iterator[BuildReport]:
    """Yield one report per rebuild, after each batch of changes settles."""
    from watchfiles import watch

    for _changes in watch(settings.sources_dir, debounce=800, step=200, stop_event=stop_event,
                          recursive=True, raise_interrupt=False):
        try:
            yield build_index(settings, progress=progress)
        except BriefingError as e:
            report = BuildReport()
            report.skipped.append(Skipped(str(settings.sources_dir), str(e)))
            yield report
