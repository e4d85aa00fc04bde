"""What the commands that read the index share: the filter options, checked."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import click

from index_build.core.errors import BriefingError

from .app import shown

if TYPE_CHECKING:
    from assistant.models import Filters

__all__ = ["filters_of", "date_option", "not_empty", "check_sources"]


def filters_of(source: tuple[str, ...], publisher: tuple[str, ...], since: str | None, until: str | None) -> Filters:
    """The filters of --source / --publisher / --since / --until (the dates already checked by
    ``date_option``); since after until is an error, as on the web page."""
    from assistant.models import Filters

    filters = Filters(sources=tuple(source), publishers=tuple(publisher), since=since, until=until)
    if filters.dates_cross():
        raise BriefingError(f"--since {since} is after --until {until}; nothing can match")
    return filters


def date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--since / --until: a real calendar date, whole (YYYY-MM-DD) or partial (YYYY, YYYY-MM)."""
    from assistant.models import filter_date

    if value is None:
        return None
    try:
        return filter_date(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD "
                                 "(e.g. 2019-03-05)") from None


def not_empty(text: str, what: str, example: str) -> None:
    if not text.strip():
        raise BriefingError(f"the {what} is empty; write it in quotes, e.g. {example}")


def check_sources(assistant, wanted: tuple[str, ...]) -> None:
    """Each --source must match an indexed source as the filter matches them: the same
    name, or a folder holding some."""
    if not wanted:
        return
    from assistant.models import Filters

    names = sorted(set(assistant.corpus.snapshot().sources))
    for w in wanted:
        if not any(Filters(sources=(w,)).keeps_source(n) for n in names):
            close = difflib.get_close_matches(w, names, n=3)
            hint = (f"did you mean {', '.join(map(shown, close))}?" if close else
                    f"use a name as indexed, e.g. {', '.join(map(shown, names[:3]))}" if names else
                    "the index holds no sources; run `briefing index`")
            raise BriefingError(f"no indexed source matches --source '{shown(w)}'; {hint}")
