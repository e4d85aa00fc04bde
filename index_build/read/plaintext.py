"""Plain text and Markdown (.txt, .md), with optional YAML or TOML front matter."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from ..core.dates import normalize_date
from ..core.models import Document
from .common import decode, documents_from_text

__all__ = ["read_text"]

_META_KEYS = ("title", "publisher", "author", "published", "url")


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
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


def read_text(source: str, data: bytes, content_hash: str, warnings: list[str], max_bytes: int) -> list[Document]:
    meta, body = _front_matter(decode(source, data))
    return documents_from_text(source, body, content_hash, meta, max_bytes)
