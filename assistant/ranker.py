"""The learned answer selector: two logistic models and calibrated thresholds, read from
``assistant/data/answer_model.json`` (trained offline by ``python -m bench.train_answer``;
nothing is trained at install or run time).

* ``stage1`` scores every candidate sentence from its cheap features; the best
  ``shortlist`` go on.
* ``stage2`` gives each shortlisted sentence the probability that it states the answer.
* ``answer_threshold``: answer when the best probability reaches it, else abstain; chosen on
  held-out folds. ``second_threshold``: a second sentence joins the answer when its own
  probability reaches it.
* ``short_answer_prior``: for each question type, how often (in the training data) the answer
  was a named entity of each kind: the short answer is the new entity of the likeliest kind.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index_build.errors import BriefingError

from .features import STAGE1, STAGE2

__all__ = ["Ranker", "Linear", "load_ranker", "MODEL_PATH"]

MODEL_PATH = Path(__file__).parent / "data" / "answer_model.json"


@dataclass(frozen=True)
class Linear:
    """A standardised logistic model: p = sigmoid(((x - mean) / scale) · coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_json(cls, d: dict) -> "Linear":
        return cls(tuple(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]))

    def as_json(self) -> dict:
        return {"features": list(self.features), "mean": [round(float(v), 6) for v in self.mean],
                "scale": [round(float(v), 6) for v in self.scale], "coef": [round(float(v), 6) for v in self.coef],
                "intercept": round(self.intercept, 6)}

    def logit(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return np.zeros(0)
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def proba(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))


@dataclass(frozen=True)
class Ranker:
    stage1: Linear
    stage2: Linear
    shortlist: int
    answer_threshold: float
    second_threshold: float
    short_answer_prior: dict[str, dict[str, float]]
    short_answer_min: float
    info: dict

    @classmethod
    def from_json(cls, d: dict, where: str = "the answer model") -> "Ranker":
        try:
            r = cls(Linear.from_json(d["stage1"]), Linear.from_json(d["stage2"]), int(d["shortlist"]),
                    float(d["answer_threshold"]), float(d["second_threshold"]),
                    {k: dict(v) for k, v in d["short_answer_prior"].items()}, float(d["short_answer_min"]),
                    dict(d.get("info") or {}))
        except (KeyError, TypeError, ValueError) as e:
            raise BriefingError(f"{where} is incomplete ({type(e).__name__}: {e}); "
                                "retrain it with `python -m bench.train_answer`") from None
        if r.stage1.features != STAGE1 or r.stage2.features != STAGE2:
            raise BriefingError(f"{where} was trained on another feature set than this version computes; "
                                "retrain it with `python -m bench.train_answer`")
        return r


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
