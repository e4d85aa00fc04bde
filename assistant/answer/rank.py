"""The learned answer selector: two models and calibrated thresholds, read from
``assistant/data/answer_model.json`` (trained offline by ``python -m bench.train_answer``;
nothing is trained at install or run time).

* ``stage1`` (a logistic model) scores every candidate sentence from its cheap features; the
  best ``shortlist`` go on.
* ``stage2`` (gradient-boosted trees, or a logistic model) gives each shortlisted sentence the
  probability that it states the answer.
* ``answer_threshold``: answer when the best probability reaches it, else abstain; chosen on
  held-out folds. ``second_threshold``: a second sentence joins the answer when its own
  probability reaches it. Both are calibrated for an index the size of the training index
  (``big_chunks`` passages); ``small_thresholds`` is the pair calibrated the same way on small
  corpora (a few articles on one story, ``small_chunks`` passages at the median). A small
  index offers fewer look-alike sentences from other stories, so the same probability is
  less often a false answer there; ``thresholds(n)`` moves between the two pairs on the log
  of the index size.
* ``short_answer_prior``: for each question type, how often (in the training data) the answer
  was a named entity of each kind: the short answer is the new entity of the likeliest kind.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index_build.core.errors import BriefingError

from .features import STAGE1, STAGE2
from .view import IndexView

__all__ = ["Ranker", "corpus_size", "size_thresholds", "Linear", "Trees", "load_ranker", "load_model", "MODEL_PATH"]

MODEL_PATH = Path(__file__).parent.parent / "data" / "answer_model.json"


@dataclass(frozen=True)
class Linear:
    """A standardised logistic model: p = sigmoid(((x - mean) / scale) · coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Linear":
        return cls(tuple(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]))

    def as_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": [round(float(v), 6) for v in self.mean],
                "scale": [round(float(v), 6) for v in self.scale], "coef": [round(float(v), 6) for v in self.coef],
                "intercept": round(self.intercept, 6)}

    def logit(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept, dtype=np.float64)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logit(x))), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Trees:
    """Gradient-boosted regression trees on the log-odds (scikit-learn's
    ``HistGradientBoostingClassifier``, exported): logit = baseline + Σ leaf values, where a
    row goes left at a node when ``x[feature] <= threshold``. All trees are stored in flat
    arrays (node ids are global) and walked together, level by level."""

    features: tuple[str, ...]
    baseline: float
    roots: np.ndarray  # node id of each tree's root
    feature: np.ndarray  # per node; -1 at a leaf
    threshold: np.ndarray
    left: np.ndarray  # per node; a leaf points at itself
    right: np.ndarray
    value: np.ndarray  # leaf value (0 at inner nodes)
    depth: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Trees":
        feature = np.asarray(d["feature"], dtype=np.int64)
        left = np.asarray(d["left"], dtype=np.int64)
        right = np.asarray(d["right"], dtype=np.int64)
        n = len(feature)
        if not (len(left) == len(right) == len(d["threshold"]) == len(d["value"]) == n):
            raise ValueError("the tree arrays differ in length")
        leaf = feature < 0
        if np.any(left[leaf] != np.flatnonzero(leaf)) or np.any(right[leaf] != np.flatnonzero(leaf)):
            raise ValueError("a leaf does not point at itself")
        if n and (left.min() < 0 or left.max() >= n or right.min() < 0 or right.max() >= n):
            raise ValueError("a node points outside the tree arrays")
        if np.any(feature >= len(d["features"])):
            raise ValueError("a node splits on a feature the model does not have")
        return cls(tuple(d["features"]), float(d["baseline"]), np.asarray(d["roots"], dtype=np.int64), feature,
                   np.asarray(d["threshold"], float), left, right, np.asarray(d["value"], float), int(d["depth"]))

    def as_json(self) -> dict[str, Any]:
        return {"kind": "trees", "features": list(self.features), "baseline": round(self.baseline, 8),
                "depth": self.depth, "roots": self.roots.tolist(), "feature": self.feature.tolist(),
                "threshold": [round(float(v), 8) for v in self.threshold],
                "left": self.left.tolist(), "right": self.right.tolist(),
                "value": [round(float(v), 8) for v in self.value]}

    def logit(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return np.zeros(0)
        node = np.broadcast_to(self.roots[:, None], (len(self.roots), x.shape[0])).copy()
        rows = np.arange(x.shape[0])[None, :]
        for _ in range(self.depth):
            f = self.feature[node]
            go_left = x[rows, np.maximum(f, 0)] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        return np.asarray(self.baseline + self.value[node].sum(axis=0), dtype=np.float64)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logit(x))), dtype=np.float64)


