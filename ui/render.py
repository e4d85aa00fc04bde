"""HTML and Markdown views of answers and articles for the web app.

Source text is untrusted input: every piece of it goes through ``html.escape`` before it
reaches the page, so markup or scripts in an article show as text. Citation markers become
links that carry a citation reference (``doc_id:start:end``); a small script in the page
turns a click on one into a request to open the source viewer (see ``ui/web.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from html import escape

from assistant.models import Answer, Citation, Passage
from index_build.core.models import Document

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
        return escape(text)
    return (f"{escape(text[:start])}<mark id=\"{escape(mark_id)}\">{escape(text[start:end])}</mark>"
            f"{escape(text[end:])}")


def _link(ref: str, label: str, title: str, cls: str = "cite") -> str:
    # The chat's HTML sanitizer keeps class, href and title (not data-* or aria-*): the
    # reference travels in the fragment.
    return f'<a class="{cls}" href="#cite:{escape(ref)}" title="{escape(title)}">{escape(label)}</a>'


def article_html(doc: Document, start: int | None = None, end: int | None = None) -> str:
    """The whole cleaned article with its metadata; the span ``start:end`` highlighted."""
    meta = [escape(x) for x in (doc.publisher, doc.published or "", doc.author) if x]
    meta.append(f"<code>{escape(doc.source)}</code>")
    if start is not None and end is not None:
        body = highlight_span(doc.text, start, end)
        note = (f'<p class="cited-note">Cited passage highlighted (characters {int(start)}–{int(end)}).</p>'
                if 0 <= start < end <= len(doc.text) else
                '<p class="cited-note">The cited span is no longer in this article; the source has changed.</p>')
    else:
        body, note = escape(doc.text), ""
    url = f'<p class="meta">{escape(doc.url)}</p>' if doc.url else ""
    return (
        f'<article class="source-view" aria-label="Source article">'
        f'<header class="source-head"><a class="back-to-answer" href="#back">↑ Back to the answer</a>'
        f'<h3 class="source-title">{escape(doc.title or doc.source)}</h3>'
        f'<p class="meta">{" · ".join(meta)}</p>{url}{note}</header>'
        f'<div class="article-body">{body}</div></article>'
    )


def question_html(question: str) -> str:
    return f'<div class="question">{escape(question)}</div>'


def streaming_html(partial: str) -> str:
    """Text as it streams in, before its citations are final."""
    return f'<div class="answer streaming">{escape(partial)}<span class="cursor" aria-hidden="true">▍</span></div>'


def _answer_body(text: str, citations: dict[int, Citation]) -> str:
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        out.append(escape(text[pos:m.start()]))
        cit = citations.get(int(m.group(1)))
        if cit is None:
            out.append(escape(m.group(0)))
        else:
            out.append(_link(cite_ref(cit.doc_id, cit.start, cit.end), f"[{cit.n}]",
                             f"Open source [{cit.n}]: {cit.title or cit.source}"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _sources_list(citations: Iterable[Citation]) -> str:
    by_doc: dict[str, list[Citation]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    items = []
    for cits in by_doc.values():
        first = cits[0]
        links = " ".join(_link(cite_ref(c.doc_id, c.start, c.end), f"[{c.n}]",
                               f"Open source [{c.n}]: {c.title or c.source}") for c in cits)
        items.append(f"<li>{links} {escape(first.title or first.source)} — "
                     f"<code>{escape(first.source)}</code></li>")
    return f'<div class="answer-sources"><p>Sources</p><ul>{"".join(items)}</ul></div>'


def _passages_list(passages: Iterable[Passage]) -> str:
    items = []
    for p in passages:
        snippet = " ".join(p.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rstrip() + "…"
        label = p.title or p.source
        link = _link(cite_ref(p.doc_id, p.start, p.end), label, f"Open passage: {label}", "cite passage")
        items.append(f"<li>{link} — "
                     f"<code>{escape(p.source)}</code><br><span class=\"snippet\">{escape(snippet)}</span></li>")
    if not items:
        return ""
    return f'<div class="answer-sources"><p>Closest passages</p><ol>{"".join(items)}</ol></div>'


def undated_note(n: int) -> str:
    """What a date filter left out without saying: documents with no date never match one."""
    if n <= 0:
        return ""
    return (f"{n} undated document{'s were' if n != 1 else ' was'} left out by the date filter "
            f"(clear “Published since/until” to include {'them' if n != 1 else 'it'}).")


def notice_html(message: str) -> str:
    """One line under the question box or in the memo area: a mistake in what was typed."""
    return f'<p class="notice" role="alert">{escape(message)}</p>' if message else ""


def memo_status_html(memo) -> str:
    """The line above a finished memo: what it holds, or that there is nothing to download."""
    if not memo.citations:
        return ('<p class="hint memo-done">Nothing to download: the sources hold nothing on this topic. '
                "Try other words, or clear the filters.</p>")
    n_docs = len(memo.sources)
    return (f'<p class="hint memo-done">Memo written: {_count(len(memo.citations), "citation", "citations")} '
            f'from {_count(n_docs, "document", "documents")}. Download it below.</p>')


def answer_html(answer: Answer, note: str = "") -> str:
    """A final answer: its text with clickable [n] markers, then its sources; or, for an
    abstention, the statement and the closest passages. ``note`` (e.g. what a date filter
    left out) goes right under the statement, where it explains it."""
    note_html = f'<p class="filter-note">{escape(note)}</p>' if note else ""
    if answer.abstained:
        return (f'<div class="answer abstained"><p class="abstain">{escape(answer.text)}</p>{note_html}'
                f"{_passages_list(answer.passages)}</div>")
    cits = {c.n: c for c in answer.citations}
    body = _answer_body(answer.text, cits)
    if answer.short_answer and escape(answer.short_answer) in body:  # the entity that answers, in bold
        mark = escape(answer.short_answer)
        body = body.replace(mark, f'<strong class="short-answer">{mark}</strong>', 1)
    return (f'<div class="answer"><p>{body}</p>{note_html}'
            f"{_sources_list(answer.citations) if answer.citations else ''}</div>")


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


def status_html(info: dict | None, problem: str = "", updated: datetime | None = None,
                now: datetime | None = None) -> str:
    """The index status line of the Sources tab: what a reader cares about (how much is
    indexed, and when); the machinery (embedder, store, folder) in a quieter line below."""
    if info is None:
        return f'<p class="index-status" role="status">No index yet. {escape(problem)}</p>'
    when = updated_text(updated, now)
    line = (f'<strong>{_count(int(info["documents"]), "document", "documents")}</strong> from '
            f'{_count(int(info["sources"]), "source file", "source files")}, '
            f'{_count(int(info["chunks"]), "passage", "passages")}' + (f" · updated {when}" if when else ""))
    detail = (f'Index folder {escape(str(info["index_dir"]))}, embedder '
              f'{escape(str(info.get("embedder") or "unknown"))}.')
    return f'<p class="index-status" role="status">{line}</p><p class="index-detail">{detail}</p>'


def build_report_html(report, notes: Iterable[str] = (), errors: Iterable[tuple[str, str]] = ()) -> str:
    """What a rebuild did, with every file it could not use named."""
    parts = [f"<li>{escape(n)}</li>" for n in notes]
    problems = list(errors) + [(s["source"], s["reason"]) for s in getattr(report, "skipped", [])]
    if report is not None:
        # No "skipped" count here: the list below names every file not indexed, and one
        # number for both (refused uploads are not the builder's skips) would disagree with it.
        summary = (f"Index rebuilt in {report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
                   f"{report.removed} removed, {report.unchanged} unchanged. "
                   f"It holds {report.documents} documents, {report.chunks} passages.")
        parts.append(f"<li>{escape(summary)}</li>")
        parts.extend(f"<li>Warning: {escape(w)}</li>" for w in report.warnings)
    items = "".join(parts)
    errs = "".join(f"<li><code>{escape(src)}</code>: {escape(reason)}</li>" for src, reason in problems)
    out = f'<ul class="build-log">{items}</ul>' if items else ""
    if errs:
        out += (f'<div class="build-errors" role="alert"><p>{_count(len(problems), "file", "files")} '
                f"not indexed:</p><ul>{errs}</ul></div>")
    return out or "<p>Nothing to report.</p>"


def memo_preview_html(memo_html: str) -> str:
    """The memo article from ``memo.export.to_html(memo, standalone=False)`` for the page:
    each citation marker link points at ``#cite:doc_id:start:end``, the form the page's
    click listener opens in the source viewer. A marker whose reference is malformed keeps
    its in-page link. The HTML is already escaped by the exporter."""
    def relink(m: re.Match) -> str:
        ref = parse_cite_ref(m.group(2))
        if ref is None:
            return m.group(0)
        return f'<a class="cite" href="#cite:{escape(cite_ref(*ref))}" data-cite="{m.group(2)}"'
    return f'<div class="memo-preview">{_MEMO_LINK.sub(relink, memo_html)}</div>'
