"""Briefing memos: gather, write (sections, budget, what is new since an earlier memo),
export (Markdown, DOCX, HTML with citation anchors) and re-check (``verify``)."""

from .model import EMPTY_NOTES, SECTION_TITLES, Bullet, Memo, MemoSource, Section, memo_from_json, one_line, quoted
from .write import write_memo

__all__ = ["write_memo", "Memo", "Section", "Bullet", "MemoSource", "SECTION_TITLES", "EMPTY_NOTES", "memo_from_json",
           "one_line", "quoted"]
