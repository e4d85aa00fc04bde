"""Many users asking while the index is rebuilt, and two rebuilds at once.

A real `briefing serve` (fake embedder) answers 8 simulated users through the named API
(gradio_client, ``/ask``) while the index is rebuilt over and over the way the web page
does it (the Sources tab's "Rebuild index" endpoint, after the test edits the sources
folder). No request may fail, and every citation must quote the text at its offsets in a
generation of the index that existed. Then: a rebuild by `briefing index` in another
process is picked up, and two writers at once are serialised by the index lock: the second
is refused with one clear line (CLI: exit status 1; it does not wait), in the web app too.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BRIEFING, ROOT, SEEDS, article_text, cli_env, run_briefing
from tests.served import Served, build_with_cli, document_texts

pytestmark = pytest.mark.integration

USERS = 8
LOAD_SECONDS = 20
ARTIFACTS = ROOT / "test-artifacts"
PAUSING = "tests.served:PausingEmbedder"

CANAL_QUESTION = "What toll did the Vostrel canal authority set per barge?"
FERRY_QUESTION = "How many night ferry crossings will Tarnhollow run each week?"
GRAIN_QUESTION = "How many grain ships did Qelvara handle in March?"
CRANES_QUESTION = "What did harbour master Ilse Marrow say about the cranes?"
NOWHERE_QUESTION = "What is the capital of Malaysia?"
QUESTIONS = [CANAL_QUESTION, FERRY_QUESTION, GRAIN_QUESTION, CRANES_QUESTION, NOWHERE_QUESTION]


def canal_article(generation: int) -> str:
    """The same report with a preamble whose length changes each generation, so every
    offset after it moves: a citation built from one generation's offsets and another's
    text would not match."""
    preamble = " ".join(f"Notice {i} of edition {generation} concerns lock maintenance on the upper reach."
                        for i in range(generation % 4 + 1))
    return (f"Vostrel Canal Raises Barge Toll\n\n{preamble}\n\n"
            "The Vostrel canal authority raised the toll to 418 crowns per barge on Monday, "
            "its director Anka Rudd said.\n\n"
            "Barge owners said the higher toll would cut traffic on the canal by a fifth.\n\n"
            "(c) 2019, The Test Gazette · Reporter 3\n")


HARBOUR = ("Qelvara Harbour Reports Record Grain Shipments\n\n"
           "The port city of Qelvara handled 4,812 grain ships in March, the harbour authority said on Tuesday.\n\n"
           "Harbour master Ilse Marrow said the new cranes halved the time needed to unload a grain ship.\n\n"
           "(c) 2019, The Test Gazette · Reporter 7\n")
FERRY = ("Tarnhollow Ferry Line Opens Night Crossings\n\n"
         "The island port of Tarnhollow will run 37 night ferry crossings each week from June, "
         "the ferry company announced on Friday.\n\n"
         "Captain Oren Vasko said the night crossings would carry mostly fish and timber.\n\n"
         "(c) 2019, The Test Gazette · Reporter 9\n")


def edit_sources(sources: Path, generation: int) -> None:
    """One generation's sources: the canal report changes, the ferry report comes and goes,
    and one filler article is rewritten."""
    (sources / "vostrel-canal.txt").write_text(canal_article(generation), encoding="utf-8")
    ferry = sources / "tarnhollow-ferry.txt"
    if generation % 2:
        ferry.unlink(missing_ok=True)
    else:
        ferry.write_text(FERRY, encoding="utf-8")
    (sources / f"filler-{generation % 20:02d}.txt").write_text(article_text(1000 + generation, 20),
                                                               encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("busy")
    sources = root / "sources"
    sources.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copyfile(path, sources / path.name)
    for i in range(20):
        (sources / f"filler-{i:02d}.txt").write_text(article_text(i, 20), encoding="utf-8")
    (sources / "qelvara-harbour.txt").write_text(HARBOUR, encoding="utf-8")
    edit_sources(sources, 0)
    index = root / "index"
    build_with_cli(index, sources)
    server = Served(index, sources)
    try:
        yield server.wait(), index, sources
    finally:
        server.stop()


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _check_citations(results: list[dict], versions: dict[str, list[str]]) -> tuple[list[str], set]:
    """Problems with any citation, and the (doc_id, version) pairs the canal citations used."""
    problems, canal_versions = [], set()
    for r in results:
        for c in r["citations"]:
            texts = versions.get(c["doc_id"], [])
            hits = [i for i, t in enumerate(texts) if t[c["start"]:c["end"]] == c["quote"]]
            if not hits:
                problems.append(f"{r['question']!r}: [{c['n']}] {c['source']} {c['start']}–{c['end']} "
                                f"quotes {c['quote'][:60]!r}, which no generation of that document has there")
            elif c["source"] == "vostrel-canal.txt":
                canal_versions.add((c["start"], c["end"]))
    return problems, canal_versions


def test_eight_users_ask_while_the_index_is_rebuilt(site):
    from gradio_client import Client

    server, index, sources = site
    versions: dict[str, list[str]] = {}

    def remember() -> None:
        for doc_id, text in document_texts(index).items():
            if text not in versions.setdefault(doc_id, []):
                versions[doc_id].append(text)

    remember()
    results: list[dict] = []
    failures: list[str] = []
    latencies: list[float] = []
    rebuilds: list[float] = []
    lock = threading.Lock()
    deadline = [0.0]
    # The load starts once every client is connected; the deadline is set before anyone goes.
    start = threading.Barrier(USERS + 1, action=lambda: deadline.__setitem__(0, time.perf_counter() + LOAD_SECONDS))

    def user(k: int) -> None:
        client = Client(server.url + "/", verbose=False)
        start.wait()
        i = k
        while time.perf_counter() < deadline[0]:
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            t0 = time.perf_counter()
            try:
                answer = client.predict(question, [], 5, api_name="/ask")
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    failures.append(f"user {k}: {question!r}: {type(e).__name__}: {e}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)
                results.append(answer)

    def rebuilder() -> None:
        client = Client(server.url + "/", verbose=False)
        generation = 0
        while time.perf_counter() < deadline[0] - 1:
            generation += 1
            edit_sources(sources, generation)
            t0 = time.perf_counter()
            try:
                log_html, *_ = client.predict(api_name="/rebuild")
            except Exception as e:  # noqa: BLE001
                with lock:
                    failures.append(f"rebuild {generation}: {type(e).__name__}: {e}")
                return
            rebuilds.append(time.perf_counter() - t0)
            if "Index rebuilt" not in log_html:
                failures.append(f"rebuild {generation} reported: {log_html[:300]}")
            remember()

    threads = [threading.Thread(target=user, args=(k,), daemon=True) for k in range(USERS)]
    for t in threads:
        t.start()
    start.wait()
    builder = threading.Thread(target=rebuilder, daemon=True)
    builder.start()
    for t in [*threads, builder]:
        t.join(timeout=LOAD_SECONDS + 120)
    remember()

    stats = {"users": USERS, "seconds": LOAD_SECONDS, "requests": len(results) + len(failures),
             "failed": len(failures), "rebuilds": len(rebuilds),
             "rebuild_median_s": round(statistics.median(rebuilds), 2) if rebuilds else None,
             "citations_checked": sum(len(r["citations"]) for r in results)}
    if latencies:
        work = [r["timings_ms"]["total"] / 1000 for r in results]
        stats.update(ask_median_s=round(statistics.median(latencies), 3), ask_p95_s=round(_p(latencies, 0.95), 3),
                     ask_max_s=round(max(latencies), 3), answer_work_median_s=round(statistics.median(work), 3))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(stats)

    assert not failures, f"{len(failures)} failed requests, e.g.:\n" + "\n".join(failures[:10]) + \
        "\n--- server ---\n" + server.output()[-3000:]
    assert len(rebuilds) >= 3, f"only {len(rebuilds)} rebuilds ran during the load"
    # gradio_client costs ~0.2 s of client CPU per call; on 2 cores that bounds the rate.
    assert len(results) >= 40, f"only {len(results)} requests in {LOAD_SECONDS} s"
    problems, canal_spans = _check_citations(results, versions)
    assert not problems, "\n".join(problems[:10])
    # The questions really did meet several generations of the changing document.
    assert len(canal_spans) >= 2, canal_spans
    by_question = {q: [r for r in results if r["question"] == q] for q in QUESTIONS}
    for q, needle in ((CANAL_QUESTION, "418 crowns"), (GRAIN_QUESTION, "4,812 grain ships"),
                      (CRANES_QUESTION, "halved the time")):
        assert by_question[q] and all(not r["abstained"] and needle in r["answer"] for r in by_question[q]), \
            [r["answer"] for r in by_question[q]]
    ferry = by_question[FERRY_QUESTION]  # the ferry report comes and goes between generations
    assert all(r["abstained"] or "37 night ferry crossings" in r["answer"] for r in ferry)
    assert any(not r["abstained"] for r in ferry)
    assert all(r["abstained"] for r in by_question[NOWHERE_QUESTION])


def test_a_rebuild_by_briefing_index_in_another_process_is_picked_up(site):
    """The server re-reads the index when its generation changes, whoever wrote it."""
    from gradio_client import Client

    server, index, sources = site
    client = Client(server.url + "/", verbose=False)
    (sources / "ostrava-bridge.txt").write_text(
        "Korvel Bridge Reopens\n\nThe Korvel bridge reopened to lorries on Thursday after 14 months of repairs, "
        "the city engineer Mila Dusek said.\n\n(c) 2019, The Test Gazette · Reporter 5\n", encoding="utf-8")
    question = "When did the Korvel bridge reopen to lorries?"
    assert client.predict(question, [], 5, api_name="/ask")["abstained"]
    failures: list[str] = []
    stop = threading.Event()

    def ask_meanwhile() -> None:
        c = Client(server.url + "/", verbose=False)
        while not stop.is_set():
            try:
                c.predict(GRAIN_QUESTION, [], 5, api_name="/ask")
            except Exception as e:  # noqa: BLE001
                failures.append(f"{type(e).__name__}: {e}")

    askers = [threading.Thread(target=ask_meanwhile, daemon=True) for _ in range(3)]
    for t in askers:
        t.start()
    try:
        build_with_cli(index, sources)
        answer = client.predict(question, [], 5, api_name="/ask")
    finally:
        stop.set()
        for t in askers:
            t.join(timeout=60)
    assert not failures, failures[:5]
    assert not answer["abstained"] and "reopened to lorries on Thursday" in answer["answer"], answer
    (cit,) = [c for c in answer["citations"] if c["source"] == "ostrava-bridge.txt"][:1]
    assert document_texts(index)[cit["doc_id"]][cit["start"]:cit["end"]] == cit["quote"]


def test_two_rebuilds_at_once_are_serialised_by_the_lock(tmp_path):
    """A second `briefing index` on an index being written is refused at once with one
    clear line and exit status 1 (it does not wait); the first then finishes normally."""
    sources = tmp_path / "sources"
    sources.mkdir()
    for i in range(6):
        (sources / f"a{i:02d}.txt").write_text(article_text(i, 20), encoding="utf-8")
    index = tmp_path / "index"
    pause = tmp_path / "pause"
    pause.touch()
    env = cli_env(BRIEFING_TEST_PAUSE_FILE=str(pause))
    first = subprocess.Popen(
        [str(BRIEFING), "--index-dir", str(index), "index", str(sources), "--embedder", PAUSING, "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        lock = index / "write.lock"
        deadline = time.perf_counter() + 60
        while not (lock.is_file() and lock.read_text().strip() == str(first.pid)):
            assert first.poll() is None, first.communicate()
            assert time.perf_counter() < deadline, "the first build never took the lock"
            time.sleep(0.05)
        second = run_briefing("--index-dir", index, "index", sources, "--embedder", PAUSING, env=env)
        assert first.poll() is None  # still paused, still holding the lock
        pause.unlink()
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"error: another briefing process (pid {first.pid}) is writing the index in {index}; "
        "wait for it to finish, then run this again"], second.stderr
    assert second.stdout == ""
    assert first.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["added"] == 6


def test_the_rebuild_button_reports_a_build_in_another_process(site):
    """While another process holds the write lock, the web app's rebuild fails with the
    same one line, and works again once the lock is free."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from index_build.lock import IndexLock

    server, index, _ = site
    client = Client(server.url + "/", verbose=False)
    with IndexLock(index):
        with pytest.raises(AppError) as refused:
            client.predict(api_name="/rebuild")
    assert str(refused.value) == (f"another briefing process (pid {os.getpid()}) is writing the index in "
                                  f"{index}; wait for it to finish, then run this again")
    log_html, *_ = client.predict(api_name="/rebuild")
    assert "Index rebuilt" in log_html
