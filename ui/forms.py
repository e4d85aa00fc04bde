"""What a person types into the page, checked: questions, topics, date filters. A mistake is
an ``InputMistake`` whose message the page shows under the box (not an error popup)."""

from __future__ import annotations

from assistant.models import Filters, filter_date

__all__ = ["InputMistake", "filters_of", "check_question", "filters_label", "MAX_QUESTION_CHARS", "MAX_TOPIC_CHARS"]

# A question is a question: longer text is refused with the reason, not shown as a giant bubble.
MAX_QUESTION_CHARS = 1000
MAX_TOPIC_CHARS = 300


class InputMistake(ValueError):
    """Something the user typed that cannot be used (a date that is not one, an empty topic):
    said in one line on the page, next to where it was typed; never an error overlay, never
    a traceback in the server's log."""


def filters_of(sources, publishers, since, until) -> Filters:
    """The filters as typed; ``InputMistake`` for a date that is not one."""
    filters = Filters(sources=tuple(sources or ()), publishers=tuple(publishers or ()),
                      since=_date_filter(since, "Published since"), until=_date_filter(until, "Published until"))
    if filters.dates_cross():
        raise InputMistake(f"“Published since” ({filters.since}) is after “Published until” ({filters.until}); "
                           "nothing can match.")
    return filters


def _date_filter(value, label: str) -> str | None:
    """A date filter as typed: a real calendar date, whole or partial (as the CLI's --since)."""
    try:
        return filter_date(value)
    except ValueError:
        raise InputMistake(f"“{label}”: {(value or '').strip()!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD "
                           f"(e.g. 2018-01-01).") from None


def check_question(question: str) -> None:
    if len(question) > MAX_QUESTION_CHARS:
        raise InputMistake(f"Questions are limited to {MAX_QUESTION_CHARS:,} characters and this one has "
                           f"{len(question):,}: ask one thing at a time, in a sentence or two.")


def filters_label(sources, publishers, since, until) -> str:
    """The Filters section's title: says which filters are on, so they show while it is closed."""
    on = []
    if (since or "").strip():
        on.append(f"since {since.strip()}")
    if (until or "").strip():
        on.append(f"until {until.strip()}")
    for chosen, one, many in ((sources, "source", "sources"), (publishers, "publisher", "publishers")):
        chosen = list(chosen or ())
        if len(chosen) == 1:
            on.append(f"{one} {chosen[0]}")
        elif chosen:
            on.append(f"{len(chosen)} {many}")
    return f"Filters on: {', '.join(on)}" if on else "Filters"
