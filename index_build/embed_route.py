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

__all__ = ["cpuinfo", "cpu_has", "machine", "cached_route", "store_route", "ROUTE_FILE"]


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
    return data["runtime"]


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
