"""The memo as a Word document (python-docx): real headings, superscript citation numbers
that jump to their entry, a "Citations" section (footnote-style: python-docx has no footnote
API) whose entries carry hidden anchors."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .anchors import anchor_text
from .layout import TABLE_SECTIONS, groups, meta_line, pieces, source_line, where
from .model import Bullet, Memo, quoted

__all__ = ["to_docx"]


def to_docx(memo: Memo, path: Path) -> Path:
    """A Word document: real headings, superscript citation numbers, a "Citations" section
    (footnote-style, python-docx has no footnote API) whose entries carry hidden anchors."""
    from docx import Document

    doc = Document()
    _properties(doc, memo)
    doc.add_heading(memo.title, level=0)
    meta = doc.add_paragraph()
    meta.add_run(meta_line(memo)).italic = True
    for s in memo.sections:
        doc.add_heading(s.title, level=1)
        if not s.bullets:
            doc.add_paragraph().add_run(s.note).italic = True
        for group, bullets in groups(s.bullets):
            if group:
                doc.add_heading(group, level=2)
            if s.key in TABLE_SECTIONS:
                _add_table(doc, memo, bullets, TABLE_SECTIONS[s.key])
                continue
            for b in bullets:
                para = doc.add_paragraph(style="List Bullet")
                if b.label:
                    para.add_run(f"{b.label}: ").bold = True
                _add_text(para, memo, b)
    doc.add_heading("Sources", level=1)
    for source in memo.sources:
        doc.add_paragraph(source_line(source), style="List Number")
    _add_citations(doc, memo)
    path = Path(path)
    doc.save(str(path))
    return path


def _properties(doc: Any, memo: Memo) -> None:
    """The document's properties: title, topic, Briefing as author, when the memo was written."""
    props = doc.core_properties
    props.title, props.subject, props.keywords = memo.title[:255], memo.topic[:255], "briefing-memo"
    props.comments = f"briefing memo, {memo.mode}; {len(memo.citations)} citations with briefing-cite anchors"
    props.author = props.last_modified_by = "Briefing"  # not python-docx's template author
    props.category = "Briefing memo"
    try:  # when the memo was written (a memo read back from JSON keeps its own date)
        written = datetime.fromisoformat(memo.generated).astimezone(timezone.utc).replace(tzinfo=None)
    except ValueError:
        written = datetime.now(timezone.utc).replace(tzinfo=None)
    props.created = props.modified = written


def _add_text(para: Any, memo: Memo, b: Bullet) -> None:
    """A bullet's text with each [n] as a superscript link to its citation."""
    for piece in pieces(b, memo):
        if piece.citation is None:
            para.add_run(piece.text)
        else:
            _docx_link(para, str(piece.citation.n), _cite_bookmark(piece.citation.n))


def _add_table(doc: Any, memo: Memo, bullets: list[Bullet], head: tuple[str, str]) -> None:
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, head):
        cell.paragraphs[0].add_run(title).bold = True
    for b in bullets:
        row = table.add_row().cells
        row[0].paragraphs[0].add_run(b.label)
        _add_text(row[1].paragraphs[0], memo, b)


def _add_citations(doc: Any, memo: Memo) -> None:
    """The "Citations" section: each entry bookmarked, its quote, where it stands, and the
    hidden anchor that lets ``briefing verify`` re-check it."""
    from docx.shared import Pt, RGBColor

    doc.add_heading("Citations", level=1)
    for c in memo.citations:
        para = doc.add_paragraph()
        _docx_bookmark(para, _cite_bookmark(c.n), c.n)
        para.add_run(str(c.n)).font.superscript = True
        para.add_run(f" {quoted(c.quote)} ")
        place = para.add_run(f"— {c.title}, {where(c)}")
        place.italic = True
        hidden = para.add_run(f" {anchor_text(c)}")
        hidden.font.hidden = True
        hidden.font.size = Pt(6)
        hidden.font.color.rgb = RGBColor(0x88, 0x88, 0x88)


def _cite_bookmark(n: int) -> str:
    return f"briefing_cite_{n}"


def _docx_bookmark(para: Any, name: str, bookmark_id: int) -> None:
    """A bookmark around the whole paragraph (python-docx has no API for one)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(bookmark_id))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(bookmark_id))
    para._p.insert(1 if para._p.pPr is not None else 0, start)  # after the paragraph properties
    para._p.append(end)


def _docx_link(para: Any, text: str, bookmark: str) -> None:
    """A superscript citation number that jumps to its entry under "Citations" (an internal
    hyperlink: ``w:hyperlink w:anchor``), styled as a link."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), bookmark)
    link.set(qn("w:history"), "1")
    run, props = OxmlElement("w:r"), OxmlElement("w:rPr")
    for tag, val in (("w:color", "1F4E9A"), ("w:u", "single"), ("w:vertAlign", "superscript")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        props.append(el)
    t = OxmlElement("w:t")
    t.text = text
    run.append(props)
    run.append(t)
    link.append(run)
    para._p.append(link)
