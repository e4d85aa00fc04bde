"""Source files → ``Document`` objects, one reader per format (a module each), chosen by suffix.

Every reader ends in the same cleaning path for plain text (``common.documents_from_text``:
repair, boilerplate, stories, metadata) so citations always point into text cleaned the same
way. A file that cannot be read raises ``SourceError`` naming the file and what to do; the
build skips it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..core.errors import SourceError
from ..core.models import Document, sha256_hex
from .common import DEFAULT_MAX_BYTES, MB, suffix_of, text_limit, too_much_text
from .docx import read_docx
from .html import read_html
from .jsonl import read_jsonl
from .pdf import read_pdf
from .plaintext import read_text

__all__ = ["SUPPORTED_SUFFIXES", "READERS", "read_source", "read_bytes", "suffix_of", "text_limit",
           "DEFAULT_MAX_BYTES"]

# (source, data, content hash, warnings about single records, max_bytes) → documents
Reader = Callable[[str, bytes, str, list[str], int], list[Document]]

READERS: dict[str, Reader] = {
    ".txt": read_text, ".md": read_text, ".html": read_html, ".htm": read_html, ".pdf": read_pdf,
    ".docx": read_docx, ".jsonl": read_jsonl, ".jsonl.gz": read_jsonl,
}
SUPPORTED_SUFFIXES = tuple(READERS)


def read_bytes(source: str, data: bytes, warnings: list[str] | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Parse one source's raw bytes. ``source`` is its path relative to the sources root;
    ``max_bytes`` is max_source_mb in bytes (it also bounds unpacked and extracted text)."""
    warnings = [] if warnings is None else warnings
    if not data.strip():
        raise SourceError(source, "is empty; add text to it or remove it")
    content_hash = sha256_hex(data)
    reader = READERS.get(suffix_of(source))
    if reader is not None:
        return reader(source, data, content_hash, warnings, max_bytes)
    raise SourceError(source, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")


def read_source(path: Path, root: Path, max_bytes: int, warnings: list[str] | None = None) -> list[Document]:
    """Read one file under ``root``; raise ``SourceError`` if it cannot be indexed."""
    source = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                source,
                f"is {size / MB:.1f} MB, over the {max_bytes / MB:g} MB limit; "
                "split it or raise max_source_mb",
            )
        if suffix_of(source) in (".txt", ".md") and size > text_limit(max_bytes):
            raise SourceError(source, too_much_text(size, max_bytes, "is"))  # checked before reading it
        data = path.read_bytes()
    except PermissionError:
        raise SourceError(source, "cannot be read (permission denied); fix its permissions") from None
    except IsADirectoryError:
        raise SourceError(source, "is a directory") from None
    except OSError as e:
        raise SourceError(source, f"cannot be read ({e.strerror or e}); check the file") from None
    return read_bytes(source, data, warnings, max_bytes)
