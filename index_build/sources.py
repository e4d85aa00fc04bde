"""The sources folder: what in it can be indexed (scan), and adding and removing files
(the web app's uploads).

An uploaded file's name comes from the browser and is not trusted: directories are
stripped, names that could escape the folder or hide (``..``, leading dots or dashes) are
refused, and only letters, digits, ``_``, ``-`` and ``.`` are kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import unicodedata
from pathlib import Path

from .core.errors import SourceError
from .core.models import Skipped
from .read import SUPPORTED_SUFFIXES, suffix_of

__all__ = ["scan_sources", "hash_file", "safe_source_name", "save_upload", "list_sources", "delete_source",
           "MAX_NAME_CHARS"]

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\-]+")


def hash_file(path: Path) -> tuple[str, int]:
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
    return digest.hexdigest(), path.stat().st_size


def scan_sources(root: Path, skipped: list[Skipped]) -> list[Path]:
    """Supported files under ``root``. Hidden files are ignored; symlinks that lead out of
    the folder, loop or dangle are reported and not followed; pipes, sockets and devices are
    reported and never opened (reading a pipe waits forever); other types are reported as
    skipped."""
    root_real = root.resolve()
    found: list[Path] = []

    def skip(source: str, reason: str) -> None:
        skipped.append(Skipped(source, reason))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except FileNotFoundError:
                    skip(rel, "is a link to a file that does not exist; not followed")
                    continue
                except (RuntimeError, OSError):  # a loop: RuntimeError before Python 3.13, OSError after
                    skip(rel, "is a link that loops back on itself; not followed")
                    continue
                if not target.is_relative_to(root_real):
                    skip(rel, "is a link to a file outside the sources folder; not followed")
                    continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError as e:
                skip(rel, f"cannot be read ({e.strerror or e}); check the file")
                continue
            if not regular:
                skip(rel, "is not a regular file (a pipe, socket or device); not read")
                continue
            if suffix_of(name) not in SUPPORTED_SUFFIXES:
                skip(rel, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
                continue
            found.append(path)
    return found


def safe_source_name(name: str) -> str:
    """A file name that is safe to create in the sources folder; ``SourceError`` otherwise.

    Directory parts are dropped (``C:\\fakepath\\a.txt`` → ``a.txt``); anything with ``..``
    is refused."""
    raw = str(name or "")
    if ".." in raw:  # a traversal attempt is refused, not quietly renamed
        raise SourceError(raw, "names with '..' are not accepted; rename the file")
    base = re.split(r"[\\/]", raw)[-1].strip()
    base = unicodedata.normalize("NFC", base)
    if not base:
        raise SourceError(raw or "(no name)", "has no file name")
    if base[0] in ".-":
        raise SourceError(base, "names starting with '.' or '-' are not accepted; rename the file")
    cleaned = re.sub(r"_+(?=\.)", "", _UNSAFE.sub("_", base)).strip("_") or "_"
    if cleaned[0] in ".-":
        raise SourceError(base, "is not a usable file name; rename the file")
    if len(cleaned) > MAX_NAME_CHARS:
        raise SourceError(base, f"name is longer than {MAX_NAME_CHARS} characters; rename the file")
    if suffix_of(cleaned) not in SUPPORTED_SUFFIXES:
        raise SourceError(base, f"has an unsupported type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    return cleaned


def save_upload(path: str | Path, original_name: str, sources_dir: Path, max_mb: float) -> tuple[str, bool]:
    """Copy an uploaded file into ``sources_dir`` under a safe name.

    Returns ``(name, replaced)``; raises ``SourceError`` naming the file when it is refused.
    """
    name = safe_source_name(original_name)
    size = Path(path).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise SourceError(name, f"is {size / 1048576:.1f} MB; the limit is {max_mb:g} MB (setting max_source_mb)")
    if size == 0:
        raise SourceError(name, "is empty")
    root = Path(sources_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    if target.resolve().parent != root.resolve():
        raise SourceError(name, "would be written outside the sources folder")
    replaced = target.exists()
    tmp = root / f".upload-{name}"
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return name, replaced


def list_sources(sources_dir: Path) -> list[str]:
    """The indexable files in the sources folder, as paths relative to it."""
    root = Path(sources_dir)
    if not root.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in scan_sources(root, [])]


def delete_source(sources_dir: Path, source: str) -> None:
    """Remove one file the sources folder lists; anything else is refused."""
    root = Path(sources_dir)
    if source not in list_sources(root):
        raise SourceError(str(source), "is not a file in the sources folder")
    (root / source).unlink()  # a link is removed itself, never what it points to
