"""Word files (.docx): top-level paragraphs and the core properties; zip bombs refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from ..core.errors import SourceError
from ..core.models import Document
from .common import MB, documents_from_text

__all__ = ["read_docx"]

_MAX_DOCX_UNCOMPRESSED = 200 * MB  # all parts, images included
_MAX_DOCX_XML = 32 * MB  # one XML part: python-docx holds it as a tree, ~20x its size in memory


def _docx_paragraph_texts(document: Any) -> Iterator[str]:
    """The text of each top-level paragraph, exactly as python-docx's ``Paragraph.text``
    gives it, without its two XPath queries per paragraph and run (a 100 KB file of tiny
    paragraphs took minutes through them)."""
    from docx.oxml.ns import qn

    run, link = qn("w:r"), qn("w:hyperlink")
    inner = tuple(qn(t) for t in ("w:br", "w:cr", "w:noBreakHyphen", "w:ptab", "w:t", "w:tab"))

    def run_text(r: Any) -> str:  # python-docx's elements render their own text (a tab as "\t" …)
        return "".join(str(e) for e in r.iterchildren(*inner))

    for p in document.element.body.iterchildren(qn("w:p")):
        yield "".join(
            run_text(e) if e.tag == run else "".join(run_text(r) for r in e.iterchildren(run))
            for e in p.iterchildren(run, link)
        )


def read_docx(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
        if sum(i.file_size for i in infos) > _MAX_DOCX_UNCOMPRESSED or any(
            i.file_size > _MAX_DOCX_XML for i in infos if i.filename.lower().endswith((".xml", ".rels"))
        ):
            raise SourceError(source, f"expands to more than {_MAX_DOCX_UNCOMPRESSED // MB} MB, or one of its "
                                      f"parts to more than {_MAX_DOCX_XML // MB} MB, when unzipped (a zip bomb?); "
                                      "not indexed")
        document = docx.Document(io.BytesIO(data))
        paragraphs = [t.strip() for t in _docx_paragraph_texts(document)]
    except SourceError:
        raise
    except Exception:  # zipfile, lxml and python-docx (e.g. PackageNotFoundError) raise their own types
        raise SourceError(source, "is not a readable DOCX file (damaged, or not a Word document); "
                                  "re-save it in Word") from None
    text = "\n\n".join(p for p in paragraphs if p)
    props = document.core_properties
    meta = {
        "title": props.title or "",
        # python-docx's own template stamps author "python-docx" and a 2013 date; a file's
        # creation date is not the article's publication date, so it is not used.
        "author": "" if (props.author or "").strip().lower() == "python-docx" else (props.author or ""),
    }
    return documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v}, max_bytes)
