"""Which runtime embeds a build's batches: measured on the machine, cached, and overridable.

Unit tests with a fake pair of runtimes (no model): the routing logic only. The real vectors
of both runtimes are compared in tests/test_real_model.py."""

import json

import numpy as np
import pytest

from index_build import embed, embed_route
from index_build.embed import ROUTE_TRIALS, SMALL_INPUT, MiniLMEmbedder


class _Fake(MiniLMEmbedder):
    """Seconds per 1,000 characters given per runtime; the calls are recorded."""

    def __init__(self, torch_s: float, onnx_s: float | None, runtime: str | None = None,
                 bf16_s: float | None = None, bf16_agrees: bool = True):
        super().__init__(runtime=runtime)
        self.cost = {"torch": torch_s, "onnx": onnx_s, "torch-bf16": bf16_s}
        self.agrees = bf16_agrees
        self.calls: list[str] = []

    def bf16_native(self):  # the CPU question, answered by the test
        return self.cost["torch-bf16"] is not None

    def _vectors(self, texts):
        return np.ones((len(texts), self.dimension), dtype=np.float32) / np.sqrt(self.dimension)

    def _embed_torch(self, texts, bf16=False):
        name = "torch-bf16" if bf16 else "torch"
        self.calls.append(name)
        vectors = self._vectors(texts)
        if bf16 and not self.agrees:  # another direction: these would be another embedder's vectors
            vectors = np.roll(vectors * np.arange(1, self.dimension + 1), 1, axis=1)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors, self.cost[name] * sum(map(len, texts)) / 1000

    def _embed_onnx(self, texts):
        if self.cost["onnx"] is None:  # no onnxruntime / no graph
            self._onnx_failed = True
            return None
        self.calls.append("onnx")
        return self._vectors(texts), self.cost["onnx"] * sum(map(len, texts)) / 1000


BATCH = ["a passage of news text " * 10] * (SMALL_INPUT + 1)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEFING_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BRIEFING_EMBED_RUNTIME", raising=False)
    return tmp_path


@pytest.mark.parametrize("torch_s, onnx_s, winner", [(2.0, 1.0, "onnx"), (1.0, 2.0, "torch")])
def test_the_faster_runtime_embeds_the_rest_of_the_build(torch_s, onnx_s, winner, cache):
    emb = _Fake(torch_s, onnx_s)
    for _ in range(2 * ROUTE_TRIALS + 3):
        assert emb.embed(BATCH).shape == (len(BATCH), emb.dimension)
    trial = emb.calls[:2 * ROUTE_TRIALS]
    assert trial == ["torch", "onnx"] * ROUTE_TRIALS  # PyTorch first: loading it exports the graph
    assert emb.calls[2 * ROUTE_TRIALS:] == [winner] * 3
    saved = json.loads((cache / "minilm-runtime.json").read_text())
    assert saved["runtime"] == winner and saved["machine"] == embed_route.machine()
    assert saved["s_per_1000_chars"]["torch"] == pytest.approx(torch_s)


def test_a_later_process_on_the_same_machine_skips_the_trial(cache):
    first = _Fake(2.0, 1.0)
    for _ in range(2 * ROUTE_TRIALS):
        first.embed(BATCH)
    later = _Fake(1.0, 2.0)  # would measure the other way, but the machine's decision stands
    later.embed(BATCH)
    assert later.calls == ["onnx"]


def test_a_cached_decision_from_another_machine_is_not_used(cache):
    (cache / "minilm-runtime.json").write_text(json.dumps({"machine": "another CPU", "runtime": "onnx"}))
    emb = _Fake(1.0, 2.0)
    emb.embed(BATCH)
    assert emb.calls == ["torch"]  # a new trial


@pytest.mark.parametrize("junk", ["not json", "[]", '{"machine": null}',
                                  json.dumps({"machine": embed_route.machine(), "runtime": "onnx", "s_per_1000_chars": 5})])
