"""Source files → ``Document`` objects, one reader per format.

Every reader ends in the same cleaning path for plain text (repair, boilerplate, stories,
metadata) so citations always point into text cleaned the same way. A file that cannot be
read raises ``SourceError`` naming the file and what to do; the build skips it.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tomllib
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path

import yaml

from .clean import lead_title, parse_byline, split_stories, strip_boilerplate
from .decode import UndecodableError, decode_bytes, repair_text
from .errors import SourceError
from .models import Document, make_doc_id, sha256_hex

__all__ = ["SUPPORTED_SUFFIXES", "read_source", "read_bytes", "normalize_date", "suffix_of"]

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".jsonl.gz")
_META_KEYS = ("title", "publisher", "author", "published", "url")
_MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
_MAX_GZIP_UNCOMPRESSED = 2 * 1024 * 1024 * 1024


def suffix_of(path: Path | str) -> str:
    name = str(path).lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else Path(name).suffix


def normalize_date(value: object) -> str | None:
    """An ISO date (``YYYY-MM-DD``, or ``YYYY`` / ``YYYY-MM`` when that is all we know)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()
    if re.fullmatch(r"\d{4}", s):
        return s
    if m := re.fullmatch(r"(\d{4})[-/](\d{1,2})", s):
        return f"{m[1]}-{int(m[2]):02d}"
    if m := re.match(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", s):
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    try:
        from dateutil import parser as dateparser

        return dateparser.parse(s, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError, TypeError):
        return None


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


def _documents_from_text(source: str, text: str, content_hash: str, meta: dict) -> list[Document]:
    """The shared cleaning path: repair → boilerplate → stories → metadata."""
    text = strip_boilerplate(repair_text(text))
    if not text.strip():
        raise SourceError(source, "has no text after cleaning; check that it is an article")
    byline = parse_byline(text)
    stories = split_stories(text) if not meta.get("title") else []
    if len(stories) <= 1:
        story = stories[0] if stories else None
        title = meta.get("title") or (story.title if story else lead_title(text))
        publisher = meta.get("publisher") or (story.publisher if story else "") or byline.get("publisher", "")
        return [
            Document(
                doc_id=make_doc_id(source),
                source=source,
                text=text,
                content_hash=content_hash,
                title=title,
                publisher=publisher,
                author=meta.get("author") or byline.get("author", ""),
                published=meta.get("published") or byline.get("year"),
                url=meta.get("url", ""),
            )
        ]
    docs = []
    for i, story in enumerate(stories, start=1):
        story_byline = parse_byline(story.text)
        docs.append(
            Document(
                doc_id=make_doc_id(source, f"story-{i}"),
                source=source,
                text=story.text,
                content_hash=content_hash,
                title=story.title,
                publisher=meta.get("publisher") or story.publisher or story_byline.get("publisher", ""),
                author=meta.get("author") or story_byline.get("author", ""),
                published=meta.get("published") or story_byline.get("year"),
                url=meta.get("url", ""),
                record_id=f"story-{i}",
            )
        )
    return docs


def _decode(source: str, data: bytes) -> str:
    try:
        return decode_bytes(data)
    except UndecodableError as e:
        raise SourceError(source, f"is not readable text ({e}); remove it or convert it to UTF-8") from None


def _read_text(source: str, data: bytes, content_hash: str) -> list[Document]:
    meta, body = _front_matter(_decode(source, data))
    return _documents_from_text(source, body, content_hash, meta)


def _read_html(source: str, data: bytes, content_hash: str) -> list[Document]:
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
    return _documents_from_text(source, text, content_hash, meta)


def _read_pdf(source: str, data: bytes, content_hash: str) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, DependencyError

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
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as e:
        raise SourceError(source, f"is not a readable PDF ({type(e).__name__}); re-export it") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise SourceError(source, "has no extractable text (a scanned PDF?); run OCR on it first")
    meta = {"title": str(info.get("/Title") or ""), "author": str(info.get("/Author") or "")}
    return _documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v})


