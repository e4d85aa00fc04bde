"""Whole MiniLM builds by embedding runtime: PyTorch, ONNX Runtime, and the measured route.

    .venv/bin/python -m bench.runtime_build [--articles 150] [--no-write]

The same slice of RealTimeQA news articles (``a-`` ids, one ``.txt`` each) is indexed from
scratch three times, each in its own process (so each pays its own imports and model load,
and no runtime warms another's caches), with ``BRIEFING_EMBED_RUNTIME`` = ``torch``,
``onnx`` and ``auto`` (the default: the first 2 + 2 batches decide, from an empty decision
cache), then ``auto`` again with the decision that build cached. Reported: build wall time (model load included), chunks/s, and the ratio to the
PyTorch build of the same run. Replaces section ``build-runtimes`` of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from bench.common import (REPO, load_articles, loadavg, machine_info, markdown_table, temp_dir, update_section,
                          write_slice)

RUNTIMES = ("torch", "onnx", "auto", "auto, cached")
_CHILD = """
import json, sys, time
from pathlib import Path
from index_build.build import build_index
from index_build.settings import load_settings
src, idx = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
report = build_index(load_settings(environ={}, index_dir=idx, sources_dir=src, embedder="minilm"))
print(json.dumps({"seconds": time.perf_counter() - t0, "chunks": report.chunks, "embedded": report.embedded}))
"""


def log(msg: str) -> None:
    print(f"[runtimes {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.runtime_build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=150)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    info = machine_info()
    from index_build.embed import _minilm_path, cache_dir
    from index_build.onnx_minilm import graph_path

    results: dict[str, dict] = {}
    with temp_dir("briefing-runtime-build-") as tmp:
        write_slice(tmp / "sources", load_articles(args.articles))
        for runtime in RUNTIMES:
            # An empty decision cache (the ONNX graph copied in); "auto, cached": the one the
            # "auto" build left, so the decision is already made.
            cache = tmp / ("cache-auto" if runtime == "auto, cached" else f"cache-{runtime}")
            if not cache.exists():
                cache.mkdir()
                graph = graph_path(_minilm_path(), cache_dir())
                if graph.exists():  # exported once already: the builds do not pay for it
                    shutil.copy2(graph, cache / graph.name)
            env = {**os.environ, "BRIEFING_EMBED_RUNTIME": runtime.split(",")[0], "BRIEFING_CACHE_DIR": str(cache)}
            index = tmp / f"index-{runtime.replace(', ', '-')}"
            out = subprocess.run([sys.executable, "-c", _CHILD, str(tmp / "sources"), str(index)],
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
    base = results["torch"]["chunks"] / results["torch"]["seconds"]
    rows = [[rt + (f" (chose {r['route']})" if rt.startswith("auto") else ""), r["chunks"], f"{r['seconds']:.1f}",
             f"{r['chunks'] / r['seconds']:.1f}", f"{r['chunks'] / r['seconds'] / base:.2f}×"]
            for rt, r in results.items()]
    section = "\n".join([
        f"### Whole MiniLM builds by runtime (`bench.runtime_build`, {info['date']}, {info['cpu']}, "
        f"{info['usable_cores']} cores" + (f", load {load:.1f}" if load is not None else "") + ")",
        "",
        f"{args.articles} RealTimeQA articles indexed from scratch, each runtime in its own process (imports and "
        "model load included); `auto` starts with no cached decision, so its trial batches (and loading PyTorch) "
        "are in its time; `auto, cached` is the next build on the same machine.",
        "",
        markdown_table(["BRIEFING_EMBED_RUNTIME", "chunks", "seconds", "chunks/s", "vs torch"], rows),
    ])
    print(section)
    if not args.no_write:
        update_section("build-runtimes", section, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