def test_an_unreadable_cached_decision_means_a_new_trial(junk, cache):
    (cache / "minilm-runtime.json").write_text(junk)
    emb = _Fake(2.0, 1.0)
    for _ in range(2 * ROUTE_TRIALS + 1):
        emb.embed(BATCH)
    assert emb.calls[-1] == "onnx"


def test_without_onnx_runtime_batches_stay_on_pytorch(cache):
    emb = _Fake(2.0, None)
    for _ in range(4):
        emb.embed(BATCH)
    assert emb.calls == ["torch"] * 4
    assert not (cache / "minilm-runtime.json").exists()  # nothing measured, nothing decided


def test_a_forced_runtime_is_never_second_guessed(cache):
    emb = _Fake(9.0, 1.0, runtime="torch")
    for _ in range(2 * ROUTE_TRIALS + 1):
        emb.embed(BATCH)
    assert emb.calls == ["torch"] * (2 * ROUTE_TRIALS + 1)
    assert not (cache / "minilm-runtime.json").exists()


def test_bfloat16_joins_the_trial_on_a_cpu_that_has_it_and_wins_when_faster(cache):
    emb = _Fake(2.0, 1.5, bf16_s=0.5)
    for _ in range(3 * ROUTE_TRIALS + 2):
        emb.embed(BATCH)
    calls = [c for c in emb.calls]
    # The first bf16 batch is checked against float32 on its first texts (two probe calls).
    assert calls[:3] == ["torch", "onnx", "torch-bf16"]
    assert calls[-2:] == ["torch-bf16", "torch-bf16"]
    saved = json.loads((cache / "minilm-runtime.json").read_text())
    assert saved["runtime"] == "torch-bf16" and set(saved["s_per_1000_chars"]) == {"torch", "onnx", "torch-bf16"}


def test_bfloat16_is_not_tried_on_a_cpu_without_it(cache):
    emb = _Fake(2.0, 1.0)  # bf16_s None: no AMX / AVX-512 BF16
    for _ in range(2 * ROUTE_TRIALS + 2):
        emb.embed(BATCH)
    assert "torch-bf16" not in emb.calls


def test_bfloat16_vectors_that_differ_from_float32_are_never_used(cache):
    emb = _Fake(2.0, 1.5, bf16_s=0.1, bf16_agrees=False)  # fastest, but not the same embedder
    out = [emb.embed(BATCH) for _ in range(3 * ROUTE_TRIALS + 2)]
    saved = json.loads((cache / "minilm-runtime.json").read_text())
    assert saved["runtime"] == "onnx" and "torch-bf16" not in saved["s_per_1000_chars"]
    ref = emb._vectors(BATCH)
    assert all(np.allclose(v, ref) for v in out)  # every batch got float32-equivalent vectors


def test_a_forced_bfloat16_that_differs_is_one_clear_error(cache):
    emb = _Fake(2.0, 1.5, runtime="torch-bf16", bf16_s=0.1, bf16_agrees=False)
    with pytest.raises(embed.EmbedderError, match="bfloat16 vectors differ"):
        emb.embed(BATCH)


def test_a_decision_cached_among_fewer_runtimes_is_measured_again(cache):
    first = _Fake(2.0, 1.0)  # a CPU without bf16 decided between two
    for _ in range(2 * ROUTE_TRIALS):
        first.embed(BATCH)
    later = _Fake(2.0, 1.0, bf16_s=0.5)  # same machine string, but now three candidates
    later.embed(BATCH)
    assert later.calls == ["torch"]  # a new trial, not the cached "onnx"


def test_the_last_few_passages_of_a_build_stay_on_the_batch_runtime(cache):
    """A build's tail (≤ SMALL_INPUT passages) after PyTorch batches: no second runtime opened."""
    emb = _Fake(1.0, 2.0)
    emb._model = object()  # PyTorch loaded by the batches
    for _ in range(2 * ROUTE_TRIALS):
        emb.embed(BATCH)
    assert emb._route == "torch"
    emb.embed(BATCH[:3])
    assert emb.calls[-1] == "torch" and emb._onnx is None
