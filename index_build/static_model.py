"""The ``static`` embedder profile: model2vec vectors distilled once from the packaged MiniLM
(PCA to 256 dimensions), cached under ``$BRIEFING_CACHE_DIR``; ~100x faster than MiniLM, weaker."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .core.errors import EmbedderError
from .core.runtime import offline
from .paths import cache_dir, minilm_path, normalize

__all__ = ["StaticEmbedder"]


class StaticEmbedder:
    name = "static:model2vec-minilm-pca256"
    dimension = 256

    def __init__(self, batch_size: int = 1024):
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        # model2vec's Hugging Face tokenizer cannot be used from two threads at once: it raises
        # "RuntimeError: Already borrowed" (bench/scale_bench.py: 3 of 240 asks failed with 8 and
        # 32 users of `briefing serve`; 2,100 of 2,400 embeds from 8 threads). One call at a time;
        # a question takes well under a millisecond.
        self._encode_lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                offline()
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
        import contextlib
        import io
        import sys

        offline()
        from model2vec.distill import distill

        print(f"Preparing the static embedder once (about a minute); cached in {path}", file=sys.stderr)
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        try:
            # distill() draws its own progress bars and load reports; keep the terminal clean.
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                model = distill(model_name=minilm_path(), pca_dims=256)
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
        return normalize(out)
