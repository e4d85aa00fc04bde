"""MiniLM embedding throughput by runtime, batch size, threads and length bucketing: the table
of docs/BENCHMARKS.md section ``embed-runtimes-<cpu maker>``.

    .venv/bin/python -m bench.embed_bench [--chunks 256] [--batches 1 8 16 32 64] [--threads 1 2] [--no-write]

The texts are real passages: RealTimeQA news articles (``../shared/bench-data/rtqa``) cut by
the index's own chunker at the default size, in file order. Every configuration embeds the
same texts once for warm-up, then is timed over ``--rounds`` runs (best of, in chunks/s), all in
one process on one machine, so the ratios compare. Runtimes:

* ``torch``: sentence-transformers on PyTorch (``torch.set_num_threads``), texts in their order;
* ``torch bf16``: the same inside ``torch.autocast("cpu", dtype=torch.bfloat16)`` (AMX or
  AVX-512 BF16 do the matrix products), each batch padded to a multiple of ``BF16_PAD``
  tokens as the build does, only on a CPU with native bfloat16 (the route of
  ``index_build/embed.py`` tries it only there);
* ``onnx``: the cached ONNX Runtime graph (``index_build/onnx_minilm.py``, all graph
  optimisations), with the given intra-op threads;
* ``… sorted``: the same, texts sorted by length first so that a batch pads less;
* ``onnx int8``: the graph with int8 dynamic quantisation of its weights
  (``onnxruntime.quantization.quantize_dynamic``; VNNI / AMX where the CPU has them), sorted.
  Not a runtime of the ``minilm`` embedder: its vectors differ, so it would be an embedder of
  its own (``--rebuild``) and only if retrieval holds.

Agreement: the cosine of each runtime's vector with PyTorch's, per text (≥ 0.999 keeps an
index valid without a rebuild).
"""

from __future__ import annotations

import argparse
import re
import sys
import time

import numpy as np

from bench.common import load_articles, loadavg, machine_info, markdown_table, temp_dir, update_section


