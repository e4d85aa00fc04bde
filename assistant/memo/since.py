"""What is new since an earlier memo (``briefing memo TOPIC --since-memo OLD``).

The earlier memo (.md, .docx, .html or .json, as Briefing wrote it) gives its date and its
citation anchors. The new memo then opens with two sections:

* **New since DATE**: the new memo's items whose every quoted sentence comes from a
  document that arrived in the index after the earlier memo was written (its source was
  indexed later) and that the earlier memo did not cite. A sentence of an older document
  that the earlier memo merely left out is not news, and is not listed.
* **Changed since DATE**: the earlier memo's citations that ``verify`` finds changed (the
  quote is no longer in its document: the closest sentence now is quoted and cited) or
  gone (the document left the index).

A document that was already indexed, not cited by the earlier memo and then edited counts
as new as a whole: the index keeps no earlier text to compare with.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from index_build.core.errors import BriefingError

from .anchors import Anchor
from .gather import Gathered
from .model import one_line
from .sections import Draft
from .verify import CitationCheck, Documents, check_anchors, read_anchors

__all__ = ["PriorMemo", "read_prior", "new_drafts", "changed_checks", "NEW_MAX", "prior_label"]

NEW_MAX = 8
_GENERATED = re.compile(r"Generated (\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)")


@dataclass(frozen=True)
class PriorMemo:
    path: str
    kind: str
    generated: dt.datetime  # when the earlier memo was written (aware)
    anchors: tuple[Anchor, ...]

    @property
    def cited_docs(self) -> frozenset[str]:
        return frozenset(a.doc_id for a in self.anchors)


def prior_label(prior: PriorMemo) -> str:
    """The earlier memo's date as a heading shows it: "6 Dec 2026, 21:29"."""
    return f"{prior.generated.day} {prior.generated.strftime('%b %Y, %H:%M')}"


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.astimezone()


def _generated(path: Path, kind: str) -> dt.datetime | None:
    try:
        if kind == "docx memo":
            from docx import Document as Docx

            text = "\n".join(p.text for p in Docx(str(path)).paragraphs[:6])
        elif kind == "json memo":
            raw = path.read_text(encoding="utf-8").strip()
            return _aware(dt.datetime.fromisoformat(json.loads(raw.splitlines()[-1])["generated"]))
        else:
            text = path.read_text(encoding="utf-8")[:4000]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    m = _GENERATED.search(text)
    if not m:
        return None
    try:
        return _aware(dt.datetime.fromisoformat(m.group(1).replace(" ", "T").replace("Z", "+00:00")))
    except ValueError:
        return None


def read_prior(path: str | Path) -> PriorMemo:
    """The earlier memo at ``path``: its anchors and when it was written (its "Generated"
    line; else the file's modification time)."""
    path = Path(path)
    kind, anchors = read_anchors(path)
    if kind == "json answer":
        raise BriefingError(f"{path}: an answer, not a memo; --since-memo takes a memo written by `briefing memo`")
    if not anchors:
        raise BriefingError(f"{path}: no citation anchors found (is it a memo written by `briefing memo`?)")
    when = _generated(path, kind)
    if when is None:
        when = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return PriorMemo(str(path), kind, when, tuple(anchors))


def new_drafts(g: Gathered, drafts: dict[str, list[Draft]], prior: PriorMemo,
               indexed_at: dict[str, float]) -> list[Draft]:
    """The items of ``drafts`` (in section order) that quote only documents new since
    ``prior``: indexed after it was written and not cited by it, and no sentence it quoted."""
    since = prior.generated.timestamp()
    old_quotes = [one_line(a.quote or "") for a in prior.anchors if a.quote]

    def new_doc(doc_id: str) -> bool:
        return doc_id not in prior.cited_docs and indexed_at.get(doc_id, 0.0) > since

    out: list[Draft] = []
    seen: set[tuple[str, int]] = set()
    for ds in drafts.values():
        for d in ds:
            if len(out) >= NEW_MAX or not d.units or d.keys <= seen:
                continue
            texts = [one_line(g.docs[doc_id].doc.text[slice(*g.docs[doc_id].span(a, b))])
                     for doc_id, a, b, _ in d.units]
            if all(new_doc(doc_id) for doc_id, *_ in d.units) and not any(
                    t in q or q in t for t in texts for q in old_quotes):
                out.append(Draft(d.units, d.label, d.group, set(d.keys)))
                seen |= d.keys
    return out


def changed_checks(prior: PriorMemo, docs: Documents) -> list[CitationCheck]:
    """The earlier memo's citations whose quote is no longer in its document, or whose
    document is gone (``docs``: a ``Corpus``)."""
    return [c for c in check_anchors(list(prior.anchors), docs) if c.status in ("changed", "missing")]
