"""The real embedding profiles index the seeds offline and find the right passage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from index_build.build import build_index, expected_meta
from index_build.core.settings import load_settings
from index_build.embed import make_embedder
from index_build.store.docstore import DocStore
from index_build.store.vectors import make_vectors
from tests.conftest import SEED_001, SEEDS
from ui.cli import main

pytestmark = pytest.mark.integration

QUESTION = "What did Ri Yong Ho demand?"


def _build(tmp_path_factory, profile: str):
    index_dir = tmp_path_factory.mktemp(f"index-{profile}")
    settings = load_settings(environ={}, index_dir=index_dir, sources_dir=SEEDS, embedder=profile)
    report = build_index(settings)
    return settings, report


@pytest.fixture(scope="session")
def minilm_index(tmp_path_factory, minilm):
    return _build(tmp_path_factory, "minilm")


@pytest.fixture(scope="session")
def static_index(tmp_path_factory):
    # Distilled once (about a minute) and cached under the default cache directory, so later
    # sessions reuse it.
    return _build(tmp_path_factory, "static")


def top_chunks(settings, question: str, n: int) -> list[dict]:
    embedder = make_embedder(settings.embedder)
    vectors = make_vectors(settings, expected_meta(settings, embedder))
    hits = vectors.query(embedder.embed([question])[0], n)
    record = DocStore(settings.db_path, readonly=True)
    try:
        rows = {r[0]: r for r in record.chunks_with_meta([cid for cid, _ in hits])}
        docs = {d.doc_id: d for d in record.documents()}
    finally:
        record.close()
    return [
        {"text": rows[cid][4], "source": rows[cid][6], "record_id": docs[rows[cid][1]].record_id, "distance": dist}
        for cid, dist in hits
    ]


def _is_the_answer(hit: dict) -> bool:
    return hit["source"] == SEED_001 and hit["record_id"] == "story-1" and "simultaneous actions" in hit["text"]


def test_minilm_finds_the_passage_that_answers_the_question(minilm_index):
    settings, report = minilm_index
    assert (report.added, report.documents, report.chunks) == (2, 3, 11)
    hits = top_chunks(settings, QUESTION, 2)
    assert any(_is_the_answer(h) for h in hits), [h["text"][:60] for h in hits]


def test_minilm_status_reports_the_model_and_its_size(minilm_index):
    settings, _ = minilm_index
    result = CliRunner().invoke(main, ["--index-dir", str(settings.index_dir), "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["embedder"].startswith("minilm")
    assert (status["dimension"], status["chunk_tokens"], status["documents"], status["chunks"]) == (384, 200, 3, 11)


def test_minilm_vectors_are_unit_length_and_deterministic(minilm):
    a = minilm.embed(["North Korea demanded simultaneous actions.", QUESTION])
    b = minilm.embed(["North Korea demanded simultaneous actions."])
    assert a.shape == (2, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert np.allclose(a[0], b[0], atol=1e-5)
    assert float(a[0] @ a[1]) > 0.3  # related sentences are close


def test_an_unchanged_reindex_never_loads_or_calls_the_model(minilm_index):
    settings, report = minilm_index
    again = build_index(settings)
    assert (again.unchanged, again.embedded, again.chunks) == (2, 0, report.chunks)


def test_static_profile_indexes_and_answers(static_index):
    settings, report = static_index
    assert (report.documents, report.chunks) == (3, 11)
    result = CliRunner().invoke(main, ["--index-dir", str(settings.index_dir), "status", "--json"])
    status = json.loads(result.stdout)
    assert status["embedder"].startswith("static")
    assert status["dimension"] == 256
    assert any(_is_the_answer(h) for h in top_chunks(settings, QUESTION, 2))


def test_onnx_runtime_gives_the_pytorch_vectors(minilm):
    """Questions go through ONNX Runtime, batches through PyTorch: the same vectors either way,
    so an index built by one is queried correctly by the other."""
    from index_build.embed import MiniLMEmbedder

    texts = [QUESTION, "“Impatience is not helpful at all,” Ri said.", "North Korea " * 200]
    fast = MiniLMEmbedder(runtime="auto")
    got = fast.embed(texts)
    assert fast._onnx is not None, "small inputs should take the ONNX path"
    expected = MiniLMEmbedder(runtime="torch").embed(texts)
    assert got.shape == expected.shape == (3, 384)
    assert float(np.min(np.sum(got * expected, axis=1))) >= 0.9999


def test_batches_through_onnx_runtime_give_the_pytorch_vectors(minilm):
    """A build's batches may go through ONNX Runtime one text at a time (where it measured
    faster): the vectors are PyTorch's, so the index does not depend on the machine that built it."""
    from index_build.embed import SMALL_INPUT, MiniLMEmbedder

    texts = [f"{QUESTION} ({i})" if i % 3 else "North Korea " * (20 * i + 1) for i in range(SMALL_INPUT + 4)]
    got = MiniLMEmbedder(runtime="onnx").embed(texts)
    expected = MiniLMEmbedder(runtime="torch").embed(texts)
    assert got.shape == expected.shape == (len(texts), 384)
    assert float(np.min(np.sum(got * expected, axis=1))) >= 0.9999


