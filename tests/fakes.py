"""Test doubles. They live here, never in the application's import path.

``FakeEmbedder`` is deterministic and needs no model: each word token is hashed into one
of 64 buckets (with a sign), and the vector is normalised. Texts that share words get
similar vectors, so nearest-neighbour queries behave sensibly in tests.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

__all__ = ["FakeEmbedder", "OtherFakeEmbedder", "SlowFakeEmbedder"]

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    name = "fake:hash-64"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            h = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(h[:4], "little") % self.dimension
            vec[bucket] += 1.0 if h[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)


class OtherFakeEmbedder(FakeEmbedder):
    """Same behaviour, another name and size: for "embedder changed" tests."""

    name = "fake:hash-32"
    dimension = 32


class SlowFakeEmbedder(FakeEmbedder):
    """The fake with a pause per batch, so a build lasts long enough to be interrupted."""

    def embed(self, texts: list[str]) -> np.ndarray:
        import time

        time.sleep(0.03)
        return super().embed(texts)
