"""Plain data that crosses module boundaries: documents and chunks.

Offsets are character offsets into ``Document.text`` (the cleaned text that citations
point into); ``document.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Chunk", "Skipped", "make_doc_id", "make_chunk_id", "sha256_hex"]


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def make_doc_id(source: str, record_id: str | None = None) -> str:
    """Stable id: the source path relative to the sources root, plus a record id for
    collections (JSONL lines, or stories split out of one file)."""
    key = source if record_id is None else f"{source}#{record_id}"
    return sha256_hex(key)[:32]


def make_chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    return sha256_hex(f"{doc_id}\0{start}\0{end}\0{text}")[:32]


@dataclass(frozen=True)
class Document:
    doc_id: str
    source: str
    text: str
    content_hash: str
    title: str = ""
    publisher: str = ""
    author: str = ""
    published: str | None = None  # ISO date, possibly partial: "2017" or "2017-09-12"
    url: str = ""
    record_id: str | None = None
    # Where each metadata value came from: {"author": "byline", "title": "lead sentence", …}
    # ("metadata" is the file's own: front matter, HTML meta tags, PDF/DOCX properties, JSONL fields).
    provenance: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def title_derived(self) -> bool:
        """The title was made from the lead sentence: the text has no headline."""
        return self.provenance.get("title") == "lead sentence"

    def metadata(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "title": self.title,
            "publisher": self.publisher,
            "author": self.author,
            "published": self.published,
            "url": self.url,
            "record_id": self.record_id,
            "content_hash": self.content_hash,
            "provenance": dict(self.provenance),
        }


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    ordinal: int = 0
    # What the embedder sees: headline and publisher before the passage (not part of text).
    embed_text: str = field(default="", compare=False, repr=False)

    @classmethod
    def of(cls, doc: Document, start: int, end: int, ordinal: int) -> "Chunk":
        text = doc.text[start:end]
        header = "\n".join(x for x in (doc.title, doc.publisher) if x)
        return cls(
            chunk_id=make_chunk_id(doc.doc_id, start, end, text),
            doc_id=doc.doc_id,
            start=start,
            end=end,
            text=text,
            ordinal=ordinal,
            embed_text=f"{header}\n\n{text}" if header else text,
        )


@dataclass(frozen=True)
class Skipped:
    """A source file a build could not index, and what to do about it (one line)."""

    source: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}

    @classmethod
    def from_json(cls, item: object) -> Skipped | None:
        """One entry of a stored list; None when it is not one."""
        if isinstance(item, dict) and isinstance(item.get("source"), str) and isinstance(item.get("reason"), str):
            return cls(item["source"], item["reason"])
        return None
