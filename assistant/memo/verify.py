"""Re-check a saved memo's (or answer's) citations against the current index.

Reads the anchors of a Markdown, HTML or DOCX memo (``export``), or the citations of a
JSON answer (``briefing ask --json``) or JSON memo (``briefing memo --json``). Each citation
is looked up by document id and span: it *holds* when the text there still hashes to the
quote's sha256; it is *moved* when the quote is found elsewhere in the document (the new
span is reported; the citation still holds, and ``fix_file`` rewrites its anchor); *changed*
when the quote is gone from the document (the closest sentence now is reported as a hint);
*missing* when the document is no longer indexed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from index_build.chunk import sentence_spans
from index_build.core.errors import BriefingError
from index_build.core.models import Document
from index_build.core.settings import Settings
from index_build.core.text import tokenize
from index_build.store.docstore import DocStore

from .anchors import Anchor, move_anchors, parse_anchors, quote_sha256

__all__ = ["Documents", "CitationCheck", "VerifyReport", "IndexDocuments", "read_anchors", "check_anchors",
           "verify_file", "fix_file"]

CLOSEST_MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class CitationCheck:
    n: int
    doc_id: str
    source: str
    start: int
    end: int
    status: str  # "ok", "moved", "changed" or "missing"
    new_start: int | None = None  # moved: where the quote is now; changed: the closest sentence
    new_end: int | None = None
    now: str = ""  # moved: the quote; changed: the closest sentence now (or the text at the old span)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class VerifyReport:
    path: str
    kind: str  # "markdown memo", "docx memo", "html memo", "json answer", "json memo"
    checks: tuple[CitationCheck, ...]
    strict: bool = False  # a moved quote fails too

    @property
    def ok(self) -> bool:
        """Every quote is still in its document: at its span, or (unless strict) moved."""
        holds = ("ok",) if self.strict else ("ok", "moved")
        return bool(self.checks) and all(c.status in holds for c in self.checks)

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.path, "kind": self.kind, "ok": self.ok, "citations": len(self.checks),
                "holding": self.count("ok"), "moved": self.count("moved"), "changed": self.count("changed"),
                "stale": self.count("moved") + self.count("changed"), "missing": self.count("missing"),
                "strict": self.strict, "checks": [asdict(c) for c in self.checks]}


class Documents(Protocol):
    """What a re-check needs of an index: its documents by id (a ``Corpus`` or ``IndexDocuments``)."""

    def document(self, doc_id: str) -> Document | None: ...


class IndexDocuments:
    """Documents of an index, read straight from its record (no embedder, no BM25): what
    a re-check needs and nothing more. Same ``document(doc_id)`` as ``Corpus``."""

    def __init__(self, settings: Settings):
        if not settings.db_path.is_file():
            raise BriefingError(f"no index in {settings.index_dir}; run `briefing index` first")
        self.record = DocStore(settings.db_path, readonly=True)

    def document(self, doc_id: str) -> Document | None:
        return self.record.document(doc_id)

    def close(self) -> None:
        self.record.close()


def read_anchors(path: Path) -> tuple[str, list[Anchor]]:
    """(kind, anchors) of a saved memo or answer."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise BriefingError(f"{path}: no such file")
    try:
        if suffix == ".docx":
            from docx import Document as Docx
            from docx.opc.exceptions import PackageNotFoundError

            try:
                d = Docx(str(path))
            except (PackageNotFoundError, KeyError, ValueError) as e:
                raise BriefingError(f"{path}: not a readable .docx file ({e})") from None
            text = "\n".join(p.text for p in d.paragraphs)
            text += "\n" + "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
            return "docx memo", parse_anchors(text)
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BriefingError(f"{path}: cannot be read ({e})") from None
    if suffix == ".json":
        return _json_anchors(path, raw)
    kind = "html memo" if suffix in (".html", ".htm") else "markdown memo"
    return kind, parse_anchors(raw)


def _json_anchors(path: Path, raw: str) -> tuple[str, list[Anchor]]:
    try:
        data = json.loads(raw.strip().splitlines()[-1] if raw.strip() else "")
    except (ValueError, IndexError):
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise BriefingError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("citations"), list):
        raise BriefingError(f"{path}: expected the JSON of `briefing ask --json` or `briefing memo --json` "
                            "(an object with a \"citations\" list)")
    anchors = []
    for c in data["citations"]:
        try:
            quote = str(c["quote"])
            anchors.append(Anchor(int(c["n"]), str(c["doc_id"]), str(c.get("source", "")), int(c["start"]),
                                  int(c["end"]), quote_sha256(quote), quote))
        except (KeyError, TypeError, ValueError):
            raise BriefingError(f"{path}: a citation lacks n, doc_id, start, end or quote: {c!r}") from None
    return ("json memo" if "sections" in data else "json answer"), anchors


