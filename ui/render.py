"""HTML and Markdown views of answers and articles for the web app.

The markup is in ``ui/templates/views.html.j2`` (Jinja2, one macro per view, autoescaped):
source text is untrusted input, and every piece of it is escaped before it reaches the page,
so markup or scripts in an article show as text. Citation markers become
links that carry a citation reference (``doc_id:start:end``); a small script in the page
turns a click on one into a request to open the source viewer (see ``ui/web.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

from assistant.models import Answer, Citation, Passage
from index_build.core.models import Document
from index_build.status import IndexStatus

__all__ = ["cite_ref", "parse_cite_ref", "highlight_span", "article_html", "answer_html",
           "streaming_html", "question_html", "answer_markdown", "status_html", "build_report_html",
           "memo_preview_html", "notice_html", "memo_status_html", "undated_note", "updated_text",
           "EMPTY_VIEWER", "EMPTY_MEMO"]

_MARKER = re.compile(r"\[(\d+)\]")
_REF = re.compile(r"^([0-9a-f]{8,64}):(\d{1,9}):(\d{1,9})$")
# A memo marker link as ``assistant.memo.export.to_html`` writes it.
_MEMO_LINK = re.compile(r'<a href="#cite-(\d+)" data-cite="([^"]*)"')
SNIPPET_CHARS = 220

EMPTY_VIEWER = (
    '<div class="viewer-empty"><p><strong>Source viewer</strong></p>'
    "<p>Click a citation such as [1] in an answer to open the article here, "
    "with the cited passage highlighted.</p></div>"
)

EMPTY_MEMO = ('<div class="memo-empty"><p>Write a memo on a topic: a structured brief in which every '
              "bullet cites its passage. Click a marker such as [1] to read it in context.</p></div>")


@lru_cache(maxsize=1)
def _views() -> Any:
    """The macros of ``templates/views.html.j2``, each a function returning escaped HTML."""
    env = Environment(loader=PackageLoader("ui", "templates"), autoescape=True)
    return env.get_template("views.html.j2").module


def _html(macro: str, *args: Any) -> str:
    return str(getattr(_views(), macro)(*args))


def cite_ref(doc_id: str, start: int, end: int) -> str:
    """The reference a citation link carries: ``doc_id:start:end``."""
    return f"{doc_id}:{int(start)}:{int(end)}"


def parse_cite_ref(ref: object) -> tuple[str, int, int] | None:
    """``(doc_id, start, end)`` from a reference sent by the browser, or None when it is not
    one (the browser is not trusted either)."""
    if not isinstance(ref, str):
        return None
    m = _REF.match(ref.strip())
    if not m:
        return None
    start, end = int(m.group(2)), int(m.group(3))
    return (m.group(1), start, end) if start <= end else None


def highlight_span(text: str, start: int, end: int, mark_id: str = "cited") -> str:
    """``text`` escaped, with ``text[start:end]`` wrapped in ``<mark id=…>``. Offsets are
    clamped to the text; an empty span leaves the text unmarked."""
    start = max(0, min(int(start), len(text)))
    end = max(start, min(int(end), len(text)))
    if start == end:
        return str(escape(text))
    return _html("highlight", text[:start], text[start:end], text[end:], mark_id)


def article_html(doc: Document, start: int | None = None, end: int | None = None) -> str:
    """The whole cleaned article with its metadata; the span ``start:end`` highlighted."""
    meta = [x for x in (doc.publisher, doc.published or "", doc.author) if x]
    if start is not None and end is not None:
        body = Markup(highlight_span(doc.text, start, end))
        note = (f"Cited passage highlighted (characters {int(start)}–{int(end)})." if 0 <= start < end <= len(doc.text)
                else "The cited span is no longer in this article; the source has changed.")
    else:
        body, note = Markup(escape(doc.text)), ""
    return _html("article", doc, body, meta, note)


def question_html(question: str) -> str:
    return _html("question", question)


def streaming_html(partial: str) -> str:
    """Text as it streams in, before its citations are final."""
    return _html("streaming", partial)


@dataclass(frozen=True)
class _Cite:
    """A citation as a link shows it."""
    n: int
    ref: str
    title: str
    source: str


@dataclass(frozen=True)
class _Piece:
    text: str = ""
    citation: _Cite | None = None
    strong: bool = False


def _cite(c: Citation) -> _Cite:
    return _Cite(c.n, cite_ref(c.doc_id, c.start, c.end), c.title, c.source)


def _answer_body(text: str, citations: dict[int, Citation], short_answer: str = "") -> list[_Piece]:
    """The answer's text cut at its [n] markers (a marker with no citation stays text); the
    first mention of the short answer, outside the markers, in bold."""
    out: list[_Piece] = []
    pos = 0
    for m in _MARKER.finditer(text):
        cit = citations.get(int(m.group(1)))
        if cit is None:
            continue
        out += [_Piece(text[pos:m.start()]), _Piece(citation=_cite(cit))]
        pos = m.end()
    out.append(_Piece(text[pos:]))
    if short_answer:
        for i, piece in enumerate(out):
            at = piece.text.find(short_answer) if piece.citation is None else -1
            if at >= 0:
                out[i:i + 1] = [_Piece(piece.text[:at]), _Piece(short_answer, strong=True),
                                _Piece(piece.text[at + len(short_answer):])]
                break
    return out


def _source_groups(citations: Iterable[Citation]) -> list[list[_Cite]]:
    """The citations grouped by document, in order of first citation."""
    by_doc: dict[str, list[_Cite]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(_cite(c))
    return list(by_doc.values())


def _near_passages(passages: Iterable[Passage]) -> list[dict[str, str]]:
    items = []
    for p in passages:
        snippet = " ".join(p.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rstrip() + "…"
        items.append({"ref": cite_ref(p.doc_id, p.start, p.end), "label": p.title or p.source,
                      "source": p.source, "snippet": snippet})
    return items


def undated_note(n: int) -> str:
    """What a date filter left out without saying: documents with no date never match one."""
    if n <= 0:
        return ""
    return (f"{n} undated document{'s were' if n != 1 else ' was'} left out by the date filter "
            f"(clear “Published since/until” to include {'them' if n != 1 else 'it'}).")


def notice_html(message: str) -> str:
    """One line under the question box or in the memo area: a mistake in what was typed."""
    return _html("notice", message)


def memo_status_html(memo: Any) -> str:
    """The line above a finished memo: what it holds, or that there is nothing to download."""
    line = (f'Memo written: {_count(len(memo.citations), "citation", "citations")} '
            f'from {_count(len(memo.sources), "document", "documents")}. Download it below.')
    return _html("memo_status", line, not memo.citations)


def answer_html(answer: Answer, note: str = "") -> str:
    """A final answer: its text with clickable [n] markers, then its sources; or, for an
    abstention, the statement and the closest passages. ``note`` (e.g. what a date filter
    left out) goes right under the statement, where it explains it."""
    if answer.abstained:
        return _html("answer", answer, [], note, [], _near_passages(answer.passages))
    body = _answer_body(answer.text, {c.n: c for c in answer.citations}, answer.short_answer or "")
    return _html("answer", answer, body, note, _source_groups(answer.citations), [])


def answer_markdown(answer: Answer, note: str = "") -> str:
    """The answer with its citations as Markdown, for copying elsewhere."""
    lines = [answer.text, ""] + ([f"_{note}_", ""] if note else [])
    if answer.abstained:
        for p in answer.passages:
            lines.append(f"- {p.title or p.source} ({p.source}, characters {p.start}–{p.end})")
    for c in answer.citations:
        quote = " ".join(c.quote.split())
        lines.append(f"[{c.n}] {c.title or c.source} — `{c.source}`, characters {c.start}–{c.end}  ")
        lines.append(f"> {quote}")
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def updated_text(when: datetime | None, now: datetime | None = None) -> str:
    """When the index last changed, as a person says it: ``today at 14:05``, ``yesterday at
    09:12``, ``on 3 May 2026``."""
    if when is None:
        return ""
    now = now or datetime.now()
    days = (now.date() - when.date()).days
    if days == 0:
        return f"today at {when:%H:%M}"
    if days == 1:
        return f"yesterday at {when:%H:%M}"
    return f"on {when.day} {when:%B %Y}"


def status_html(info: IndexStatus | None, problem: str = "", updated: datetime | None = None,
                now: datetime | None = None) -> str:
    """The index status line of the Sources tab: what a reader cares about (how much is
    indexed, and when); the machinery (embedder, store, folder) in a quieter line below."""
    if info is None:
        return _html("status", None, problem, (), "", "", "")
    counts = (_count(info.documents, "document", "documents"), _count(info.sources, "source file", "source files"),
              _count(info.chunks, "passage", "passages"))
    return _html("status", info, problem, counts, updated_text(updated, now), info.index_dir,
                 info.embedder or "unknown")


def build_report_html(report: Any, notes: Iterable[str] = (), errors: Iterable[tuple[str, str]] = ()) -> str:
    """What a rebuild did, with every file it could not use named."""
    lines = list(notes)
    problems = list(errors) + [(s.source, s.reason) for s in getattr(report, "skipped", [])]
    if report is not None:
        # No "skipped" count here: the list below names every file not indexed, and one
        # number for both (refused uploads are not the builder's skips) would disagree with it.
        lines.append(f"Index rebuilt in {report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
                     f"{report.removed} removed, {report.unchanged} unchanged. "
                     f"It holds {report.documents} documents, {report.chunks} passages.")
        lines += [f"Warning: {w}" for w in report.warnings]
    return _html("build_report", lines, problems, _count(len(problems), "file", "files"))


def memo_preview_html(memo_html: str) -> str:
    """The memo article from ``memo.export.to_html(memo, standalone=False)`` for the page:
    each citation marker link points at ``#cite:doc_id:start:end``, the form the page's
    click listener opens in the source viewer. A marker whose reference is malformed keeps
    its in-page link. The HTML is already escaped by the exporter."""
    def relink(m: re.Match[str]) -> str:
        ref = parse_cite_ref(m.group(2))
        if ref is None:
            return str(m.group(0))
        return f'<a class="cite" href="#cite:{escape(cite_ref(*ref))}" data-cite="{m.group(2)}"'
    return f'<div class="memo-preview">{_MEMO_LINK.sub(relink, memo_html)}</div>'
