"""Writing a briefing memo: a structured memo on a topic across all sources, every bullet cited.

``write_memo(assistant, topic)`` gathers broadly (``gather``), then writes the sections
(``sections``, ``contrast``): bottom line, key developments, positions by actor, where the
sources disagree, what is unconfirmed or disputed, timeline, open questions, who said what;
holds them to the length budget (``budget``); and lists the sources. Extractive by default:
every bullet quotes whole sentences of a source verbatim, with a citation whose quote is
exactly ``document.text[start:end]``, checked with ``citation_valid`` before it is kept.
With a language model configured (``llm=`` or ``BRIEFING_LLM``) the bottom line is written
by the model from numbered sentences and each of its sentences is kept only if the
sentences it cites support it (``generate``); everything else stays extractive. With an
earlier memo (``since``) it opens with what is new since. Exports live in ``export``;
re-checking a saved memo in ``verify``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from index_build.core.errors import BriefingError
from index_build.embed import Embedder

from ..answer.verify import citation_valid
from ..answer.view import IndexView
from ..models import Citation, Filters
from .budget import TRIMMED_NOTE, within_budget, word_budget
from .centrality import bottom_line
from .contrast import disagreements
from .gather import Gathered, _chunk_rows, gather
from .generate import generated_bottom_line
from .model import EMPTY_NOTES, SECTION_TITLES, Bullet, Memo, MemoSource, Section, one_line, quoted
from .sections import Draft, developments, open_questions, timeline, unconfirmed
from .since import PriorMemo, changed_checks, new_drafts, prior_label
from .verify import CitationCheck
from .voices import positions, who_said_what

if TYPE_CHECKING:
    from ..answer.service import Assistant

__all__ = ["write_memo"]

Progress = Callable[[str, int, int], None]


class _Citer:
    """Numbers citations in order of first use; one number per distinct span."""

    def __init__(self, corpus: IndexView, g: Gathered):
        self.corpus = corpus
        self.g = g
        self.by_span: dict[tuple[str, int, int], int] = {}
        self.citations: list[Citation] = []

    def cite_span(self, doc_id: str, start: int, end: int) -> int | None:
        key = (doc_id, start, end)
        if key in self.by_span:
            return self.by_span[key]
        an = self.g.docs.get(doc_id)
        doc = an.doc if an is not None else self.corpus.document(doc_id)  # (a changed earlier citation's)
        if doc is None:
            return None
        if an is None and doc_id not in self.g._chunks:
            self.g._chunks.update(_chunk_rows(self.corpus, {doc_id}))
        c = Citation(n=len(self.citations) + 1, chunk_id=self.g.chunk_for(doc_id, start, end), doc_id=doc_id,
                     source=doc.source, title=doc.title, start=start, end=end, quote=doc.text[start:end])
        if not citation_valid(self.corpus, c):  # re-read from the record, never trusted
            return None
        self.citations.append(c)
        self.by_span[key] = c.n
        return c.n

    def bullets(self, drafts: list[Draft]) -> list[Bullet]:
        return [b for b in (self.bullet(d) for d in drafts) if b is not None]

    def bullet(self, d: Draft) -> Bullet | None:
        parts, numbers = [], []
        for doc_id, first, last, lead in d.units:
            start, end = self.g.docs[doc_id].span(first, last)
            n = self.cite_span(doc_id, start, end)
            if n is None:
                continue
            parts.append(f"{lead}{one_line(self.g.docs[doc_id].doc.text[start:end])} [{n}]")
            numbers.append(n)
        if not numbers:
            return None
        return Bullet(" ".join(parts), tuple(numbers), d.label, d.group)


def write_memo(assistant: Assistant, topic: str, filters: Filters = Filters(), progress: Progress | None = None,
               llm: str | None = None, now: dt.datetime | None = None, long: bool = False,
               since: PriorMemo | None = None) -> Memo:
    """A briefing memo on ``topic`` from the assistant's index.

    ``progress(stage, done, total)`` is called as work proceeds (stages ``gather``,
    ``write``). ``llm``: a generator spec as for answers (``extractive`` forces the
    extractive memo; default: the configured ``BRIEFING_LLM``, else extractive).
    ``long``: no length budget (by default the memo's words are at most a quarter of the
    words of the documents it cites, and at most ``MAX_WORDS``; see ``budget``).
    ``since``: an earlier memo (``since.read_prior``); the memo then opens with what
    is new since it and which of its citations changed."""
    topic = (topic or "").strip()
    if not topic:
        raise BriefingError("a memo needs a topic, e.g. briefing memo \"Russia and the North Korea sanctions\"")
    progress = progress or (lambda stage, done, total: None)
    t0 = time.perf_counter()
    corpus: IndexView = assistant.corpus.snapshot()  # one generation throughout
    g = gather(corpus, topic, filters, progress)
    t1 = time.perf_counter()
    citer = _Citer(corpus, g)
    generator = assistant.generator_for(llm)  # the same choice of language model as for answers
    drafts = _drafts(g, corpus.embedder, progress)
    changed: list[CitationCheck] = []
    if since is not None:
        indexed_at = {d.doc_id: d.indexed_at or 0.0 for d in corpus.summaries()}
        drafts = {"new_since": new_drafts(g, drafts, since, indexed_at), **drafts}
        changed = changed_checks(since, corpus)
    budget = None if long else word_budget(g, drafts)
    trimmed: set[str] = set()
    if budget is not None:
        drafts, trimmed = within_budget(g, drafts, budget)
    sections = _since_sections(citer, drafts.pop("new_since"), changed, since) if since is not None else []
    dropped: list[str] = []
    steps = list(SECTION_TITLES)
    for key in steps:
        if key == "bottom_line" and generator is not None and g.pool:
            bullets, lost = generated_bottom_line(generator, g, citer, partial(citer.bullets, drafts[key]))
            dropped += lost
        else:
            bullets = citer.bullets(drafts[key])
        note = "" if bullets else (TRIMMED_NOTE if key in trimmed else EMPTY_NOTES[key])
        sections.append(Section(key, SECTION_TITLES[key], tuple(bullets), note))
    progress("write", len(steps), len(steps))
    sources = _sources(g, citer.citations)
    t2 = time.perf_counter()
    when = (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    return Memo(topic, when, tuple(sections), tuple(citer.citations), tuple(sources), filters,
                "generative" if generator is not None else "extractive",
                {**g.timings_ms, "gather": (t1 - t0) * 1000, "write": (t2 - t1) * 1000, "total": (t2 - t0) * 1000},
                tuple(dropped), budget)


def _drafts(g: Gathered, embedder: Embedder, progress: Progress) -> dict[str, list[Draft]]:
    """Each section's draft items, in the memo's order. A sentence the leading sections quote
    is not quoted again by a later one (``used``), and what they said steers the open
    questions away from it (``said``)."""
    used: set[tuple[str, int]] = set()
    said: list[str] = []
    builders = {
        "bottom_line": lambda: bottom_line(g, embedder),
        "developments": lambda: developments(g, used, said),
        "positions": lambda: positions(g, used),  # actors of the leading sentences come first
        "disagreements": lambda: disagreements(g),
        "unconfirmed": lambda: unconfirmed(g, used),
        "timeline": lambda: timeline(g),
        "open_questions": lambda: open_questions(g, used, said),
        "who_said_what": lambda: who_said_what(g),
    }
    steps = list(SECTION_TITLES)
    drafts: dict[str, list[Draft]] = {}
    for i, key in enumerate(steps):
        progress("write", i, len(steps))
        drafts[key] = builders[key]()
        if key in ("bottom_line", "developments", "unconfirmed", "open_questions"):
            for d in drafts[key]:
                used |= d.keys
                for doc_id, first, last, _ in d.units:
                    start, end = g.docs[doc_id].span(first, last)
                    said.append(g.docs[doc_id].doc.text[start:end])
    return drafts


def _since_sections(citer: _Citer, new: list[Draft], changed: list[CitationCheck], since: PriorMemo) -> list[Section]:
    """The two sections a memo written against an earlier one opens with."""
    when = prior_label(since)
    bullets = citer.bullets(new)
    fresh = Section("new_since", f"New since {when}", tuple(bullets),
                    "" if bullets else f"Nothing in the sources is new since the memo of {when}.")
    bullets = _changed_bullets(citer, changed, since)
    return [fresh, Section("changed", f"Changed since {when}", tuple(bullets),
                           "" if bullets else "Every citation of the earlier memo still holds.")]


def _changed_bullets(citer: _Citer, checks: list[CitationCheck], prior: PriorMemo) -> list[Bullet]:
    """One item per changed or gone citation of the earlier memo: what it quoted, and what
    its document says there now (cited), if anything."""
    quotes = {(a.n, a.doc_id, a.start, a.end): a.quote or "" for a in prior.anchors}
    out = []
    for c in checks:
        was = quoted(quotes.get((c.n, c.doc_id, c.start, c.end), ""))
        if c.status == "missing":
            out.append(Bullet(f"{was} — {c.source} is no longer in the index.", (), f"Gone (earlier [{c.n}])"))
            continue
        n = None
        if c.new_start is not None and c.new_end is not None:
            n = citer.cite_span(c.doc_id, c.new_start, c.new_end)
        if n is None:
            out.append(Bullet(f"{was} — no longer in {c.source}.", (), f"Changed (earlier [{c.n}])"))
        else:
            now = one_line(citer.citations[n - 1].quote)
            out.append(Bullet(f"{was} now reads: {now} [{n}]", (n,), f"Changed (earlier [{c.n}])"))
    return out


def _sources(g: Gathered, citations: list[Citation]) -> list[MemoSource]:
    out: dict[str, MemoSource] = {}
    for c in citations:
        if c.doc_id not in out:
            d = g.docs[c.doc_id].doc
            out[c.doc_id] = MemoSource(d.doc_id, d.source, d.title, d.publisher, d.published, d.url)
    return list(out.values())