def _find_moved(text: str, quote: str, near: int) -> tuple[int, int] | None:
    hits = [m.start() for m in re.finditer(re.escape(quote), text)]
    if hits:
        a = min(hits, key=lambda h: abs(h - near))
        return a, a + len(quote)
    # the same words with other spacing or line breaks
    words = quote.split()
    if not words:
        return None
    m = min(re.finditer(r"\s+".join(map(re.escape, words)), text), key=lambda m: abs(m.start() - near), default=None)
    return (m.start(), m.end()) if m else None


def _closest(text: str, quote: str) -> tuple[int, int] | None:
    want = set(tokenize(quote))
    if not want:
        return None
    best, score = None, 0.0
    spans = sentence_spans(text)
    n = max(1, len(sentence_spans(quote)))
    for i in range(len(spans)):
        a, b = spans[i][0], spans[min(len(spans), i + n) - 1][1]
        have = set(tokenize(text[a:b]))
        s = len(want & have) / len(want | have) if have else 0.0
        if s > score:
            best, score = (a, b), s
    return best if score >= CLOSEST_MIN_OVERLAP else None


def check_anchors(anchors: list[Anchor], docs: Documents) -> list[CitationCheck]:
    """Each anchor against ``docs.document(doc_id)`` (a ``Corpus`` or ``IndexDocuments``)."""
    out = []
    for a in anchors:
        doc = docs.document(a.doc_id)
        check = partial(CitationCheck, a.n, a.doc_id, a.source or (doc.source if doc else ""), a.start, a.end)
        if doc is None:
            out.append(check(status="missing"))
            continue
        text = doc.text
        here = text[a.start:a.end] if 0 <= a.start < a.end <= len(text) else ""
        if here and (quote_sha256(here) == a.sha256 or (not a.sha256 and here == a.quote)):
            out.append(check(status="ok"))
            continue
        moved = _find_moved(text, a.quote, a.start) if a.quote else None
        if moved:
            out.append(check(status="moved", new_start=moved[0], new_end=moved[1],
                                     now=text[moved[0]:moved[1]]))
            continue
        near = _closest(text, a.quote) if a.quote else None
        if near:
            out.append(check(status="changed", new_start=near[0], new_end=near[1],
                                     now=text[near[0]:near[1]]))
        else:
            out.append(check(status="changed", now=here))
    return out


def verify_file(path: str | Path, docs: Documents, strict: bool = False) -> VerifyReport:
    """Re-check every citation anchor of the memo or answer at ``path``."""
    kind, anchors = read_anchors(Path(path))
    if not anchors:
        raise BriefingError(f"{path}: no citation anchors found (is it a memo written by `briefing memo`, "
                            "or an answer saved with `briefing ask --json`?)")
    return VerifyReport(str(path), kind, tuple(check_anchors(anchors, docs)), strict)


def fix_file(report: VerifyReport) -> int:
    """Rewrite the anchors of the report's moved citations in its memo file to their new
    spans; the number rewritten. Nothing else in the file changes."""
    path = Path(report.path)
    if report.kind.startswith("json"):
        raise BriefingError(f"{path}: --fix rewrites the anchors of .md, .html and .docx memos, not JSON; "
                            "save the answer again with `briefing ask --json`")
    moves = {(c.n, c.doc_id, c.start, c.end): (c.new_start, c.new_end, c.now)
             for c in report.checks if c.status == "moved" and c.new_start is not None and c.new_end is not None}
    if not moves:
        return 0
    tmp = path.with_name(f".{path.name}.fix")
    try:
        if report.kind == "docx memo":
            count = _fix_docx(path, tmp, moves)
        else:
            text, count = move_anchors(path.read_text(encoding="utf-8"), moves)
            tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise BriefingError(f"{path}: cannot be rewritten ({e.strerror or e})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _fix_docx(path: Path, out: Path, moves: dict[tuple[int, str, int, int], tuple[int, int, str]]) -> int:
    from docx import Document as Docx

    d = Docx(str(path))
    count = 0
    paragraphs = [*d.paragraphs, *(p for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs)]
    for run in (r for p in paragraphs for r in p.runs if "briefing-cite" in r.text):
        run.text, n = move_anchors(run.text, moves)
        count += n
    d.save(str(out))
    return count
