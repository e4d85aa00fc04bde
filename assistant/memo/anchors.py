"""Citation anchors: the machine-readable line every memo export carries per citation, so
``briefing verify`` (and ``--since-memo``) can re-check a saved memo against the index.

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
from urllib.parse import quote as _pct
from urllib.parse import unquote

from ..models import Citation

__all__ = ["Anchor", "anchor_text", "parse_anchors", "move_anchors", "quote_sha256"]

_ANCHOR = re.compile(r"briefing-cite((?:\s+[a-z0-9]+=[^\s<>]*)+)")


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


def _anchor(m: re.Match[str]) -> Anchor | None:
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

    def move(m: re.Match[str]) -> str:
        nonlocal count
        a = _anchor(m)
        new = moves.get((a.n, a.doc_id, a.start, a.end)) if a else None
        if a is None or not new:
            return str(m.group(0))
        count += 1
        return anchor_text(Citation(a.n, "", a.doc_id, a.source, "", *new))

    return _ANCHOR.sub(move, text), count
