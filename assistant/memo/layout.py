"""What every memo format lays out the same way: the date line, a citation's place, a
source's line, bullets grouped under their sub-headings, the sections shown as tables, and a
bullet's text cut at its citation markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Citation
from .model import Bullet, Memo, MemoSource

__all__ = ["meta_line", "where", "source_line", "groups", "pieces", "Piece", "TABLE_SECTIONS", "MARKER"]

MARKER = re.compile(r"\s?\[(\d+)\]")
# Sections shown as a table per group (its items' label in the first column).
TABLE_SECTIONS = {"who_said_what": ("Outlet", "Statement")}


def meta_line(memo: Memo) -> str:
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


def where(c: Citation) -> str:
    return f"{c.source}, characters {c.start}–{c.end}"


def source_line(s: MemoSource) -> str:
    return " — ".join(x for x in (s.title or "(untitled)", s.publisher, s.published or "undated", s.source) if x)


def groups(bullets: tuple[Bullet, ...]) -> list[tuple[str, list[Bullet]]]:
    """Consecutive bullets under the same sub-heading."""
    out: list[tuple[str, list[Bullet]]] = []
    for b in bullets:
        if out and out[-1][0] == b.group:
            out[-1][1].append(b)
        else:
            out.append((b.group, [b]))
    return out


@dataclass(frozen=True)
class Piece:
    """A run of a bullet's text, or (``citation`` set) one of its citation markers."""
    text: str
    citation: Citation | None = None


def pieces(b: Bullet, memo: Memo) -> list[Piece]:
    """``b.text`` cut at the markers of its own citations (a marker it does not cite stays
    text), trimmed at both ends."""
    out: list[Piece] = []
    last = 0
    for m in MARKER.finditer(b.text):
        n = int(m.group(1))
        if n not in b.citations:
            continue
        out += [Piece(b.text[last:m.start()]), Piece(m.group(0), memo.citation(n))]
        last = m.end()
    out.append(Piece(b.text[last:]))
    first, final = out[0], out[-1]
    out[0] = Piece(first.text.lstrip(), first.citation) if first.citation is None else first
    out[-1] = Piece(final.text.rstrip(), final.citation) if final.citation is None else final
    return [p for p in out if p.text or p.citation]
