"""PDF files: the text pypdf extracts, page by page; encrypted, damaged and image-only files
are refused with what to do."""

from __future__ import annotations

import io
import logging
from typing import Any

from ..core.errors import SourceError
from ..core.models import Document
from .common import documents_from_text

__all__ = ["read_pdf"]


def read_pdf(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PyPdfError

    # pypdf logs what it repairs ("EOF marker not found") to stderr; the skip reason below is
    # the one message a person gets about a file.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok: object = reader.decrypt("")
            except (DependencyError, NotImplementedError):
                ok = 0
            if not ok:
                raise SourceError(source, "is an encrypted PDF; save an unencrypted copy to index it")
        pages = [page.extract_text() or "" for page in reader.pages]
        info: Any = reader.metadata or {}
    except SourceError:
        raise
    except LimitReachedError:
        raise SourceError(source, "holds a compressed stream that expands past pypdf's safety limit "
                                  "(a decompression bomb?); not indexed") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError):
        # pypdf's own messages name byte offsets and object numbers, nothing a person can act on.
        raise SourceError(source, "is not a readable PDF (damaged or incomplete); re-export it") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise SourceError(source, "has no extractable text (a scanned PDF?); run OCR on it first")
    meta = {"title": str(info.get("/Title") or ""), "author": str(info.get("/Author") or "")}
    return documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v}, max_bytes)
