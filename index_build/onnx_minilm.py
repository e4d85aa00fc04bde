"""The same all-MiniLM-L6-v2 through ONNX Runtime: questions and answer sentences without torch.

A question (and the handful of sentences the answer step compares it with) is embedded by
ONNX Runtime from a graph exported once from the packaged weights and cached under
``$BRIEFING_CACHE_DIR`` (never downloaded). Its vectors match the PyTorch path's
(cosine ≥ 0.9999 per text, checked on export), so it is the same embedder and an index built
either way stays valid. What it saves (AMD EPYC, 2 cores, load ~1): a question in ~4 ms
instead of ~18 ms, the question + 10 answer sentences in ~55 ms instead of ~90–130 ms, and
for `briefing ask` the ~6 s import of torch and sentence-transformers. A build's batches take
whichever of the two measured faster on the machine (``embed_route.RouteChoice``): ONNX
Runtime one text at a time on AMD EPYC (1.7× PyTorch), PyTorch on Intel Xeon with AVX-512.

The export needs torch and ``onnx`` (both installed); it runs the first time the PyTorch model
is loaded in a process and the cached graph is missing or belongs to other weights.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .core.runtime import offline

__all__ = ["OnnxMiniLM", "TokenStates", "graph_path", "export", "MAX_TOKENS"]

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json): the same truncation
_CHECK_TEXTS = (
    "What did Ri Yong Ho demand?",
    "“Impatience is not helpful at all for building confidence,” Ri said in the statement.",
    "Ecuador declared an internal armed conflict after gunmen took over a live TV broadcast. " * 12,
)


class TokenStates(NamedTuple):
    """A text's contextual token vectors (the last hidden state, unit length, without [CLS]
    and [SEP]) and, per token, the word of the text it belongs to (word pieces share one)."""

    vectors: np.ndarray  # (tokens, 384) float32
    words: tuple[str, ...]


def graph_path(model_dir: str, cache: Path) -> Path:
    """Where the graph for these weights is cached: named by the weights file's size and
    modification time, so a reinstalled or different model gets its own export."""
    st = (Path(model_dir) / "model.safetensors").stat()
    return cache / f"minilm-onnx-{st.st_size:x}-{st.st_mtime_ns:x}.onnx"


class OnnxMiniLM:
    """Mean-pooled, unit-length MiniLM vectors from ONNX Runtime (and the ``tokenizers`` package)."""

    def __init__(self, model_dir: str, graph: Path, threads: int | None = None):
        offline()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.no_padding()
        self._tokenizer = tok
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or max(1, min(2, os.cpu_count() or 1))
        opts.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: on a busy 2-core machine (a build, other
        # requests) spinning workers steal the core the query needs.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()  # a tokenizers Tokenizer is not safe across threads

    def embed(self, texts: list[str]) -> np.ndarray:
        """One padded batch (a question and a few sentences)."""
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        return self._run([e.ids for e in encodings])[0]

    def embed_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[TokenStates]]:
        """One padded batch, as ``embed``, and each text's token states from the same run."""
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        vectors, hidden = self._run([e.ids for e in encodings])
        states = []
        for text, enc, h in zip(texts, encodings, hidden):
            n = len(enc.ids)
            h = h[1:n - 1].astype(np.float32)
            h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-9)
            spans: dict[int, tuple[int, int]] = {}
            for w, (a, b) in zip(enc.word_ids[1:n - 1], enc.offsets[1:n - 1]):
                if w is not None:
                    lo, hi = spans.get(w, (a, b))
                    spans[w] = (min(lo, a), max(hi, b))
            states.append(TokenStates(h, tuple(text[spans[w][0]:spans[w][1]] if w is not None else ""
                                               for w in enc.word_ids[1:n - 1])))
        return vectors, states

    def embed_each(self, texts: list[str]) -> np.ndarray:
        """One text per run, no padding: a build's passages. Measured (bench/embed_bench.py,
        AMD EPYC, 2 threads): 46.4 chunks/s one at a time against 39.2 in padded batches of 16."""
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        if not encodings:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack([self._run([e.ids])[0] for e in encodings])

    def _run(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Unit-length mean-pooled vectors of the token rows, and the token states."""
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        states = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[:, :, None].astype(np.float32)
        vectors = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        vectors = (vectors / norms).astype(np.float32)
        return vectors, np.asarray(states)


def export(model: Any, model_dir: str, dest: Path) -> bool:
    """Export the loaded sentence-transformers ``model`` to ``dest`` (temp file, checked, then
    renamed). False — and nothing left behind — when the export or the check fails."""
    import torch

    tmp = dest.with_name(dest.name + f".tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        import contextlib
        import io
        import warnings

        bert = model[0].auto_model.eval()

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        sample = torch.ones((2, 8), dtype=torch.int64)
        axes = {0: "batch", 1: "tokens"}
        dest.parent.mkdir(parents=True, exist_ok=True)
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()), \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(bert), (sample, sample, torch.zeros_like(sample)), str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "last_hidden_state": axes},
                opset_version=17, dynamo=False,
            )
        expected = model.encode(list(_CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)
        got = OnnxMiniLM(model_dir, tmp).embed(list(_CHECK_TEXTS))
        if float(np.min(np.sum(expected * got, axis=1))) < 0.9999:
            return False
        os.replace(tmp, dest)
        return True
    except Exception:  # no onnx package, an exporter change, a full disk: stay on PyTorch
        return False
    finally:
        if tmp.exists():
            tmp.unlink(missing_ok=True)