def log(msg: str) -> None:
    print(f"[embed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def passages(n: int) -> list[str]:
    from index_build.chunk import chunk_document
    from index_build.core.models import Document
    from index_build.core.settings import load_settings

    s = load_settings(environ={})
    out: list[str] = []
    for rec in load_articles(max(8, n // 4)):
        doc = Document(rec["id"], rec["id"], rec["text"], rec["id"], title=rec.get("title", ""))
        out += [c.text for c in chunk_document(doc, s.chunk_tokens, s.chunk_overlap)]
        if len(out) >= n:
            break
    return out[:n]


def in_batches(fn, texts: list[str], batch: int, bucket: bool) -> np.ndarray:
    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if bucket else list(range(len(texts)))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        out[idx] = fn([texts[j] for j in idx])
    return out


def best_rate(fn, texts, batch, bucket, rounds) -> tuple[float, np.ndarray]:
    vectors = in_batches(fn, texts, batch, bucket)  # warm-up (and the vectors)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        in_batches(fn, texts, batch, bucket)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best, vectors


def section_name(cpu: str) -> str:
    """One section per CPU maker: the two kinds of machine here rank the runtimes differently
    (AVX-512 Xeon: PyTorch first; AVX2 EPYC: ONNX Runtime), and both tables stay side by side."""
    maker = re.sub(r"[^a-z]", "", (cpu.split() or ["cpu"])[0].lower().replace("(r)", "")) or "cpu"
    return f"embed-runtimes-{maker}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.embed_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=256)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16, 32, 64])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    with temp_dir("briefing-embed-bench-") as tmp:  # the int8 graph is the bench's, not the cache's
        return run(args, tmp)


def run(args, tmp) -> int:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    from index_build.chunk import count_tokens
    from index_build.onnx_minilm import OnnxMiniLM, export, graph_path
    from index_build.paths import cache_dir
    from index_build.paths import minilm_path as _minilm_path

    info = machine_info()
    texts = passages(args.chunks)
    model = SentenceTransformer(_minilm_path(), device="cpu")
    graph = graph_path(_minilm_path(), cache_dir())
    if not graph.exists():
        export(model, _minilm_path(), graph)
    int8_graph = tmp / "minilm-int8.onnx"
    quantize_dynamic(str(graph), str(int8_graph), weight_type=QuantType.QInt8)
    tokens = count_tokens(texts)
    log(f"{len(texts)} passages, mean {np.mean(tokens):.0f} tokens (the index's tokenizer)")

    def torch_fn(batch, bf16=False):
        import contextlib

        extra = {"processing_kwargs": {"text": {"pad_to_multiple_of": BF16_PAD}}} if bf16 else {}

        def fn(part):
            with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
                out = model.encode(part, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False, **extra)
            return np.asarray(out, dtype=np.float32)
        return fn

    from index_build.embed import BF16_PAD, MiniLMEmbedder

    native_bf16 = MiniLMEmbedder().bf16_native()

    results: dict[tuple[str, int, int], float] = {}
    reference = None
    agreement: dict[str, float] = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        onnx = OnnxMiniLM(_minilm_path(), graph, threads=threads)
        int8 = OnnxMiniLM(_minilm_path(), int8_graph, threads=threads)
        for batch in args.batches:
            runs = [("torch", torch_fn(batch), False)]
            if native_bf16:
                runs.append(("torch bf16", torch_fn(batch, bf16=True), False))
            runs += [("onnx", onnx.embed, False), ("onnx sorted", onnx.embed, True), ("onnx int8", int8.embed, True)]
            for name, fn, bucket in runs:
                rate, vectors = best_rate(fn, texts, batch, bucket, args.rounds)
                results[(name, batch, threads)] = rate
                if name == "torch" and reference is None:
                    reference = vectors
                elif reference is not None and name != "torch" and name not in agreement:
                    agreement[name] = float(np.min(np.sum(vectors * reference, axis=1)))
                log(f"{name:12s} batch {batch:3d} threads {threads}: {rate:6.1f} chunks/s")
    load = loadavg()
    base_batch = 64 if 64 in args.batches else max(args.batches)  # 64: the build's batch before ENCODE_BATCH
    base = results[("torch", base_batch, max(args.threads))]
    names = ("torch",) + (("torch bf16",) if native_bf16 else ()) + ("onnx", "onnx sorted", "onnx int8")
    rows = []
    for threads in args.threads:
        for batch in args.batches:
            rows.append([threads, batch] + [f"{results[(n, batch, threads)]:.1f} ({results[(n, batch, threads)] / base:.2f}×)"
                                            for n in names])
    best = max(results, key=results.get)
    section = "\n".join([
        f"### MiniLM embedding by runtime, batch and threads (`bench.embed_bench`, {info['date']}, {info['cpu']}, "
        f"{info['usable_cores']} cores" + (f", load {load:.1f}" if load is not None else "") + ")",
        "",
        f"{len(texts)} RealTimeQA news passages cut by the index's chunker (mean {np.mean(tokens):.0f} tokens), "
        f"chunks/s, best of {args.rounds} runs after a warm-up; in brackets the ratio to PyTorch at batch "
        f"{base_batch} on {max(args.threads)} threads. *sorted*: the texts sorted by length before batching.",
        "",
        markdown_table(["threads", "batch", *names], rows),
        "",
        f"Fastest: {best[0]}, batch {best[1]}, {best[2]} threads ({results[best]:.1f} chunks/s, "
        f"{results[best] / base:.2f}× PyTorch at batch {base_batch}). Smallest per-text cosine with PyTorch's vector: "
        + ", ".join(f"{k} {v:.5f}" for k, v in agreement.items()) + ".",
    ])
    print(section)
    if not args.no_write:
        update_section(section_name(info["cpu"]), section, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
