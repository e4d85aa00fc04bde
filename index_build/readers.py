"""Source files → ``Document`` objects, one reader per format.

Every reader ends in the same cleaning path for plain text (repair, boilerplate, stories,
metadata) so citations always point into text cleaned the same way. A file that cannot be
read raises ``SourceError`` naming the file and what to do; the build skips it.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import tomllib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import yaml

from .clean import Story, lead_title, parse_byline, split_stories, strip_boilerplate
from .dates import normalize_date
from .decode import UndecodableError, decode_bytes, repair_text
from .errors import SourceError
from .models import Document, make_doc_id, sha256_hex

__all__ = ["SUPPORTED_SUFFIXES", "read_source", "read_bytes", "normalize_date", "suffix_of"]

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".jsonl.gz")
_META_KEYS = ("title", "publisher", "author", "published", "url")
_MB = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * _MB  # the max_source_mb default
_MAX_DOCX_UNCOMPRESSED = 200 * _MB  # all parts, images included
_MAX_DOCX_XML = 32 * _MB  # one XML part: python-docx holds it as a tree, ~20x its size in memory
# One document's text may be an eighth of max_source_mb (8 MB by default, more than twice
# the longest novel). Cost follows text, not file size: a 50 MB text file is ~50,000
# passages, minutes to chunk and about an hour to embed with MiniLM on 2 cores, all cited
# to one "article". A PDF or DOCX of the same size is mostly images and layout.
TEXT_SHARE = 8


def text_limit(max_bytes: int) -> int:
    """The most characters one document (or one plain-text file, in bytes) may hold."""
    return max_bytes // TEXT_SHARE


def _too_much_text(size: int, max_bytes: int, what: str) -> str:
    return (f"{what} {size / _MB:.1f} MB of text, over the {text_limit(max_bytes) / _MB:g} MB limit for "
            f"one document (an eighth of max_source_mb); split it or raise max_source_mb")


def suffix_of(path: Path | str) -> str:
    name = str(path).lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else Path(name).suffix


def _front_matter(text: str) -> tuple[dict, str]:
    """YAML (``---``) or TOML (``+++``) front matter at the top of a .md/.txt file."""
    for fence, loader in (("---", "yaml"), ("+++", "toml")):
        if not text.startswith(fence + "\n") and not text.startswith(fence + "\r\n"):
            continue
        end = re.search(rf"^{re.escape(fence)}[ \t]*$", text[len(fence) + 1:], re.M)
        if not end:
            return {}, text
        raw = text[len(fence) + 1: len(fence) + 1 + end.start()]
        body = text[len(fence) + 1 + end.end():]
        try:
            data = yaml.safe_load(raw) if loader == "yaml" else tomllib.loads(raw)
        except (yaml.YAMLError, tomllib.TOMLDecodeError):
            return {}, text
        if not isinstance(data, dict):
            return {}, text
        if "date" in data and "published" not in data:
            data["published"] = data["date"]
        meta = {k: data[k] for k in _META_KEYS if data.get(k) not in (None, "")}
        if "published" in meta:
            meta["published"] = normalize_date(meta["published"])
        return {k: (v if k == "published" else str(v)) for k, v in meta.items()}, body
    return {}, text


def _metadata(given: dict, text: str, story: Story | None = None) -> dict:
    """A document's title, publisher, author, published date and url, and ``provenance``:
    where each came from. The file's own metadata wins, then the story's headline and
    publisher line, then the text's byline, dateline, date and copyright lines; a text with
    no headline is titled by its lead sentence."""
    found = {k: (v, "metadata") for k, v in given.items() if v}
    if story:
        found.setdefault("title", (story.title, "headline" if story.titled else "lead sentence"))
        if story.publisher:
            found.setdefault("publisher", (story.publisher, "publisher line"))
    for key, (value, where) in parse_byline(text).items():
        value = normalize_date(value) if key == "published" else value
        if value:
            found.setdefault(key, (value, where))
    found.setdefault("title", (lead_title(text), "lead sentence"))
    return {**{k: v for k, (v, _) in found.items()}, "provenance": {k: w for k, (_, w) in found.items()}}


def _documents_from_text(source: str, text: str, content_hash: str, meta: dict,
                         max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """The shared cleaning path: repair → boilerplate → stories → metadata."""
    if len(text) > text_limit(max_bytes):
        raise SourceError(source, _too_much_text(len(text), max_bytes, "holds"))
    text = strip_boilerplate(repair_text(text))
    if not text.strip():
        raise SourceError(source, "has no text after cleaning; check that it is an article")
    stories = split_stories(text) if not meta.get("title") else []
    if len(stories) <= 1:
        story = stories[0] if stories else None
        return [Document(doc_id=make_doc_id(source), source=source, text=text, content_hash=content_hash,
                         **_metadata(meta, text, story))]
    return [
        Document(doc_id=make_doc_id(source, f"story-{i}"), source=source, text=story.text,
                 content_hash=content_hash, record_id=f"story-{i}", **_metadata(meta, story.text, story))
        for i, story in enumerate(stories, start=1)
    ]


def _decode(source: str, data: bytes) -> str:
    try:
        return decode_bytes(data)
    except UndecodableError as e:
        raise SourceError(source, f"is not readable text ({e}); remove it or convert it to UTF-8") from None


def _read_text(source: str, data: bytes, content_hash: str, max_bytes: int) -> list[Document]:
    meta, body = _front_matter(_decode(source, data))
    return _documents_from_text(source, body, content_hash, meta, max_bytes)


def _read_html(source: str, data: bytes, content_hash: str, max_bytes: int) -> list[Document]:
    import trafilatura

    html = _decode(source, data)
    result = trafilatura.bare_extraction(
        html, include_comments=False, include_tables=True, with_metadata=True, favor_recall=True
    )
    text = (getattr(result, "text", None) or "") if result is not None else ""
    if not text.strip():
        raise SourceError(source, "has no article text that could be extracted from its HTML")
    meta = {
        "title": getattr(result, "title", None) or "",
        "author": getattr(result, "author", None) or "",
        "publisher": getattr(result, "sitename", None) or "",
        "url": getattr(result, "url", None) or "",
        "published": normalize_date(getattr(result, "date", None)),
    }
    meta = {k: v for k, v in meta.items() if v}
    # Lead with the headline, unless the extracted body already does (an <h1> in the article).
    if meta.get("title") and not text.lstrip().startswith(meta["title"]):
        text = f"{meta['title']}\n\n{text}"
    return _documents_from_text(source, text, content_hash, meta, max_bytes)


def _read_pdf(source: str, data: bytes, content_hash: str, max_bytes: int) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PyPdfError

    # pypdf logs what it repairs ("EOF marker not found") to stderr; the skip reason below is
    # the one message a person gets about a file.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (DependencyError, NotImplementedError):
                ok = 0
            if not ok:
                raise SourceError(source, "is an encrypted PDF; save an unencrypted copy to index it")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except SourceError:
        raise
    except LimitReachedError:
        raise SourceError(source, "holds a compressed stream that expands past pypdf's safety limit "
                                  "(a decompression bomb?); not indexed") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError):
        # pypdf's own messages name byte offsets and object numbers, nothing a person can act on.
        raise SourceError(source, "is not a readable PDF (damaged or incomplete); re-export it") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise SourceError(source, "has no extractable text (a scanned PDF?); run OCR on it first")
    meta = {"title": str(info.get("/Title") or ""), "author": str(info.get("/Author") or "")}
    return _documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v}, max_bytes)


def _docx_paragraph_texts(document) -> Iterator[str]:
    """The text of each top-level paragraph, exactly as python-docx's ``Paragraph.text``
    gives it, without its two XPath queries per paragraph and run (a 100 KB file of tiny
    paragraphs took minutes through them)."""
    from docx.oxml.ns import qn

    run, link = qn("w:r"), qn("w:hyperlink")
    inner = tuple(qn(t) for t in ("w:br", "w:cr", "w:noBreakHyphen", "w:ptab", "w:t", "w:tab"))

    def run_text(r) -> str:  # python-docx's elements render their own text (a tab as "\t" …)
        return "".join(str(e) for e in r.iterchildren(*inner))

    for p in document.element.body.iterchildren(qn("w:p")):
        yield "".join(
            run_text(e) if e.tag == run else "".join(run_text(r) for r in e.iterchildren(run))
            for e in p.iterchildren(run, link)
        )


def _read_docx(source: str, data: bytes, content_hash: str, max_bytes: int) -> list[Document]:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
        if sum(i.file_size for i in infos) > _MAX_DOCX_UNCOMPRESSED or any(
            i.file_size > _MAX_DOCX_XML for i in infos if i.filename.lower().endswith((".xml", ".rels"))
        ):
            raise SourceError(source, f"expands to more than {_MAX_DOCX_UNCOMPRESSED // _MB} MB, or one of its "
                                      f"parts to more than {_MAX_DOCX_XML // _MB} MB, when unzipped (a zip bomb?); "
                                      "not indexed")
        document = docx.Document(io.BytesIO(data))
        paragraphs = [t.strip() for t in _docx_paragraph_texts(document)]
    except SourceError:
        raise
    except Exception:  # zipfile, lxml and python-docx (e.g. PackageNotFoundError) raise their own types
        raise SourceError(source, "is not a readable DOCX file (damaged, or not a Word document); "
                                  "re-save it in Word") from None
    text = "\n\n".join(p for p in paragraphs if p)
    props = document.core_properties
    meta = {
        "title": props.title or "",
        # python-docx's own template stamps author "python-docx" and a 2013 date; a file's
        # creation date is not the article's publication date, so it is not used.
        "author": "" if (props.author or "").strip().lower() == "python-docx" else (props.author or ""),
    }
    return _documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v}, max_bytes)


def _read_jsonl(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    if suffix_of(source) == ".jsonl.gz":
        # The limit on a file holds for what it unpacks to: a 3 MB gzip bomb expands to GBs.
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise SourceError(source, f"is not a readable gzip file ({e}); re-compress it") from None
        if len(data) > max_bytes:
            raise SourceError(source, f"expands to more than {max_bytes / _MB:g} MB when unpacked, over the "
                                      "max_source_mb limit; split the collection or raise max_source_mb")
    docs: list[Document] = []
    seen: set[str] = set()
    file_warnings = warnings
    warnings = []  # about single lines; dropped when the whole file is skipped (one report per file)
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            warnings.append(f"{source}: line {lineno} is not valid JSON; skipped")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            warnings.append(f"{source}: line {lineno} has no \"text\"; skipped")
            continue
        record_id = str(record.get("id") or f"line-{lineno}")
        if record_id in seen:
            warnings.append(f"{source}: line {lineno} repeats id {record_id!r}; skipped")
            continue
        if len(record["text"]) > text_limit(max_bytes):
            warnings.append(f"{source}: line {lineno} holds {len(record['text']) / _MB:.1f} MB of text, over the "
                            f"{text_limit(max_bytes) / _MB:g} MB limit for one document; skipped")
            continue
        seen.add(record_id)
        text = strip_boilerplate(repair_text(record["text"]))
        if not text:
            warnings.append(f"{source}: line {lineno} has no text after cleaning; skipped")
            continue
        given = {"title": repair_text(str(record.get("title") or "")), "publisher": str(record.get("publisher") or ""),
                 "author": str(record.get("author") or ""), "url": str(record.get("url") or ""),
                 "published": normalize_date(record.get("date") or record.get("published"))}
        docs.append(Document(doc_id=make_doc_id(source, record_id), source=source, text=text,
                             content_hash=sha256_hex(line), record_id=record_id, **_metadata(given, text)))
    if not docs:
        raise SourceError(source, "holds no usable records (each line needs a JSON object with \"text\")")
    file_warnings.extend(warnings)
    return docs


def read_bytes(source: str, data: bytes, warnings: list[str] | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Parse one source's raw bytes. ``source`` is its path relative to the sources root;
    ``max_bytes`` is max_source_mb in bytes (it also bounds unpacked and extracted text)."""
    warnings = [] if warnings is None else warnings
    if not data.strip():
        raise SourceError(source, "is empty; add text to it or remove it")
    content_hash = sha256_hex(data)
    suffix = suffix_of(source)
    if suffix in (".txt", ".md"):
        return _read_text(source, data, content_hash, max_bytes)
    if suffix in (".html", ".htm"):
        return _read_html(source, data, content_hash, max_bytes)
    if suffix == ".pdf":
        return _read_pdf(source, data, content_hash, max_bytes)
    if suffix == ".docx":
        return _read_docx(source, data, content_hash, max_bytes)
    if suffix in (".jsonl", ".jsonl.gz"):
        return _read_jsonl(source, data, content_hash, warnings, max_bytes)
    raise SourceError(source, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")


def read_source(path: Path, root: Path, max_bytes: int, warnings: list[str] | None = None) -> list[Document]:
    """Read one file under ``root``; raise ``SourceError`` if it cannot be indexed."""
    source = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                source,
                f"is {size / _MB:.1f} MB, over the {max_bytes / _MB:g} MB limit; "
                "split it or raise max_source_mb",
            )
        if suffix_of(source) in (".txt", ".md") and size > text_limit(max_bytes):
            raise SourceError(source, _too_much_text(size, max_bytes, "is"))  # checked before reading it
        data = path.read_bytes()
    except PermissionError:
        raise SourceError(source, "cannot be read (permission denied); fix its permissions") from None
    except IsADirectoryError:
        raise SourceError(source, "is a directory") from None
    except OSError as e:
        raise SourceError(source, f"cannot be read ({e.strerror or e}); check the file") from None
    return read_bytes(source, data, warnings, max_bytes)
