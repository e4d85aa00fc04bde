"""Bytes → text: robust decoding, then ftfy, then a small table of repairs ftfy misses.

``ftfy.fix_text`` (6.3) leaves three kinds of damage in our seed articles, all caused by
UTF-8 text that went through a single-byte code page on its way to us:

* ``â€`` at a line end: a closing quote ``”`` (UTF-8 ``E2 80 9D``) read as cp1252, where
  ``9D`` is unassigned and was dropped;
* ``†`` glued between two words (``actions†by``): the same quote whose dropped byte
  took the following space with it; it was ``” `` (quote, space);
* ``ยท`` in Latin text: a middle dot ``·`` (``C2 B7``) read as cp874 (Thai).

Each repair applies only where the context shows damage (Latin text around the sequence),
so a real dagger (``Smith†``) and real Thai text survive.
"""

from __future__ import annotations

import codecs
import re

import ftfy
from charset_normalizer import from_bytes

__all__ = ["decode_bytes", "repair_text", "UndecodableError", "REPAIRS"]


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


_LATIN = r"A-Za-z\u00C0-\u024F"
_THAI = r"\u0E00-\u0E7F"

# (pattern, replacement, what it repairs). Order matters: the longer sequence first.
REPAIRS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(rf"(?<=[{_LATIN}0-9.,;:!?’'\)\]])â€(?=[ \t]*(?:\n|$))"),
        "”",
        "closing quote at a line end (cp1252 mojibake, last byte lost)",
    ),
    (
        re.compile(rf"(?<=[{_LATIN}0-9.,;:!?’'\)\]])â€(?=[ \t]*[{_LATIN}])"),
        "” ",
        "closing quote before a word (cp1252 mojibake, last byte lost)",
    ),
    (
        re.compile(rf"(?<=[{_LATIN}0-9.,;:!?’'\)\]])†(?=[{_LATIN}])"),
        "” ",
        "closing quote that swallowed the following space",
    ),
    (
        re.compile(rf"(?<=[{_LATIN}0-9.,\)] )ยท(?= [{_LATIN}])|(?<=[{_LATIN}0-9])ยท(?=[{_LATIN}])"),
        "·",
        "middle dot read as cp874",
    ),
]

_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_line_breaks=True, normalization="NFC")


_FTFY_NO_HTML = _FTFY._replace(unescape_html=False)

# A line of printable ASCII without "&" is left exactly as it is by every ftfy step we use:
# it can hold no mojibake, entity, control character or odd line break. ftfy costs about
# 0.1 ms per line, so a file of a million short lines took minutes; only the runs of lines
# holding anything else go through it.
_NOT_PLAIN = re.compile(r"[^\t\n\x20-\x25\x27-\x7e]")


def _fix_text(text: str) -> str:
    """``ftfy.fix_text(text, config=_FTFY)``, skipping the lines it would leave unchanged."""
    first_lt = text.find("<")
    out: list[str] = []
    pos = 0
    m = _NOT_PLAIN.search(text)
    while m:
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.start()) + 1 or len(text)
        while (m := _NOT_PLAIN.search(text, end)) and text.rfind("\n", 0, m.start()) + 1 == end:
            end = text.find("\n", m.start()) + 1 or len(text)
        # ftfy stops decoding HTML entities for good after the first line holding "<".
        config = _FTFY_NO_HTML if 0 <= first_lt < start else _FTFY
        out += [text[pos:start], ftfy.fix_text(text[start:end], config=config)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def repair_text(text: str) -> str:
    """ftfy, then the context-checked repairs above. Curly quotes are kept."""
    text = _fix_text(text)
    for pattern, replacement, _why in REPAIRS:
        text = pattern.sub(replacement, text)
    return text


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def _utf16_without_bom(data: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a NUL in every other byte; detect which side."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _damaged_utf8(data: bytes) -> str | None:
    """UTF-8 with a few invalid bytes (a stray byte, a character cut in half by a copy), with
    U+FFFD where the damage is. Charset detection finds no encoding for such a file, and one
    bad byte in an article should not cost the whole article. It is UTF-8 when the invalid
    bytes are at most 1% of the file and its valid non-ASCII characters outnumber them at
    least twice (a file in a single-byte code page has almost none: each of its accented
    letters is an invalid byte)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = len(text) - len(text.encode("ascii", errors="ignore")) - text.count("\ufffd")
    return text if 0 < bad * 100 <= len(data) and good >= 2 * bad else None


def decode_bytes(data: bytes) -> str:
    """Decode raw bytes to text (BOM, UTF-8, UTF-16 without BOM, slightly damaged UTF-8,
    then detection).

    Raises ``UndecodableError`` for binary data.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:
        utf16 = _utf16_without_bom(data)
        if utf16:
            try:
                return data.decode(utf16)
            except UnicodeDecodeError:
                pass
        text = _damaged_utf8(data)
    if text is None:
        if b"\x00" in data[:8192]:
            raise UndecodableError("binary data: it holds NUL bytes")
        matches = from_bytes(data[:200_000])
        best = matches.best()
        if best is None or best.encoding is None:
            raise UndecodableError("no text encoding fits its bytes")
        # Western text often fits cp1250, cp1252 and cp1257 equally well, and the detector
        # then lists cp1250 first ("naïve" becomes "naďve"). cp1252 is by far the commonest
        # of these for the news we index, so it wins a tie.
        encoding = best.encoding
        for m in matches:
            if m.encoding == "cp1252" and m.chaos <= best.chaos and m.coherence >= best.coherence:
                encoding = "cp1252"
        text = data.decode(encoding, errors="replace")
    if "\x00" in text:
        raise UndecodableError("binary data: it holds NUL bytes")
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(8, len(text[:8192]) // 50):
        raise UndecodableError("binary data: it holds control bytes")
    return text
