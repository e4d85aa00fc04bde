"""Memo exports: Markdown, print-ready HTML (a Jinja2 template, autoescaped) and DOCX
(``word``), each with machine-readable citation anchors (``anchors``) so ``briefing verify``
can re-check a saved memo against the index."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, Template

from index_build.core.errors import BriefingError

from .anchors import anchor_text
from .layout import TABLE_SECTIONS, groups, meta_line, pieces, source_line, where
from .model import Bullet, Memo, one_line
from .word import to_docx

__all__ = ["to_markdown", "to_html", "to_docx", "export", "export_all", "file_stem", "EXPORT_FORMATS"]

EXPORT_FORMATS = (".md", ".docx", ".html")


# -- Markdown --------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_text(b: Bullet, memo: Memo) -> str:
    return "".join(_md(p.text) if p.citation is None else f" [{p.citation.n}]" for p in pieces(b, memo)).strip()


def _md_bullet(b: Bullet, memo: Memo) -> str:
    label = f"**{_md(b.label)}:** " if b.label else ""
    return f"- {label}{_md_text(b, memo)}"


def to_markdown(memo: Memo) -> str:
    lines = [f"# {_md(memo.title)}", "", f"*{_md(meta_line(memo))}*", ""]
    for s in memo.sections:
        lines += [f"## {s.title}", ""]
        if not s.bullets:
            lines += [f"*{_md(s.note)}*", ""]
        for group, bullets in groups(s.bullets):
            if group:
                lines += [f"### {_md(group)}", ""]
            if s.key in TABLE_SECTIONS:
                head = TABLE_SECTIONS[s.key]
                lines += [f"| {head[0]} | {head[1]} |", "|---|---|"]
                lines += [f"| {_md(b.label)} | {_md_text(b, memo)} |" for b in bullets] + [""]
            else:
                lines += [_md_bullet(b, memo) for b in bullets] + [""]
    lines += ["## Sources", ""]
    for i, src in enumerate(memo.sources, 1):
        about = " — ".join(x for x in (src.title or "(untitled)", src.publisher, src.published or "undated") if x)
        lines.append(f"{i}. {_md(about)} — `{src.source}`")
    if not memo.sources:
        lines.append("*No sources cited.*")
    lines += ["", "## Citations", ""]
    for c in memo.citations:
        lines += [f"**[{c.n}]** {_md(c.title)} — `{c.source}`, characters {c.start}–{c.end}", "",
                  f"> {_md(one_line(c.quote))}", "", f"<!-- {anchor_text(c)} -->", ""]
    return "\n".join(lines).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=PackageLoader("assistant.memo", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("memo.html.j2")


def to_html(memo: Memo, standalone: bool = True) -> str:
    """Print-ready HTML (``templates/memo.html.j2``). Every piece of source text is escaped
    (autoescape). ``standalone=False`` gives just the ``<article>`` (for embedding in a page);
    citation links carry ``data-cite="doc_id:start:end"``."""
    sections = [{"key": s.key, "title": s.title, "note": s.note, "bullets": s.bullets, "groups": groups(s.bullets),
                 "head": TABLE_SECTIONS.get(s.key)} for s in memo.sections]
    return _template().render(memo=memo, standalone=standalone, sections=sections, meta_line=meta_line(memo),
                              source_lines=[source_line(s) for s in memo.sources], one_line=one_line,
                              where=where, anchor=anchor_text, pieces=lambda b: pieces(b, memo))


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
