"""Whole MiniLM builds by embedding runtime: PyTorch, ONNX Runtime, PyTorch in bfloat16, and
the measured route, against the build as it was before issue 15.

    .venv/bin/python -m bench.runtime_build [--articles 150] [--no-write]

The same slice of RealTimeQA news articles (``a-`` ids, one ``.txt`` each) is indexed from
scratch once per row, each in its own process (so each pays its own imports and model load,
and no runtime warms another's caches):

* ``before issue 15``: PyTorch in batches of 64 (``ENCODE_BATCH`` set back to 64 in that
  process) and no pipeline (``BRIEFING_PIPELINE_CHUNKS=0``): the build the issue measured;
* ``BRIEFING_EMBED_RUNTIME`` = ``torch``, ``onnx``, ``torch-bf16`` (only on a CPU with native
  bfloat16: elsewhere PyTorch emulates it, slowly, and the route never tries it), and ``auto``
  (the default: the first batches decide, from an empty decision cache), then ``auto`` again
  with the decision that build cached.

Reported: build wall time (model load included), chunks/s, the process's peak RSS, and the
ratios to the first two rows. Replaces section ``build-runtimes-<cpu maker>`` of docs/BENCHMARKS.md
(one per kind of machine, side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from bench.common import (
    REPO,
    load_articles,
    loadavg,
    machine_info,
    markdown_table,
    temp_dir,
    update_section,
    write_slice,
)
from bench.embed_bench import section_name

BEFORE = "before issue 15"
RUNTIMES = (BEFORE, "torch", "onnx", "torch-bf16", "auto", "auto, cached")
_CHILD = """
import json, resource, sys, time
from pathlib import Path
import index_build.embed
from index_build.build import build_index
from index_build.core.settings import load_settings
src, idx, encode_batch = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
index_build.embed.ENCODE_BATCH = encode_batch
t0 = time.perf_counter()
report = build_index(load_settings(environ={}, index_dir=idx, sources_dir=src, embedder="minilm"))
print(json.dumps({"seconds": time.perf_counter() - t0, "chunks": report.chunks, "embedded": report.embedded,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def log(msg: str) -> None:
    print(f"[runtimes {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.runtime_build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=150)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    info = machine_info()
    from index_build.embed import ENCODE_BATCH, MiniLMEmbedder
    from index_build.onnx_minilm import graph_path
    from index_build.paths import cache_dir, minilm_path

    bf16 = MiniLMEmbedder().bf16_native()

    results: dict[str, dict] = {}
    with temp_dir("briefing-runtime-build-") as tmp:
        write_slice(tmp / "sources", load_articles(args.articles))
        for runtime in RUNTIMES:
            if runtime == "torch-bf16" and not bf16:
                log("torch-bf16: skipped (no native bfloat16 on this CPU)")
                continue
            # An empty decision cache (the ONNX graph copied in); "auto, cached": the one the
            # "auto" build left, so the decision is already made.
            cache = tmp / ("cache-auto" if runtime == "auto, cached" else f"cache-{runtime}")
            if not cache.exists():
                cache.mkdir()
                graph = graph_path(minilm_path(), cache_dir())
                if graph.exists():  # exported once already: the builds do not pay for it
                    shutil.copy2(graph, cache / graph.name)
            env = {**os.environ, "BRIEFING_EMBED_RUNTIME": runtime.split(",")[0], "BRIEFING_CACHE_DIR": str(cache)}
            batch = ENCODE_BATCH
            if runtime == BEFORE:
                env.update(BRIEFING_EMBED_RUNTIME="torch", BRIEFING_PIPELINE_CHUNKS="0")
                batch = 64
            index = tmp / f"index-{runtime.replace(', ', '-').replace(' ', '-')}"
            out = subprocess.run([sys.executable, "-c", _CHILD, str(tmp / "sources"), str(index), str(batch)],
                                 cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
            if out.returncode != 0:
                log(f"{runtime}: the build failed: {out.stderr.strip().splitlines()[-1:]}")
                return 1
            res = json.loads(out.stdout.strip().splitlines()[-1])
            route = cache / "minilm-runtime.json"
            res["route"] = json.loads(route.read_text())["runtime"] if route.exists() else runtime
            results[runtime] = res
            log(f"{runtime}: {res['chunks']} chunks in {res['seconds']:.1f} s ({res['chunks'] / res['seconds']:.1f} chunks/s)")
    load = loadavg()
    before = results[BEFORE]["chunks"] / results[BEFORE]["seconds"]
    base = results["torch"]["chunks"] / results["torch"]["seconds"]
    rows = [[rt + (f" (chose {r['route']})" if rt.startswith("auto") else ""), r["chunks"], f"{r['seconds']:.1f}",
             f"{r['chunks'] / r['seconds']:.1f}", f"{r['chunks'] / r['seconds'] / before:.2f}×",
             f"{r['chunks'] / r['seconds'] / base:.2f}×", f"{r['peak_rss_mb']:.0f}"]
            for rt, r in results.items()]
    section = "\n".join([
        f"### Whole MiniLM builds by runtime (`bench.runtime_build`, {info['date']}, {info['cpu']}, "
        f"{info['usable_cores']} cores" + (f", load {load:.1f}" if load is not None else "") + ")",
        "",
        f"{args.articles} RealTimeQA articles indexed from scratch, each runtime in its own process (imports and "
        "model load included); *before issue 15*: PyTorch in batches of 64, no pipeline; `auto` starts with no "
        "cached decision, so its trial batches (and loading PyTorch) are in its time; `auto, cached` is the next "
        "build on the same machine" + ("" if bf16 else "; `torch-bf16` is not measured: this CPU has no native "
                                       "bfloat16") + ". Peak RSS: the build process's, model included.",
        "",
        markdown_table(["BRIEFING_EMBED_RUNTIME", "chunks", "seconds", "chunks/s", "vs before", "vs torch",
                        "peak RSS MB"], rows),
    ])
    print(section)
    if not args.no_write:
        update_section(section_name(info["cpu"]).replace("embed-runtimes", "build-runtimes"), section, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