def load_model(d: dict[str, Any]) -> Linear | Trees:
    return Trees.from_json(d) if d.get("kind") == "trees" else Linear.from_json(d)


@dataclass(frozen=True)
class Ranker:
    stage1: Linear
    stage2: Linear | Trees
    shortlist: int
    answer_threshold: float
    second_threshold: float
    short_answer_prior: dict[str, dict[str, float]]
    short_answer_min: float
    info: dict[str, Any]
    big_chunks: int = 0  # the training index's size (0: one pair of thresholds for every size)
    small_chunks: int = 0
    small_thresholds: tuple[float, float] | None = None

    def thresholds(self, chunks: int) -> tuple[float, float]:
        """(answer, second-sentence) thresholds for an index of ``chunks`` passages: the small
        corpora's pair up to ``small_chunks``, the training index's from ``big_chunks`` on, and
        in between a straight line on log(size)."""
        return size_thresholds(chunks, (self.answer_threshold, self.second_threshold), self.big_chunks,
                               self.small_thresholds, self.small_chunks)

    @classmethod
    def from_json(cls, d: dict[str, Any], where: str = "the answer model") -> "Ranker":
        try:
            r = cls(Linear.from_json(d["stage1"]), load_model(d["stage2"]), int(d["shortlist"]),
                    float(d["answer_threshold"]), float(d["second_threshold"]),
                    {k: dict(v) for k, v in d["short_answer_prior"].items()}, float(d["short_answer_min"]),
                    dict(d.get("info") or {}), *_calibration(d.get("small_corpora")))
        except (KeyError, TypeError, ValueError) as e:
            raise BriefingError(f"{where} is incomplete ({type(e).__name__}: {e}); "
                                "retrain it with `python -m bench.train_answer`") from None
        if r.stage1.features != STAGE1 or r.stage2.features != STAGE2:
            raise BriefingError(f"{where} was trained on another feature set than this version computes; "
                                "retrain it with `python -m bench.train_answer`")
        return r


def _calibration(d: dict[str, Any] | None) -> tuple[int, int, tuple[float, float] | None]:
    if not d:
        return 0, 0, None
    return int(d["big_chunks"]), int(d["small_chunks"]), (float(d["answer_threshold"]), float(d["second_threshold"]))


def size_thresholds(chunks: int, big: tuple[float, float], big_chunks: int,
                    small: tuple[float, float] | None, small_chunks: int) -> tuple[float, float]:
    """``Ranker.thresholds``: ``small`` up to ``small_chunks`` passages, ``big`` from
    ``big_chunks`` on, a straight line on log(size) between (``big`` alone without ``small``)."""
    if small is None or not 0 < small_chunks < big_chunks:
        return big
    lo, hi = math.log(small_chunks), math.log(big_chunks)
    w = min(1.0, max(0.0, (math.log(max(chunks, 1)) - lo) / (hi - lo)))
    return small[0] + w * (big[0] - small[0]), small[1] + w * (big[1] - small[1])


def corpus_size(corpus: IndexView) -> int:
    """How many passages the index holds (what ``Ranker.thresholds`` calibrates on)."""
    return len(corpus.ids)


_LOCK = threading.Lock()
_CACHE: dict[Path, Ranker] = {}


def load_ranker(path: Path = MODEL_PATH) -> Ranker:
    with _LOCK:
        if path not in _CACHE:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise BriefingError(f"the answer model {path} is missing; reinstall Briefing or run "
                                    "`python -m bench.train_answer`") from None
            except (OSError, json.JSONDecodeError) as e:
                raise BriefingError(f"the answer model {path} cannot be read ({e})") from None
            _CACHE[path] = Ranker.from_json(data, str(path))
        return _CACHE[path]
