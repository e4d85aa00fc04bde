"""JSON Lines collections (.jsonl, .jsonl.gz): one document per record with a "text";
bad lines are skipped with a warning, a file with no usable record is refused."""

from __future__ import annotations

import gzip
import io
import json
import zlib

from ..clean import strip_boilerplate
from ..core.dates import normalize_date
from ..core.errors import SourceError
from ..core.models import Document, make_doc_id, sha256_hex
from ..decode import repair_text
from .common import MB, metadata, suffix_of, text_limit

__all__ = ["read_jsonl"]


def read_jsonl(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    if suffix_of(source) == ".jsonl.gz":
        # The limit on a file holds for what it unpacks to: a 3 MB gzip bomb expands to GBs.
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise SourceError(source, f"is not a readable gzip file ({e}); re-compress it") from None
        if len(data) > max_bytes:
            raise SourceError(source, f"expands to more than {max_bytes / MB:g} MB when unpacked, over the "
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
            warnings.append(f"{source}: line {lineno} holds {len(record['text']) / MB:.1f} MB of text, over the "
                            f"{text_limit(max_bytes) / MB:g} MB limit for one document; skipped")
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
                             content_hash=sha256_hex(line), record_id=record_id, **metadata(given, text)))
    if not docs:
        raise SourceError(source, "holds no usable records (each line needs a JSON object with \"text\")")
    file_warnings.extend(warnings)
    return docs
