"""Which batch runtime embeds a build's passages on this machine: the CPU's features, and the
decision measured once and cached under ``$BRIEFING_CACHE_DIR`` (keyed on the CPU and the
runtimes' versions, so a new machine or a new torch measures again)."""

from __future__ import annotations

import functools
import json
import os
import threading
import time

from .paths import cache_dir

__all__ = ["cpuinfo", "cpu_has", "machine", "cached_route", "store_route", "ROUTE_FILE", "RouteChoice", "ROUTE_TRIALS"]


@functools.lru_cache(maxsize=1)
def cpuinfo() -> dict[str, str]:
    """The first CPU's fields from /proc/cpuinfo ("model name", "flags"…); empty elsewhere."""
    out: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for ln in f:
                if not ln.strip():
                    break  # the end of the first processor's block
                key, _, value = ln.partition(":")
                out.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return out


def cpu_has(*flags: str) -> bool:
    have = set(cpuinfo().get("flags", "").split())
    return any(flag in have for flag in flags)


ROUTE_FILE = "minilm-runtime.json"


def machine() -> str:
    """The CPU model and core count and the two runtimes' versions: what the speed depends on."""
    import platform
    from importlib import metadata

    cpu = cpuinfo().get("model name") or platform.processor() or platform.machine()
    versions = []
    for pkg in ("torch", "onnxruntime"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} -")
    return f"{cpu} × {os.cpu_count()}; " + ", ".join(versions)


def cached_route(candidates: list[str]) -> str | None:
    """The runtime decided earlier on this machine among these same ``candidates``, or None."""
    try:
        data = json.loads((cache_dir() / ROUTE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(data, dict) or data.get("machine") != machine() or data.get("runtime") not in candidates
            or not isinstance(data.get("s_per_1000_chars"), dict)
            or sorted(data["s_per_1000_chars"]) != sorted(candidates)):
        return None
    return str(data["runtime"])


def store_route(runtime: str, speed: dict[str, float]) -> None:
    path = cache_dir() / ROUTE_FILE
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"machine": machine(), "runtime": runtime,
                                   "s_per_1000_chars": {k: round(v, 5) for k, v in speed.items()},
                                   "measured": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only cache: decided again next time
        tmp.unlink(missing_ok=True)


# A build's first batches (64 passages each; 2 per candidate) decide between PyTorch, ONNX
# Runtime and, on a CPU with native bfloat16, PyTorch in bfloat16; the fastest (best time per
# character) embeds the rest, and the choice is cached for the machine. Measured
# (bench/embed_bench.py, 2 threads, news passages): AMD EPYC (AVX2) PyTorch 27.7 chunks/s at
# batch 16 against ONNX Runtime 46.4 one text at a time; Intel Xeon (AVX-512, AMX) the other
# way round, PyTorch 55.0 against ONNX 31-40, and PyTorch in bfloat16 on its AMX units ~2.4×
# PyTorch (cosine with the float32 vectors ≥ 0.9999). So the machine decides, not a constant.
ROUTE_TRIALS = 2


class RouteChoice:
    """The batch-runtime decision of ``embed.MiniLMEmbedder`` (which inherits it): the runtime
    it was told to use, else the one cached for this machine, else a trial over its first
    batches, recorded in ``_trials`` by the embedder and settled by ``_decide``."""

    runtime: str
    _route: str | None
    _trials: dict[str, list[float]]
    _onnx_failed: bool
    _bf16_failed: bool

    def bf16_native(self) -> bool:
        """Whether the CPU computes in bfloat16 itself (AMX or AVX-512 BF16): elsewhere PyTorch
        emulates it, slower than float32, and the trial does not try it."""
        return cpu_has("amx_bf16", "avx512_bf16")

    def _candidates(self) -> list[str]:
        """The batch runtimes the trial compares, PyTorch first (loading it exports the ONNX
        graph); a runtime that failed here is left out."""
        out = ["torch"]
        if not self._onnx_failed:
            out.append("onnx")
        if not self._bf16_failed and self.bf16_native():
            out.append("torch-bf16")
        return out

    def _batch_runtime(self) -> str:
        """The runtime for a batch. Forced by ``runtime``; else the decision cached for this
        machine; else a trial: the first batches go round the candidates and are timed per
        character of text."""
        if self.runtime != "auto":
            return self.runtime
        if self._route is None:
            self._route = cached_route(self._candidates())
        if self._route is not None:
            return self._route
        candidates = self._candidates()
        if len(candidates) == 1:
            self._route = candidates[0]
            return self._route
        return min(candidates, key=lambda r: len(self._trials[r]))  # ties: the earlier one

    def _decide(self) -> None:
        candidates = self._candidates()
        if len(candidates) == 1:
            self._route = candidates[0]
            return
        if min(len(self._trials[r]) for r in candidates) < ROUTE_TRIALS:
            return
        speed = {r: min(self._trials[r]) for r in candidates}
        self._route = min(speed, key=lambda r: speed[r])
        store_route(self._route, speed)