def _read_docx(source: str, data: bytes, content_hash: str) -> list[Document]:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > _MAX_DOCX_UNCOMPRESSED:
                raise SourceError(source, "expands to more than 200 MB (a zip bomb?); not indexed")
        document = docx.Document(io.BytesIO(data))
    except SourceError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise SourceError(source, f"is not a readable DOCX file ({type(e).__name__}); re-save it in Word") from None
    except Exception as e:  # python-docx raises its own types (e.g. PackageNotFoundError)
        raise SourceError(source, f"is not a readable DOCX file ({type(e).__name__}); re-save it in Word") from None
    text = "\n\n".join(p.text.strip() for p in document.paragraphs if p.text.strip())
    props = document.core_properties
    meta = {
        "title": props.title or "",
        # python-docx's own template stamps author "python-docx" and a 2013 date; a file's
        # creation date is not the article's publication date, so it is not used.
        "author": "" if (props.author or "").strip().lower() == "python-docx" else (props.author or ""),
    }
    return _documents_from_text(source, text, content_hash, {k: v for k, v in meta.items() if v})


def _read_jsonl(source: str, data: bytes, content_hash: str, warnings: list[str]) -> list[Document]:
    if suffix_of(source) == ".jsonl.gz":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(_MAX_GZIP_UNCOMPRESSED + 1)
            if len(data) > _MAX_GZIP_UNCOMPRESSED:
                raise SourceError(source, "expands to more than 2 GB; split the collection into smaller files")
        except (OSError, EOFError, zlib.error) as e:
            raise SourceError(source, f"is not a readable gzip file ({e}); re-compress it") from None
    docs: list[Document] = []
    seen: set[str] = set()
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
        seen.add(record_id)
        text = strip_boilerplate(repair_text(record["text"]))
        if not text:
            warnings.append(f"{source}: line {lineno} has no text after cleaning; skipped")
            continue
        byline = parse_byline(text)
        docs.append(
            Document(
                doc_id=make_doc_id(source, record_id),
                source=source,
                text=text,
                content_hash=sha256_hex(line),
                title=repair_text(str(record.get("title") or "")) or lead_title(text),
                publisher=str(record.get("publisher") or byline.get("publisher", "")),
                author=str(record.get("author") or byline.get("author", "")),
                published=normalize_date(record.get("date") or record.get("published")) or byline.get("year"),
                url=str(record.get("url") or ""),
                record_id=record_id,
            )
        )
    if not docs:
        raise SourceError(source, "holds no usable records (each line needs a JSON object with \"text\")")
    return docs


def read_bytes(source: str, data: bytes, warnings: list[str] | None = None) -> list[Document]:
    """Parse one source's raw bytes. ``source`` is its path relative to the sources root."""
    warnings = [] if warnings is None else warnings
    if not data.strip():
        raise SourceError(source, "is empty; add text to it or remove it")
    content_hash = sha256_hex(data)
    suffix = suffix_of(source)
    if suffix in (".txt", ".md"):
        return _read_text(source, data, content_hash)
    if suffix in (".html", ".htm"):
        return _read_html(source, data, content_hash)
    if suffix == ".pdf":
        return _read_pdf(source, data, content_hash)
    if suffix == ".docx":
        return _read_docx(source, data, content_hash)
    if suffix in (".jsonl", ".jsonl.gz"):
        return _read_jsonl(source, data, content_hash, warnings)
    raise SourceError(source, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")


def read_source(path: Path, root: Path, max_bytes: int, warnings: list[str] | None = None) -> list[Document]:
    """Read one file under ``root``; raise ``SourceError`` if it cannot be indexed."""
    source = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                source,
                f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit; "
                "split it or raise max_source_mb",
            )
        data = path.read_bytes()
    except PermissionError:
        raise SourceError(source, "cannot be read (permission denied); fix its permissions") from None
    except IsADirectoryError:
        raise SourceError(source, "is a directory") from None
    except OSError as e:
        raise SourceError(source, f"cannot be read ({e.strerror or e}); check the file") from None
    return read_bytes(source, data, warnings)
