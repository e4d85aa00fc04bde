"""What every reader shares: size limits, the one cleaning path for plain text (repair,
boilerplate, stories, metadata), decoding with a readable error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..clean import Story, lead_title, parse_byline, split_stories, strip_boilerplate
from ..core.dates import normalize_date
from ..core.errors import SourceError
from ..core.models import Document, make_doc_id
from ..decode import UndecodableError, decode_bytes, repair_text

__all__ = ["MB", "DEFAULT_MAX_BYTES", "text_limit", "too_much_text", "suffix_of", "metadata",
           "documents_from_text", "decode"]

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * MB  # the max_source_mb default
# One document's text may be an eighth of max_source_mb (8 MB by default, more than twice
# the longest novel). Cost follows text, not file size: a 50 MB text file is ~50,000
# passages, minutes to chunk and about an hour to embed with MiniLM on 2 cores, all cited
# to one "article". A PDF or DOCX of the same size is mostly images and layout.
TEXT_SHARE = 8


def text_limit(max_bytes: int) -> int:
    """The most characters one document (or one plain-text file, in bytes) may hold."""
    return max_bytes // TEXT_SHARE


def too_much_text(size: int, max_bytes: int, what: str) -> str:
    return (f"{what} {size / MB:.1f} MB of text, over the {text_limit(max_bytes) / MB:g} MB limit for "
            f"one document (an eighth of max_source_mb); split it or raise max_source_mb")


def suffix_of(path: Path | str) -> str:
    name = str(path).lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else Path(name).suffix



def metadata(given: dict[str, Any], text: str, story: Story | None = None) -> dict[str, Any]:
    """A document's title, publisher, author, published date and url, and ``provenance``:
    where each came from. The file's own metadata wins, then the story's headline and
    publisher line, then the text's byline, dateline, date and copyright lines; a text with
    no headline is titled by its lead sentence."""
    found = {k: (v, "metadata") for k, v in given.items() if v}
    if story:
        found.setdefault("title", (story.title, "headline" if story.titled else "lead sentence"))
        if story.publisher:
            found.setdefault("publisher", (story.publisher, "publisher line"))
    for key, (value, where) in parse_byline(text).items():
        kept = normalize_date(value) if key == "published" else value
        if kept:
            found.setdefault(key, (kept, where))
    found.setdefault("title", (lead_title(text), "lead sentence"))
    return {**{k: v for k, (v, _) in found.items()}, "provenance": {k: w for k, (_, w) in found.items()}}


def documents_from_text(source: str, text: str, content_hash: str, meta: dict[str, Any],
                         max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """The shared cleaning path: repair → boilerplate → stories → metadata."""
    if len(text) > text_limit(max_bytes):
        raise SourceError(source, too_much_text(len(text), max_bytes, "holds"))
    text = strip_boilerplate(repair_text(text))
    if not text.strip():
        raise SourceError(source, "has no text after cleaning; check that it is an article")
    stories = split_stories(text) if not meta.get("title") else []
    if len(stories) <= 1:
        story = stories[0] if stories else None
        return [Document(doc_id=make_doc_id(source), source=source, text=text, content_hash=content_hash,
                         **metadata(meta, text, story))]
    return [
        Document(doc_id=make_doc_id(source, f"story-{i}"), source=source, text=story.text,
                 content_hash=content_hash, record_id=f"story-{i}", **metadata(meta, story.text, story))
        for i, story in enumerate(stories, start=1)
    ]


def decode(source: str, data: bytes) -> str:
    try:
        return decode_bytes(data)
    except UndecodableError as e:
        raise SourceError(source, f"is not readable text ({e}); remove it or convert it to UTF-8") from None
