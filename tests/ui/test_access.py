"""Access and network: a served app behind a login, and no outbound connection, ever.

One `briefing serve --auth …` runs for the module, with the real default embedder, after
`briefing index` built its index and while `briefing ask` answers from it. Every one of
those processes runs under a network guard (``tests/netguard/sitecustomize.py`` on
PYTHONPATH) that refuses and records any connection, datagram or name lookup beyond this
machine; the environment has a Hugging Face token and no HF_HUB_OFFLINE, as a user's shell
might. Raw HTTP checks that the page, every API route family and file downloads refuse a
caller without the login; uploads are limited in type and size; the server listens on
127.0.0.1 only.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BRIEFING, ROOT, SEEDS, cli_env, run_briefing
from tests.served import Served, status_of

pytestmark = pytest.mark.integration

USER, PASSWORD = "analyst", "s3cret: with a colon"
GUARD = ROOT / "tests" / "netguard"
QUESTION = "What did Ri Yong Ho demand?"
MAX_MB = 0.05  # the server's upload limit (BRIEFING_MAX_SOURCE_MB)


class Site:
    def __init__(self, root: Path):
        self.root = root
        self.sources = root / "sources"
        self.index = root / "index"
        self.log = root / "net.log"
        self.armed = root / "armed.txt"
        self.env = cli_env(PYTHONPATH=f"{GUARD}{os.pathsep}{ROOT}", BRIEFING_NET_LOG=str(self.log),
                           BRIEFING_NET_ARMED=str(self.armed), HF_TOKEN="hf_" + "x" * 34)
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the product must keep itself offline
            self.env.pop(key, None)
        self.server: Served | None = None
        self.ask: subprocess.CompletedProcess | None = None

    def attempts(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.is_file() else []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = Site(tmp_path_factory.mktemp("guarded"))
    s.sources.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(path, s.sources / path.name)
    done = run_briefing("--index-dir", s.index, "index", s.sources, "--json", env=s.env, cwd=s.root, timeout=300)
    assert done.returncode == 0, done.stderr
    s.server = Served(s.index, s.sources, "--auth", f"{USER}:{PASSWORD}",
                      env={**s.env, "BRIEFING_MAX_SOURCE_MB": str(MAX_MB)})
    try:
        # `briefing ask` loads the model while the server starts.
        s.ask = run_briefing("--index-dir", s.index, "ask", QUESTION, "--json", env=s.env, cwd=s.root)
        s.server.wait(timeout=240)
        yield s
    finally:
        s.server.stop()


def login(url: str) -> urllib.request.OpenerDirector:
    """An HTTP client holding the session cookie of a successful login."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url + "/login", data=urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode(),
                     timeout=30) as r:
        assert r.status == 200
    assert any(c.name.startswith("access-token") for c in jar)
    return opener


