"""Real-browser fixtures: a seed index built by the real CLI, real `briefing serve`
processes on free local ports, and system Chromium driven by Playwright.

Chromium comes from the system (`make browser`: apt-get install chromium); Playwright never
downloads a browser. Screenshots and timings go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, run_briefing
from tests.served import Served

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AUTH = ("user", "pass")

# An article whose body is hostile markup: it must show as text and never run.
HOSTILE_ARTICLE = """Qelvara Harbour Reports Record Grain Shipments

The port city of Qelvara handled 4,812 grain ships in March, the harbour authority said on Tuesday.

A visitor pasted this into the harbour's public notice board: <script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=2"> and {{constructor}} and ${7*7}.

Harbour master Ilse Marrow said the new cranes halved the time needed to unload a grain ship.

(c) 2019, The Test Gazette · Reporter 7
"""
HOSTILE_NAME = "qelvara-harbour.txt"


def record_timing(name: str, seconds: float) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "timings.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = round(seconds, 2)
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="session")
def seed_site(tmp_path_factory):
    """Seed articles plus the hostile one, indexed by the real CLI with the default embedder."""
    if not CHROMIUM.exists():
        pytest.fail("system Chromium is missing: run `make browser` (apt-get install chromium)")
    root = tmp_path_factory.mktemp("site")
    sources = root / "sources"
    sources.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(path, sources / path.name)
    (sources / HOSTILE_NAME).write_text(HOSTILE_ARTICLE, encoding="utf-8")
    index = root / "index"
    done = run_briefing("--index-dir", index, "index", sources, "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    return root, sources, index


@pytest.fixture(scope="session")
def servers(seed_site):
    """The app, and a second copy behind a login. The second starts once the first is up, so
    it loads while the other tests run instead of slowing the first start."""
    root, sources, index = seed_site
    locked = root / "locked"
    shutil.copytree(sources, locked / "sources")
    shutil.copytree(index, locked / "index")
    main = Served(index, sources)
    guarded = None
    try:
        main.wait(timeout=240)
        record_timing("cold_start_to_page_s", main.usable_seconds)
        guarded = Served(locked / "index", locked / "sources", "--auth", f"{AUTH[0]}:{AUTH[1]}")
        yield {"main": main, "auth": guarded}
    finally:
        main.stop()
        if guarded is not None:
            guarded.stop()


@pytest.fixture(scope="session")
def server(servers) -> Served:
    return servers["main"]


@pytest.fixture(scope="session")
def auth_server(servers) -> Served:
    return servers["auth"].wait(timeout=240)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page at 1280×800 that fails the test if it requests anything off this machine."""
    size = getattr(request, "param", None) or {"width": 1280, "height": 800}
    context = browser.new_context(viewport=size)
    page = context.new_page()
    page.set_default_timeout(30_000)
    outbound: list[str] = []

    def check(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outbound.append(url)
            route.abort()

    context.route("**/*", check)
    yield page
    context.close()
    assert not outbound, f"the page tried to reach the network: {outbound}"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
