"""Shared fixtures: offline environment, a network guard, seed sources, settings, CLI runs."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# Offline and quiet before anything imports a model library or Chroma.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "sources"
FAKE = "tests.fakes:FakeEmbedder"
BIN = Path(sys.executable).parent
BRIEFING = BIN / "briefing"

SEED_000 = "000_8724b5602e0331c2.txt"
SEED_001 = "001_b7735911f66044ef.txt"


# -- network guard --------------------------------------------------------------------------
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost",):
        return
    try:
        if ipaddress.ip_address(str(host).split("%")[0]).is_loopback:
            return
    except ValueError:
        pass
    raise ConnectionRefusedError(f"network access blocked in tests: {address!r}")


def _guarded_connect(self, address):
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _loopback_only(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Only loopback and Unix sockets; anything else is refused."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No BRIEFING_* settings or briefing.toml from the developer's shell leak in."""
    for key in list(os.environ):
        if key.startswith("BRIEFING_") and key != "BRIEFING_CACHE_DIR":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


# -- data -----------------------------------------------------------------------------------
@pytest.fixture
def seed_sources(tmp_path) -> Path:
    """A sources folder holding copies of the two seed articles."""
    folder = tmp_path / "sources"
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def settings(index_dir, seed_sources):
    from index_build.core.settings import load_settings

    return load_settings(environ={}, index_dir=index_dir, sources_dir=seed_sources, embedder=FAKE)


@pytest.fixture
def fake_embedder():
    from tests.fakes import FakeEmbedder

    return FakeEmbedder()


WORDS = (
    "sanctions envoy minister talks nuclear missile treaty summit council resolution embargo "
    "pressure dialogue border trade exports energy oil textile workers permits ministry "
    "statement delegation regime denuclearization negotiation alliance exercise freeze "
    "Moscow Beijing Seoul Pyongyang Washington Geneva Singapore Tokyo Brussels Kyiv"
).split()


def article_text(seed: int, sentences: int = 12, title: str | None = None) -> str:
    """A small deterministic news-like article (headline, paragraphs, byline)."""
    import random

    rnd = random.Random(seed)
    title = title or " ".join(w.capitalize() for w in rnd.sample(WORDS, 6))
    paras, para = [], []
    for _ in range(sentences):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(8, 22))]
        para.append(" ".join(words).capitalize() + ".")
        if len(para) >= rnd.randint(2, 4):
            paras.append(" ".join(para))
            para = []
    if para:
        paras.append(" ".join(para))
    return f"{title}\n\n" + "\n\n".join(paras) + f"\n\n(c) 2019, The Test Gazette · Reporter {seed}\n"


# -- running the command line ---------------------------------------------------------------
def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_") or k == "BRIEFING_CACHE_DIR"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    env.update(extra)
    return env


def run_briefing(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 180,
                 **popen) -> subprocess.CompletedProcess:
    """Run the installed ``briefing`` console script."""
    return subprocess.run([str(BRIEFING), *map(str, args)], env=env or cli_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **popen)


def json_line(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def open_record(index: Path):
    from index_build.store.docstore import DocStore

    return DocStore(Path(index) / "briefing.sqlite3")


@pytest.fixture(scope="session")
def minilm():
    """The real MiniLM embedder, loaded once per test session (about 8 s)."""
    from index_build.embed import make_embedder

    embedder = make_embedder("minilm")
    embedder.embed(["warm up"])
    return embedder
