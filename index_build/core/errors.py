"""The error tree. Every message says what happened and what to do next.

The CLI turns a ``BriefingError`` into one line on stderr and exit status 1; the web UI
turns it into a ``gr.Error``. Nothing else should reach a user.
"""

from __future__ import annotations

__all__ = [
    "BriefingError",
    "SettingsError",
    "SourceError",
    "IndexMismatchError",
    "IndexLockedError",
    "StoreError",
    "EmbedderError",
]


class BriefingError(Exception):
    """Base class: an error a person can act on."""


class SettingsError(BriefingError):
    """A setting (file, environment variable or flag) has a value we cannot use."""


class SourceError(BriefingError):
    """One source file cannot be read. The build skips it and goes on."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexMismatchError(BriefingError):
    """The index on disk was built with other settings than the ones in force."""


class IndexLockedError(BriefingError):
    """Another process is writing the same index directory."""


class StoreError(BriefingError):
    """The vector store (Chroma) cannot be reached or used."""


class EmbedderError(BriefingError):
    """The embedding model cannot be loaded."""