def fetch(opener, url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def call(opener, url: str, api_name: str, data: list, headers: dict | None = None) -> list:
    """A named endpoint over the raw HTTP API (POST, then read the event stream)."""
    status, body = fetch(opener, f"{url}/gradio_api/call/{api_name}", "POST", json.dumps({"data": data}).encode(),
                         {"Content-Type": "application/json", **(headers or {})})
    assert status == 200, body
    event_id = json.loads(body)["event_id"]
    status, stream = fetch(opener, f"{url}/gradio_api/call/{api_name}/{event_id}")
    events = stream.decode().split("\n\n")
    done = [e for e in events if e.startswith("event: complete")]
    assert done, stream.decode()[-1000:]
    return json.loads(done[0].split("data: ", 1)[1])


# -- the guard itself ------------------------------------------------------------------------
def test_the_guard_refuses_and_records_an_outbound_connection(site, tmp_path):
    log = tmp_path / "control.log"
    code = ("import socket, urllib.request\n"
            "for target in (lambda: socket.create_connection(('93.184.216.34', 80), timeout=3),\n"
            "               lambda: urllib.request.urlopen('https://huggingface.co', timeout=3)):\n"
            "    try:\n        target()\n    except OSError as e:\n        print('refused', e)\n")
    done = subprocess.run([str(BRIEFING.parent / "python"), "-c", code], env={**site.env, "BRIEFING_NET_LOG": str(log)},
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.count("refused") == 2, done.stdout + done.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and "93.184.216.34" in lines[0] and "huggingface.co" in lines[1]


# -- listening -------------------------------------------------------------------------------
def _listening(port: int) -> set[str]:
    """Addresses with a socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(name)
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            raw = raw[::-1] if family == socket.AF_INET else b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
            found.add(socket.inet_ntop(family, raw))
    return found


def test_the_server_listens_on_loopback_only_by_default(site):
    assert "--host" not in site.server.proc.args
    assert _listening(site.server.port) == {"127.0.0.1"}
    assert site.server.output().count("Briefing is running at http://127.0.0.1:") == 1


# -- the login -------------------------------------------------------------------------------
def test_the_page_shows_only_the_login_without_a_session(site):
    url = site.server.url
    status, page = status_of(url + "/")
    assert status == 200
    assert b'"auth_required":true' in page.replace(b" ", b"")
    for secret in (b"Your question", b"Rebuild index", b"Ri Yong Ho", b"000_8724b5602e0331c2"):
        assert secret not in page
    assert status_of(url + "/config")[0] == 401
    status, page = fetch(login(url), url + "/")
    assert status == 200 and b"Your question" in page
    # A wrong password gets no session.
    status, _ = status_of(url + "/login", "POST", urllib.parse.urlencode({"username": USER, "password": "nope"}).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 401)


# Every route family that runs or describes the app, called without a session.
API_ROUTES = [
    ("POST", "/gradio_api/call/ask"), ("POST", "/gradio_api/call/v2/ask"), ("POST", "/gradio_api/run/ask"),
    ("POST", "/gradio_api/api/ask"), ("POST", "/gradio_api/call/rebuild"), ("POST", "/gradio_api/call/delete"),
    ("POST", "/gradio_api/call/save_files"), ("POST", "/gradio_api/queue/join"),
    ("GET", "/gradio_api/queue/data?session_hash=abc"), ("GET", "/gradio_api/call/ask/abc"),
    ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/upload_progress?upload_id=abc"),
    ("GET", "/gradio_api/info"), ("GET", "/gradio_api/openapi.json"), ("GET", "/config"),
    ("GET", "/gradio_api/deep_link?session_hash=abc"), ("GET", "/monitoring"),
    ("POST", "/gradio_api/process_recording"),
]


@pytest.mark.parametrize("method, route", API_ROUTES, ids=[f"{m} {r}" for m, r in API_ROUTES])
def test_the_api_refuses_a_caller_without_a_session(site, method, route):
    body = json.dumps({"data": [QUESTION, [], 5], "fn_index": 13, "session_hash": "abc"}).encode()
    status, reply = status_of(site.server.url + route, method, body if method == "POST" else None,
                              {"Content-Type": "application/json"})
    assert status == 401, (status, reply[:300])
    assert QUESTION.encode() not in reply


def test_routes_outside_the_login_do_nothing_useful(site):
    """What Gradio serves without a login: static assets, its own status, and features
    this app turns off (run history to a Hugging Face bucket, the vibe editor)."""
    url = site.server.url
    assert status_of(url + "/gradio_api/run-history/buckets")[0] == 404
    assert status_of(url + "/gradio_api/run-history/connect", "POST", b'{"bucket_id": "a/b"}',
                     {"Content-Type": "application/json"})[0] == 404
    assert status_of(url + "/gradio_api/vibe-edit", "POST", b'{"prompt": "x"}', {"Content-Type": "application/json"})[0] == 403
    assert status_of(url + "/gradio_api/vibe-code")[0] == 403
    status, user = status_of(url + "/gradio_api/user")
    assert status == 200 and user == b"null"


def test_gradio_client_needs_the_login(site):
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 (gradio_client's error type differs between its versions)
        Client(site.server.url + "/", verbose=False).predict(QUESTION, [], 5, api_name="/ask")
    answer = Client(site.server.url + "/", auth=(USER, PASSWORD), verbose=False).predict(QUESTION, [], 5,
                                                                                          api_name="/ask")
    assert "simultaneous actions" in answer["answer"]


# -- files -----------------------------------------------------------------------------------
def test_memo_downloads_need_the_login_and_other_files_are_never_served(site):
    url = site.server.url
    session = login(url)
    _, _, files, _ = call(session, url, "memo", ["Russia and the North Korea sanctions", [], [], "", "", False, None])
    files = files["value"] if isinstance(files, dict) else files  # an update (the files are shown) or the value
    assert sorted(Path(f["path"]).suffix for f in files) == [".docx", ".html", ".md"]
    for f in files:
        link = f["url"]
        assert "/gradio_api/file=" in link
        assert status_of(link)[0] == 401  # no session
        status, body = fetch(session, link)
        assert status == 200 and len(body) > 100
        # The older top-level route is not there at all.
        assert status_of(url + "/file=" + f["path"])[0] == 404
    # Sources and the index are files on this machine, but never downloads.
    for path in (site.sources / "000_8724b5602e0331c2.txt", site.index / "briefing.sqlite3", Path("/etc/passwd")):
        link = f"{url}/gradio_api/file={path}"
        assert status_of(link)[0] == 401
        status, body = fetch(session, link)
        assert status in (403, 404), (path, status)
        assert b"Ri Yong Ho" not in body and b"SQLite" not in body


# -- uploads ---------------------------------------------------------------------------------
def test_uploads_are_limited_in_type_and_size(site, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(site.server.url + "/", auth=(USER, PASSWORD), verbose=False)
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 2000)
    # Refused on the server (not only by the browser's file picker), before the app sees it;
    # the app's own check (index_build/sources.py) would refuse it next.
    with pytest.raises(Exception) as refused:
        client.predict([handle_file(str(exe))], api_name="/save_files")
    assert str(refused.value).startswith("Invalid file type. Please upload a file that is one of these formats: "
                                         "['.txt', '.md',"), refused.value
    big = tmp_path / "big.txt"
    big.write_text("Big Headline\n\n" + "A sentence about harbours and grain. " * 3000, encoding="utf-8")
    assert big.stat().st_size > MAX_MB * 1024 * 1024
    with pytest.raises(Exception) as refused:  # gradio_client checks the size before sending …
        client.predict([handle_file(str(big))], api_name="/save_files")
    assert "exceeds the maximum file size of 52428 bytes" in str(refused.value), refused.value
    # … and the server refuses it too when a client does not.
    boundary = "briefing-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + big.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    status, reply = fetch(login(site.server.url), site.server.url + "/gradio_api/upload", "POST", body,
                          {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 413, (status, reply[:300])
    assert b"maximum allowed size" in reply
    assert sorted(p.name for p in site.sources.iterdir()) == ["000_8724b5602e0331c2.txt", "001_b7735911f66044ef.txt"]


# -- no outbound connection ------------------------------------------------------------------
def test_run_history_cannot_send_questions_to_a_hugging_face_bucket(site):
    """Gradio 6 records runs to the bucket a request names in a header, with the token
    saved on this machine; the app turns that off."""
    url = site.server.url
    result = call(login(url), url, "ask", [QUESTION, [], 5], {"x-gradio-history-bucket": "someone/briefing-runs"})
    assert "simultaneous actions" in result[0]["answer"]
    time.sleep(1.5)  # the recorder runs after the reply
    assert not site.attempts()
    assert "history" not in site.server.output().lower()


def test_index_ask_and_serve_never_reach_the_network(site):
    # One more UI request of each kind: the page, its config, a question.
    url = site.server.url
    session = login(url)
    assert fetch(session, url + "/")[0] == 200
    assert fetch(session, url + "/config")[0] == 200
    assert "simultaneous actions" in call(session, url, "ask", [QUESTION, [], 5])[0]["answer"]
    assert site.ask.returncode == 0, site.ask.stderr
    assert "simultaneous actions" in json.loads(site.ask.stdout)["answer"]
    time.sleep(1)
    armed = site.armed.read_text()
    for command in (" index ", " ask ", " serve "):
        assert command in armed, armed  # the guard was active in each of them
    assert site.server.proc.poll() is None
    assert site.attempts() == [], "\n".join(site.attempts())
