"""The lexical index: BM25 (bm25s) over headline + passage, one per index generation.

Written by the build right after it commits a new generation, so the first question after
``briefing index`` (or a rebuild in the web app) does not wait for it: at 107k chunks,
building it at first open took 42 s. The tokens of each chunk are kept in the record
(table ``chunk_tokens``, written in the build's commit transaction), so after adding a few
files only their chunks are tokenized; the BM25 matrix itself is rebuilt from the stored
tokens (bm25s has no incremental update).

Files: ``<index>/lexical/{bm25/, df.json, generation.json}``, written aside and renamed
into place. A reader whose generation has no matching files (a build killed after its
commit, an index from an older version) builds them itself with the same function.

The analyzer is ``index_build.core.text.tokenize``: the same one questions go through (the
assistant, a layer above, uses it too).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.text import tokenize

__all__ = ["LEXICAL_SCHEMA", "Lexical", "chunk_tokens", "load_lexical", "build_lexical", "lexical_dir",
           "lexical_stamp_matches"]

LEXICAL_SCHEMA = 2


class Lexical:
    """A loaded BM25 index and its document frequencies (term → number of chunks)."""

    def __init__(self, bm25: Any, df: dict[str, int]):
        self.bm25 = bm25
        self.df = df


def chunk_tokens(title: str | None, text: str) -> str:
    """What BM25 indexes for one chunk: stemmed content tokens of headline + passage, space-joined."""
    return " ".join(tokenize(f"{title or ''}\n{text}"))


def lexical_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "lexical"


def _stamp(generation: int, chunks: int) -> dict[str, int]:
    return {"generation": int(generation), "chunks": int(chunks), "schema": LEXICAL_SCHEMA}


def lexical_stamp_matches(index_dir: Path, generation: int, chunks: int) -> bool:
    try:
        stored = json.loads((lexical_dir(index_dir) / "generation.json").read_text())
        return bool(stored == _stamp(generation, chunks))
    except (OSError, ValueError):
        return False


def load_lexical(index_dir: Path, generation: int, chunks: int) -> Lexical | None:
    """The persisted BM25 of this generation, or None if there is none (or it is unreadable)."""
    import bm25s

    folder = lexical_dir(index_dir)
    try:
        if json.loads((folder / "generation.json").read_text()) != _stamp(generation, chunks):
            return None
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=False, show_progress=False, verbosity=0)
        df = json.loads((folder / "df.json").read_text())
    except (OSError, ValueError, KeyError):
        return None
    return Lexical(bm25, df)


def build_lexical(index_dir: Path | None, generation: int, tokens: list[str],
                  progress: Callable[[str, int, int], None] | None = None) -> Lexical:
    """BM25 over ``tokens`` (one space-joined string per chunk, in the corpus's row order);
    saved for ``generation`` under ``index_dir`` when given (and writable)."""
    import bm25s

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in t.split()] for t in tokens]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    lexical = Lexical(retriever, document_frequencies(ids, vocab))
    if index_dir is not None:
        _save(lexical_dir(index_dir), lexical, _stamp(generation, len(tokens)))
    if progress:
        progress("lexical", 1, 1)
    return lexical


def document_frequencies(ids: list[list[int]], vocab: dict[str, int]) -> dict[str, int]:
    """Term → how many chunks hold it, from the chunks' term ids: a chunk × term matrix
    (scipy.sparse), each repeated term of a chunk summed into one entry, then entries per column."""
    from scipy import sparse

    lengths = np.fromiter((len(d) for d in ids), dtype=np.int64, count=len(ids))
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    columns = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(indptr[-1]))
    matrix = sparse.csr_matrix((np.ones(len(columns), dtype=np.int32), columns, indptr),
                               shape=(len(ids), max(len(vocab), 1)))
    matrix.sum_duplicates()
    counts = np.diff(matrix.tocsc().indptr)
    return {term: int(counts[j]) for term, j in vocab.items() if term and counts[j]}


def _save(folder: Path, lexical: Lexical, stamp: dict[str, int]) -> None:
    # Written aside under a name of this process and thread, then renamed into place: two
    # writers (the build, a server's fallback) never write the same folder.
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        lexical.bm25.save(str(tmp / "bm25"), show_progress=False)
        (tmp / "df.json").write_text(json.dumps(lexical.df))
        (tmp / "generation.json").write_text(json.dumps(stamp))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # read-only or raced: the caller keeps it in memory
