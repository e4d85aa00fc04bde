"""Memo exports: Markdown, DOCX and print-ready HTML, each with machine-readable citation
anchors so ``briefing verify`` can re-check a saved memo against the index.

An anchor is one line of text::

    briefing-cite n=1 doc=<doc id> source=<path, %-encoded> start=72 end=232 sha256=<hex> quote=<%-encoded>

``sha256`` is of the quote's UTF-8 bytes; ``quote`` carries the exact text so a moved
quote can be found again. Markdown and HTML hold it in an HTML comment after the citation;
DOCX as a hidden run (``w:vanish``) in the citation's paragraph of the "Citations"
section, which python-docx reads back as text and Word does not display or print.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from urllib.parse import quote as _pct
from urllib.parse import unquote

from index_build.core.errors import BriefingError

from ..models import Citation
from .model import Bullet, Memo, one_line, quoted

__all__ = ["Anchor", "anchor_text", "parse_anchors", "move_anchors", "to_markdown", "to_html", "to_docx", "export",
           "export_all", "file_stem", "quote_sha256", "EXPORT_FORMATS"]

EXPORT_FORMATS = (".md", ".docx", ".html")
_ANCHOR = re.compile(r"briefing-cite((?:\s+[a-z0-9]+=[^\s<>]*)+)")
_MARKER = re.compile(r"\s?\[(\d+)\]")


def quote_sha256(quote: str) -> str:
    return hashlib.sha256(quote.encode("utf-8", "surrogatepass")).hexdigest()


def _enc(value: str) -> str:
    # "-" too, so an anchor never holds "--" (which would end an HTML comment)
    return _pct(value, safe="").replace("-", "%2D")


@dataclass(frozen=True)
class Anchor:
    n: int
    doc_id: str
    source: str
    start: int
    end: int
    sha256: str
    quote: str | None  # None when the anchor did not carry it


def anchor_text(c: Citation) -> str:
    return (f"briefing-cite n={c.n} doc={c.doc_id} source={_enc(c.source)} start={c.start} end={c.end} "
            f"sha256={quote_sha256(c.quote)} quote={_enc(c.quote)}")


def _anchor(m: re.Match) -> Anchor | None:
    fields = dict(kv.split("=", 1) for kv in m.group(1).split())
    try:
        return Anchor(int(fields["n"]), fields["doc"], unquote(fields.get("source", "")),
                      int(fields["start"]), int(fields["end"]), fields.get("sha256", ""),
                      unquote(fields["quote"]) if "quote" in fields else None)
    except (KeyError, ValueError):
        return None  # a damaged anchor: reported by the caller as a count mismatch


def parse_anchors(text: str) -> list[Anchor]:
    """Every citation anchor in ``text`` (Markdown, HTML or text read from a DOCX)."""
    return [a for a in map(_anchor, _ANCHOR.finditer(text)) if a]


def move_anchors(text: str, moves: dict[tuple[int, str, int, int], tuple[int, int, str]]) -> tuple[str, int]:
    """``text`` with the anchors in ``moves`` — ``(n, doc_id, start, end)`` → ``(start, end,
    quote)`` now — rewritten to the new span, and how many were."""
    count = 0

    def move(m: re.Match) -> str:
        nonlocal count
        a = _anchor(m)
        new = moves.get((a.n, a.doc_id, a.start, a.end)) if a else None
        if not new:
            return m.group(0)
        count += 1
        return anchor_text(Citation(a.n, "", a.doc_id, a.source, "", *new))

    return _ANCHOR.sub(move, text), count


def _meta_line(memo: Memo) -> str:
    parts = [f"Generated {memo.generated.replace('T', ' ')}", f"{memo.mode} memo",
             f"{len(memo.sources)} source{'s' if len(memo.sources) != 1 else ''}",
             f"{len(memo.citations)} citation{'s' if len(memo.citations) != 1 else ''}"]
    f = memo.filters
    if not f.is_empty():
        bits = [*(f"source {s}" for s in f.sources), *(f"publisher {p}" for p in f.publishers)]
        bits += [f"since {f.since}"] if f.since else []
        bits += [f"until {f.until}"] if f.until else []
        parts.append("filters: " + ", ".join(bits))
    return " · ".join(parts)


def _where(c: Citation) -> str:
    return f"{c.source}, characters {c.start}–{c.end}"


def _source_line(s) -> str:
    return " — ".join(x for x in (s.title or "(untitled)", s.publisher, s.published or "undated", s.source) if x)


def _groups(bullets: tuple[Bullet, ...]):
    """Consecutive bullets under the same sub-heading."""
    out: list[tuple[str, list[Bullet]]] = []
    for b in bullets:
        if out and out[-1][0] == b.group:
            out[-1][1].append(b)
        else:
            out.append((b.group, [b]))
    return out


# -- Markdown --------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_text(b: Bullet) -> str:
    pieces, last = [], 0
    for m in _MARKER.finditer(b.text):
        if int(m.group(1)) not in b.citations:
            continue
        pieces.append(_md(b.text[last:m.start()]) + f" [{m.group(1)}]")
        last = m.end()
    pieces.append(_md(b.text[last:]))
    return "".join(pieces).strip()


def _md_bullet(b: Bullet) -> str:
    label = f"**{_md(b.label)}:** " if b.label else ""
    return f"- {label}{_md_text(b)}"


# Sections shown as a table per group (its items' label in the first column).
TABLE_SECTIONS = {"who_said_what": ("Outlet", "Statement")}


def to_markdown(memo: Memo) -> str:
    lines = [f"# {_md(memo.title)}", "", f"*{_md(_meta_line(memo))}*", ""]
    for s in memo.sections:
        lines += [f"## {s.title}", ""]
        if not s.bullets:
            lines += [f"*{_md(s.note)}*", ""]
        for group, bullets in _groups(s.bullets):
            if group:
                lines += [f"### {_md(group)}", ""]
            if s.key in TABLE_SECTIONS:
                head = TABLE_SECTIONS[s.key]
                lines += [f"| {head[0]} | {head[1]} |", "|---|---|"]
                lines += [f"| {_md(b.label)} | {_md_text(b)} |" for b in bullets] + [""]
            else:
                lines += [_md_bullet(b) for b in bullets] + [""]
    lines += ["## Sources", ""]
    for i, s in enumerate(memo.sources, 1):
        about = " — ".join(x for x in (s.title or "(untitled)", s.publisher, s.published or "undated") if x)
        lines.append(f"{i}. {_md(about)} — `{s.source}`")
    if not memo.sources:
        lines.append("*No sources cited.*")
    lines += ["", "## Citations", ""]
    for c in memo.citations:
        lines += [f"**[{c.n}]** {_md(c.title)} — `{c.source}`, characters {c.start}–{c.end}", "",
                  f"> {_md(one_line(c.quote))}", "", f"<!-- {anchor_text(c)} -->", ""]
    return "\n".join(lines).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------------
_CSS = """
:root { color-scheme: light; }
body { font: 11pt/1.5 Georgia, 'Times New Roman', serif; color: #111; max-width: 46rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #999; margin-top: 1.8rem;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 1.05rem; margin: 1rem 0 .3rem; break-after: avoid; page-break-after: avoid; }
.meta { color: #555; font-style: italic; margin-top: 0; }
li { margin: .25rem 0; break-inside: avoid; page-break-inside: avoid; }
.label { font-weight: bold; }
.note { color: #555; font-style: italic; }
sup.cite a { text-decoration: none; color: #1a4f8b; font-family: Arial, sans-serif; font-size: .75em; }
ol.citations li { margin-bottom: .6rem; }
ol.citations blockquote { margin: .1rem 0 .1rem 1rem; padding-left: .6rem; border-left: 3px solid #bbb; }
.where { color: #555; font-size: .9em; }
table.statements { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; }
table.statements th, table.statements td { border: 1px solid #bbb; padding: .25rem .4rem; text-align: left;
                                           vertical-align: top; }
table.statements td:first-child { width: 28%; color: #333; }
table.statements tr { break-inside: avoid; page-break-inside: avoid; }
@page { size: A4; margin: 2cm 2cm 2.2cm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  a { color: inherit; }
  sup.cite a { color: #000; }
  section.citations { break-before: page; page-break-before: always; }
}
"""


def _html_bullet(b: Bullet, memo: Memo) -> str:
    label = f'<span class="label">{escape(b.label)}:</span> ' if b.label else ""
    return f"<li>{label}{_html_text(b, memo)}</li>"


def _html_text(b: Bullet, memo: Memo) -> str:
    pieces, last = [], 0
    for m in _MARKER.finditer(b.text):
        n = int(m.group(1))
        if n not in b.citations:
            continue
        c = memo.citation(n)
        pieces.append(escape(b.text[last:m.start()]))
        pieces.append(f'<sup class="cite"><a href="#cite-{n}" data-cite="{escape(c.doc_id)}:{c.start}:{c.end}" '
                      f'title="{escape(c.source)}">[{n}]</a></sup>')
        last = m.end()
    pieces.append(escape(b.text[last:]))
    return "".join(pieces).strip()


def to_html(memo: Memo, standalone: bool = True) -> str:
    """Print-ready HTML. Every piece of source text is escaped. ``standalone=False`` gives
    just the ``<article>`` (for embedding in a page); citation links carry
    ``data-cite="doc_id:start:end"``."""
    out = ['<article class="memo">', f"<header><h1>{escape(memo.title)}</h1>",
           f'<p class="meta">{escape(_meta_line(memo))}</p></header>']
    for s in memo.sections:
        out.append(f'<section class="{escape(s.key)}" id="{escape(s.key)}"><h2>{escape(s.title)}</h2>')
        if not s.bullets:
            out.append(f'<p class="note">{escape(s.note)}</p>')
        for group, bullets in _groups(s.bullets):
            if group:
                out.append(f"<h3>{escape(group)}</h3>")
            if s.key in TABLE_SECTIONS:
                head = TABLE_SECTIONS[s.key]
                out.append(f'<table class="statements"><thead><tr><th scope="col">{escape(head[0])}</th>'
                           f'<th scope="col">{escape(head[1])}</th></tr></thead><tbody>'
                           + "".join(f"<tr><td>{escape(b.label)}</td><td>{_html_text(b, memo)}</td></tr>"
                                     for b in bullets) + "</tbody></table>")
            else:
                out.append("<ul>" + "".join(_html_bullet(b, memo) for b in bullets) + "</ul>")
        out.append("</section>")
    out.append('<section class="sources" id="sources"><h2>Sources</h2><ol>')
    out += [f"<li>{escape(_source_line(s))}</li>" for s in memo.sources]
    out.append('</ol></section><section class="citations" id="citations"><h2>Citations</h2><ol class="citations">')
    for c in memo.citations:
        out.append(f'<li id="cite-{c.n}"><blockquote>{escape(one_line(c.quote))}</blockquote>'
                   f'<span class="where">{escape(c.title)} — {escape(_where(c))}</span>'
                   f"<!-- {anchor_text(c)} --></li>")
    out.append("</ol></section></article>")
    body = "\n".join(out)
    if not standalone:
        return body
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(memo.title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


# -- DOCX ------------------------------------------------------------------------------------
def to_docx(memo: Memo, path: Path) -> Path:
    """A Word document: real headings, superscript citation numbers, a "Citations" section
    (footnote-style, python-docx has no footnote API) whose entries carry hidden anchors."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
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
    doc.add_heading(memo.title, level=0)
    meta = doc.add_paragraph()
    meta.add_run(_meta_line(memo)).italic = True

    def add_bullet(b: Bullet) -> None:
        para = doc.add_paragraph(style="List Bullet")
        if b.label:
            para.add_run(f"{b.label}: ").bold = True
        add_text(para, b)

    def add_table(bullets: list[Bullet], head: tuple[str, str]) -> None:
        table = doc.add_table(rows=1, cols=2)
        table.style = "Table Grid"
        for cell, title in zip(table.rows[0].cells, head):
            cell.paragraphs[0].add_run(title).bold = True
        for b in bullets:
            row = table.add_row().cells
            row[0].paragraphs[0].add_run(b.label)
            add_text(row[1].paragraphs[0], b)

    def add_text(para, b: Bullet) -> None:
        last = 0
        for m in _MARKER.finditer(b.text):
            if int(m.group(1)) not in b.citations:
                continue
            para.add_run(b.text[last:m.start()])
            _docx_link(para, m.group(1), _cite_bookmark(int(m.group(1))))
            last = m.end()
        if b.text[last:]:
            para.add_run(b.text[last:])

    for s in memo.sections:
        doc.add_heading(s.title, level=1)
        if not s.bullets:
            doc.add_paragraph().add_run(s.note).italic = True
        for group, bullets in _groups(s.bullets):
            if group:
                doc.add_heading(group, level=2)
            if s.key in TABLE_SECTIONS:
                add_table(bullets, TABLE_SECTIONS[s.key])
                continue
            for b in bullets:
                add_bullet(b)
    doc.add_heading("Sources", level=1)
    for s in memo.sources:
        doc.add_paragraph(_source_line(s), style="List Number")
    doc.add_heading("Citations", level=1)
    for c in memo.citations:
        para = doc.add_paragraph()
        _docx_bookmark(para, _cite_bookmark(c.n), c.n)
        para.add_run(str(c.n)).font.superscript = True
        para.add_run(f" {quoted(c.quote)} ")
        where = para.add_run(f"— {c.title}, {_where(c)}")
        where.italic = True
        hidden = para.add_run(f" {anchor_text(c)}")
        hidden.font.hidden = True
        hidden.font.size = Pt(6)
        hidden.font.color.rgb = RGBColor(0x88, 0x88, 0x88)
    path = Path(path)
    doc.save(str(path))
    return path


def _cite_bookmark(n: int) -> str:
    return f"briefing_cite_{n}"


def _docx_bookmark(para, name: str, bookmark_id: int) -> None:
    """A bookmark around the whole paragraph (python-docx has no API for one)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(bookmark_id))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(bookmark_id))
    para._p.insert(1 if para._p.pPr is not None else 0, start)  # after the paragraph properties
    para._p.append(end)


def _docx_link(para, text: str, bookmark: str) -> None:
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


def file_stem(memo: Memo) -> str:
    """A file name for the memo: ``briefing-<topic words>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", memo.topic.lower()).strip("-")[:60].rstrip("-")
    return f"briefing-{slug or 'memo'}"


def export_all(memo: Memo, folder: str | Path) -> dict[str, Path]:
    """The memo as Markdown, DOCX and HTML files in ``folder``: {".md": path, …}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {suffix: export(memo, folder / f"{file_stem(memo)}{suffix}") for suffix in EXPORT_FORMATS}


def export(memo: Memo, path: str | Path) -> Path:
    """Write ``memo`` to ``path``; the format follows the suffix (.md, .docx, .html)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS and suffix not in (".markdown", ".htm"):
        raise BriefingError(f"{path}: unknown memo format {suffix or '(none)'}; use .md, .docx or .html")
    if path.parent and not path.parent.is_dir():
        raise BriefingError(f"{path.parent}: no such folder for the memo")
    if suffix == ".docx":
        return to_docx(memo, path)
    text = to_markdown(memo) if suffix in (".md", ".markdown") else to_html(memo)
    path.write_text(text, encoding="utf-8")
    return path
