"""HTML pages (.html, .htm): the article text and metadata trafilatura extracts."""

from __future__ import annotations

from ..core.dates import normalize_date
from ..core.errors import SourceError
from ..core.models import Document
from .common import decode, documents_from_text

__all__ = ["read_html"]


def read_html(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    import trafilatura

    html = decode(source, data)
    result = trafilatura.bare_extraction(
        html, include_comments=False, include_tables=True, with_metadata=True, favor_recall=True
    )
    text = (getattr(result, "text", None) or "") if result is not None else ""
    if not text.strip():
        raise SourceError(source, "has no article text that could be extracted from its HTML")
    meta = {
        "title": getattr(result, "title", None) or "",
        "author": getattr(result, "author", None) or "",
        "publisher": getattr(result, "sitename", None) or "",
        "url": getattr(result, "url", None) or "",
        "published": normalize_date(getattr(result, "date", None)),
    }
    meta = {k: v for k, v in meta.items() if v}
    # Lead with the headline, unless the extracted body already does (an <h1> in the article).
    title = meta.get("title")
    if isinstance(title, str) and title and not text.lstrip().startswith(title):
        text = f"{title}\n\n{text}"
    return documents_from_text(source, text, content_hash, meta, max_bytes)
