"""Sentence-aware, token-sized chunking with exact character offsets.

Units are sentences (Punkt, as LlamaIndex's ``SentenceSplitter`` uses, within each line so
headlines and paragraphs never merge); a unit longer than the budget is cut at token
boundaries. Units are packed greedily up to ``chunk_tokens`` (``tiktoken`` cl100k_base),
and each chunk after the first starts with the trailing units of the one before, up to
``chunk_overlap`` tokens. Offsets are kept throughout, so
``document.text[chunk.start:chunk.end] == chunk.text`` by construction.
"""

from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .core.models import Chunk, Document

__all__ = ["chunk_document", "sentence_spans", "count_tokens"]


def _static_dir() -> Path | None:
    # find_spec locates the package without importing it (the import alone takes ~3 s).
    try:
        spec = importlib.util.find_spec("llama_index.core")
    except (ImportError, ValueError):  # pragma: no cover - llama-index-core is a dependency
        return None
    if spec is None or not spec.origin:  # pragma: no cover
        return None
    return Path(spec.origin).parent / "_static"


@lru_cache(maxsize=1)
def _encoding() -> Any:
    static = _static_dir()
    if static and (static / "tiktoken_cache").is_dir():
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


@lru_cache(maxsize=1)
def _punkt() -> Any:
    """Punkt from the NLTK data LlamaIndex ships; ``None`` (regex fallback) if absent."""
    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTokenizer  # noqa: F401

        static = _static_dir()
        if static and (static / "nltk_cache").is_dir():
            import nltk

            if str(static / "nltk_cache") not in nltk.data.path:
                nltk.data.path.append(str(static / "nltk_cache"))
        return PunktTokenizer("english")
    except (ImportError, LookupError, OSError):
        return None


_FALLBACK = re.compile(r"[^.!?]*(?:[.!?]+[\"”’')\]]*|$)\s*", re.S)
# Punkt breaks only after ".", "?" or "!" with more text behind it.
_SENT_END = re.compile(r"[.?!]")


def count_tokens(texts: list[str]) -> list[int]:
    # A plain loop: tiktoken's encode_ordinary_batch starts a thread pool on every call,
    # which made counting ~6x slower for one document's sentences (measured by bench/).
    enc = _encoding()
    return [len(enc.encode_ordinary(t)) for t in texts]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of surrounding whitespace, never crossing a
    line break."""
    spans: list[tuple[int, int]] = []
    punkt = _punkt()
    for line in re.finditer(r"[^\n]+", text):
        seg = line.group()
        base = line.start()
        if punkt is not None and not _SENT_END.search(seg, 0, max(0, len(seg.rstrip()) - 1)):
            # No possible break before the last character: one sentence, as Punkt would say,
            # at a fraction of its cost (a file of a million short lines spent a minute here).
            pieces = [(0, len(seg))]
        elif punkt is not None:
            pieces = list(punkt.span_tokenize(seg))
        else:
            pieces = [(m.start(), m.end()) for m in _FALLBACK.finditer(seg) if m.group().strip()]
        for a, b in pieces:
            piece = seg[a:b]
            stripped = piece.strip()
            if not stripped:
                continue
            a += len(piece) - len(piece.lstrip())
            b = a + len(stripped)
            spans.append((base + a, base + b))
    return spans


def _cut_long(text: str, start: int, end: int, budget: int) -> list[tuple[int, int, int]]:
    """Cut one over-long unit at token boundaries; returns (start, end, tokens)."""
    enc = _encoding()
    piece = text[start:end]
    tokens = enc.encode_ordinary(piece)
    _, offsets = enc.decode_with_offsets(tokens)
    cuts = sorted({0, *(min(offsets[i], len(piece)) for i in range(budget, len(tokens), budget)), len(piece)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        seg = piece[a:b]
        if not seg.strip():
            continue
        a2 = a + len(seg) - len(seg.lstrip())
        b2 = a2 + len(seg.strip())
        out.append((start + a2, start + b2, len(enc.encode_ordinary(piece[a2:b2]))))
    return out


def _units(text: str, budget: int) -> list[tuple[int, int, int]]:
    spans = sentence_spans(text)
    counts = count_tokens([text[a:b] for a, b in spans])
    units: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, counts):
        if n <= budget:
            units.append((a, b, n))
        else:
            units.extend(_cut_long(text, a, b, budget))
    return units


def _fits(text: str, units: list[tuple[int, int, int]], i: int, j: int, budget: int) -> bool:
    """Whether units ``i``..``j - 1`` with the text between them fit in ``budget`` tokens."""
    return count_tokens([text[units[i][0]:units[j - 1][1]]])[0] <= budget


def _most_that_fit(text: str, units: list[tuple[int, int, int]], i: int, lo: int, hi: int, budget: int) -> int:
    """The largest ``j`` in ``lo..hi`` whose span fits, else ``lo``.

    Giving units back one at a time recounted ~100 spans per chunk for a file of short
    lines (minutes for a million of them). So: first guess with each line break between
    units as one token, probe the guess and its neighbour, then search by halves."""
    guess, total = lo, 0
    for k in range(i, hi):
        total += units[k][2] + ("\n" in text[units[k - 1][1]:units[k][0]] if k > i else 0)
        if total > budget:
            break
        guess = k + 1
    guess = min(max(guess, lo), hi)
    if _fits(text, units, i, guess, budget):
        if guess == hi or not _fits(text, units, i, guess + 1, budget):
            return guess
        lo = guess + 1
    else:
        hi = guess - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _fits(text, units, i, mid, budget) else (lo, mid - 1)
    return lo


def chunk_document(doc: Document, chunk_tokens: int = 200, chunk_overlap: int = 40) -> list[Chunk]:
    """Chunks of about ``chunk_tokens`` tokens, whole sentences where they fit."""
    units = _units(doc.text, chunk_tokens)
    chunks: list[Chunk] = []
    i = 0
    fresh = 0  # the first unit that no chunk holds yet; every chunk takes at least that one
    while fresh < len(units):
        j, total = i, 0
        while j < len(units) and (j <= fresh or total + units[j][2] <= chunk_tokens):
            total += units[j][2]
            j += 1
        # The line breaks between units are tokens too (a list of short lines can reach twice
        # the budget): give back trailing units until the real span fits.
        if j - 1 > fresh and not _fits(doc.text, units, i, j, chunk_tokens):
            j = _most_that_fit(doc.text, units, i, fresh + 1, j - 1, chunk_tokens)
        chunks.append(Chunk.of(doc, units[i][0], units[j - 1][1], len(chunks)))
        fresh = j
        if j >= len(units):
            break
        # Overlap: step back over trailing units worth at most chunk_overlap tokens, leaving
        # room for the next new unit (else the next chunk would repeat only old text).
        k, back = j, 0
        while (k - 1 > i and back + units[k - 1][2] <= chunk_overlap
               and back + units[k - 1][2] + units[j][2] <= chunk_tokens):
            back += units[k - 1][2]
            k -= 1
        i = k
    return chunks