def test_batches_in_bfloat16_give_the_float32_vectors(minilm):
    """On a CPU with AMX / AVX-512 BF16 a build may embed in bfloat16 (~2.4× faster on such a
    Xeon): its vectors must stay the float32 ones (cosine ≥ 0.999), or an index would mix two
    embedders. Runs everywhere (elsewhere PyTorch emulates bfloat16: slow, same numbers)."""
    from index_build.embed import BF16_AGREEMENT, SMALL_INPUT, MiniLMEmbedder

    texts = [f"{QUESTION} ({i})" if i % 3 else "North Korea " * (20 * i + 1) for i in range(SMALL_INPUT + 4)]
    bf16 = MiniLMEmbedder(runtime="torch-bf16")
    got = bf16.embed(texts)
    assert bf16._bf16_checked and not bf16._bf16_failed
    expected = MiniLMEmbedder(runtime="torch").embed(texts)
    assert got.dtype == np.float32 and got.shape == expected.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(got * expected, axis=1))) >= BF16_AGREEMENT


def test_a_damaged_cached_graph_falls_back_to_pytorch_and_is_removed(tmp_path, monkeypatch):
    from index_build.embed import MiniLMEmbedder
    from index_build.onnx_minilm import graph_path
    from index_build.paths import minilm_path as _minilm_path

    monkeypatch.setenv("BRIEFING_CACHE_DIR", str(tmp_path))
    graph = graph_path(_minilm_path(), tmp_path)
    graph.write_bytes(b"not an onnx graph")
    embedder = MiniLMEmbedder(runtime="auto")
    vectors = embedder.embed([QUESTION])
    assert vectors.shape == (1, 384) and embedder._onnx is None
    assert not graph.exists() or graph.read_bytes() != b"not an onnx graph"


def test_a_cold_ask_never_imports_torch(minilm_index):
    """`briefing ask` embeds the question through ONNX Runtime and imports spaCy without torch:
    importing torch and sentence-transformers was ~6 s of every cold ask. Both stay importable."""
    import os
    import subprocess
    import sys

    settings, _ = minilm_index
    code = ("import sys\nfrom ui.cli import main\n"
            f"sys.argv = ['briefing', '--index-dir', {str(settings.index_dir)!r}, 'ask', {QUESTION!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
            "import torch, scipy.stats\n"  # hidden only while spaCy and NLTK load
            "print('IMPORTABLE')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_") or k == "BRIEFING_CACHE_DIR"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "simultaneous actions" in out.stdout, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-2:] == ["NO-TORCH", "IMPORTABLE"]


def test_an_unknown_embed_runtime_is_one_clear_error():
    from index_build.core.errors import EmbedderError, SettingsError
    from index_build.core.settings import load_settings
    from index_build.embed import MiniLMEmbedder

    with pytest.raises(SettingsError, match="BRIEFING_EMBED_RUNTIME = 'cuda' is unknown"):
        load_settings(environ={"BRIEFING_EMBED_RUNTIME": "cuda"})
    with pytest.raises(EmbedderError, match="use auto, torch, torch-bf16 or onnx"):
        MiniLMEmbedder(runtime="cuda")


def test_the_readme_console_example_is_the_real_output(minilm_index, tmp_path):
    """Issue 17: the README's first console block (index, a cited answer, an abstention) is
    what the commands print on the seeds — every line shown, the build time aside."""
    import re
    import shlex

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```console\n", 1)[1].split("\n```", 1)[0]
    runs = re.split(r"^\$ ", block, flags=re.M)[1:]
    assert len(runs) >= 3
    settings, _ = minilm_index
    for run in runs:
        command, *shown = run.rstrip("\n").split("\n")
        args = shlex.split(command.split("#")[0])
        assert args[0] == "briefing"
        if args[1] == "index":
            result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "index"), "index", str(SEEDS)])
        else:
            result = CliRunner().invoke(main, ["--index-dir", str(settings.index_dir), *args[1:]])
        assert result.exit_code == 0, result.output
        real = result.stdout.rstrip("\n").split("\n")
        for i, line in enumerate(x for x in shown if x != "…"):
            pattern = re.escape(line).replace(r"in\ 15\.3\ s\.", r"in\ [\d.]+\ s\.")
            assert re.fullmatch(pattern, real[i]), (command, line, real[i])
