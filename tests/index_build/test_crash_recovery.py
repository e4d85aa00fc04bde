"""A ``briefing index`` killed with SIGKILL at any point is repaired by the next run.

Runs are killed at seeded random points spread over the phases of a build: reading and
chunking, embedding, the record commit, Chroma writes and (in an update) Chroma deletes. Two
groups: full builds of a new index, and incremental updates (files added, edited and removed)
of a live one. The moment is chosen by watching the run from outside (its progress bars, on a
pseudo-terminal; its record; random delays), and the phase it had really reached is read back
afterwards from the record and from Chroma's log. After every kill the next run must converge
to exactly the state of a fresh build of the folder: the same sources, documents, chunks,
offsets and embeddings (nothing duplicated, orphaned or stale), Chroma's ids, vectors and
texts equal to the record's, and the assistant's BM25 index (``assistant.answer.corpus.Corpus``,
built and reloaded from disk) holding the same chunks and finding an edited article by its
new words, never by its old ones.

Most runs are forked from a pre-loaded parent (``tests/zygote.py``: the console script's
entry point ``ui.cli:main`` in a process of its own, without seconds of imports each time);
the first kill of the full-build group is of the installed ``briefing`` command itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import signal
import sqlite3
import struct
import subprocess
import termios
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BRIEFING, FAKE, ROOT, article_text, cli_env, json_line
from tests.zygote import Zygote

pytestmark = pytest.mark.integration

SLOW_FAKE = "tests.fakes:SlowFakeEmbedder"
N_ARTICLES = 40
KILLS = 10  # real interruptions wanted per group
MAX_RUNS = 16  # kill attempts per group: a run may finish before its kill lands
EMBED_STEP = 2 * 4  # BRIEFING_EMBED_BATCH_SIZE=2: the build commits embeddings 8 at a time
FULL_PLAN = ("read", "read", "embed", "embed", "embed", "commit", "commit", "chroma", "chroma", "chroma")
UPDATE_PLAN = ("read", "embed", "embed", "commit", "commit", "chroma", "chroma", "delete", "delete", "delete")
CHROMA_DELETE = 3  # Operation.DELETE in Chroma's write-ahead log (embeddings_queue)
CONSONANTS = "bcdfghjklmnpqrstvwxz"
SEED = int(os.environ.get("CRASH_TEST_SEED", "0"))  # another value draws other kill points


# -- runs -------------------------------------------------------------------------------------
def run_env() -> dict[str, str]:
    return cli_env(BRIEFING_EMBED_BATCH_SIZE="2")


def index_args(sources: Path, index: Path, as_json: bool = True, embedder: str = SLOW_FAKE) -> list[str]:
    return ["--index-dir", str(index), "index", str(sources), "--embedder", embedder, *(["--json"] if as_json else [])]


def start(sources: Path, index: Path, embedder: str = SLOW_FAKE, batch: int = 2, stderr=subprocess.PIPE,
          as_json: bool = True) -> subprocess.Popen:
    """The installed console script."""
    env = cli_env(BRIEFING_EMBED_BATCH_SIZE=str(batch))
    return subprocess.Popen([str(BRIEFING), *index_args(sources, index, as_json, embedder)],
                            stdout=subprocess.PIPE if as_json else subprocess.DEVNULL, stderr=stderr,
                            text=True, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = Zygote(run_env(), ROOT, tmp_path_factory.mktemp("zygote"))
    yield z
    z.close()


def query(db: Path, sql: str):
    """One value from an SQLite file, read while another process may be writing it."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            row = con.execute(sql).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def wait_until(proc, condition: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return False


def kill(proc) -> bool:
    """SIGKILL; True when the process was still running (a real crash)."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode in (0, -signal.SIGKILL), f"exit {proc.returncode}"
    return proc.returncode == -signal.SIGKILL


def finish(proc) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return json_line(out)


def probe(index: Path, zygote: Zygote, words: list[str] = ()) -> dict:
    """``tests.index_probe`` in a process of its own (see there why); with ``words``, also the
    assistant's view of the index and which chunks BM25 finds for each word."""
    proc = zygote.spawn([str(index), *[a for w in words for a in ("--word", w)]], module="tests.index_probe")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"inspecting the index failed (exit {proc.returncode}): {err[-2000:]}"
    return json.loads(out)


def generation(db: Path) -> int:
    return int(query(db, "SELECT value FROM meta WHERE key = 'generation'") or 0)


def embeddings(db: Path) -> int:
    return query(db, "SELECT count(*) FROM embeddings") or 0


def dirty_after(db: Path, gen: int) -> Callable[[], bool]:
    """True once a run has committed its record changes and is writing Chroma."""
    return lambda: generation(db) > gen and query(db, "SELECT value FROM meta WHERE key = 'chroma_dirty'") == "1"


class Terminal:
    """A pseudo-terminal for a run's stderr, where ``briefing index`` draws its progress bars."""

    BAR = re.compile(r"(Hashing sources|Reading & chunking|Embedding chunks|Writing index):[^\r\n]*?\| ?(\d+)/(\d+) \[")
    STAGES = {"Hashing sources": "scan", "Reading & chunking": "read", "Embedding chunks": "embed",
              "Writing index": "store"}

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.text = ""
        self.done: dict[str, int] = {}

    def read(self) -> None:
        """Drain what the run wrote (it would block on a full terminal) and parse the bars."""
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # nothing to read (or the other side is gone)
                break
            if not data:
                break
            self.text += data.decode("utf-8", "replace")
        for m in self.BAR.finditer(self.text):
            self.done[self.STAGES[m.group(1)]] = int(m.group(2))
        cut = max(self.text.rfind("\r"), self.text.rfind("\n"))
        if cut > 0:
            self.text = self.text[cut:]

    def reached(self, stage: str, n: int) -> bool:
        self.read()
        return self.done.get(stage, -1) >= n

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


# -- sources and the state a fresh build must have ---------------------------------------------
class Folder:
    """A sources folder whose articles each carry one made-up word, so that BM25 can tell an
    article's current text from its earlier versions."""

    def __init__(self, root: Path, rnd: random.Random):
        self.root, self.rnd = root, rnd
        self.words: dict[str, str] = {}  # file name → the word its current text carries
        self.gone: list[str] = []  # words of edited-away or removed versions
        self.n_new = 0
        root.mkdir(parents=True, exist_ok=True)

    def write(self, name: str) -> None:
        if name in self.words:
            self.gone.append(self.words[name])
        word = "zq" + "".join(self.rnd.choice(CONSONANTS) for _ in range(9))
        title, body = article_text(self.rnd.randrange(10**6), sentences=self.rnd.randint(8, 30)).split("\n\n", 1)
        (self.root / name).write_text(f"{title}\n\nOfficials cited the {word} memo.\n\n{body}", "utf-8")
        self.words[name] = word

    def remove(self, name: str) -> None:
        (self.root / name).unlink()
        self.gone.append(self.words.pop(name))

    def update(self) -> list[str]:
        """Edit three articles, remove two, add two; returns the names of the added ones."""
        names = sorted(self.words)
        edited = self.rnd.sample(names, 3)
        for name in edited:
            self.write(name)
        for name in self.rnd.sample([n for n in names if n not in edited], 2):
            self.remove(name)
        added = []
        for _ in range(2):
            self.n_new += 1
            added.append(f"new_{self.n_new:03d}.txt")
            self.write(added[-1])
        return added


def fresh_state(zygote: Zygote, folder: Path, index: Path) -> dict:
    """The record of a fresh build of ``folder`` (into a new ``index``, by a run never killed)."""
    assert not index.exists()
    report = finish(zygote.spawn(index_args(folder, index, embedder=FAKE)))
    assert report["skipped"] == [] and report["chunks"] > 0
    state = record_state(index / "briefing.sqlite3")
    assert set(state["sources"]) == {p.name for p in folder.iterdir()}
    return state


def record_state(db: Path) -> dict:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            "sources": dict(con.execute("SELECT source, content_hash FROM sources")),
            "documents": {r[0]: tuple(r[1:]) for r in con.execute("SELECT doc_id, source, title, text FROM documents")},
            "chunks": {r[0]: tuple(r[1:]) for r in con.execute(
                'SELECT chunk_id, doc_id, ordinal, start, "end", text, embed_key FROM chunks')},
            "embeddings": dict(con.execute("SELECT key, vector FROM embeddings")),
            "rows": con.execute("SELECT (SELECT count(*) FROM chunks), (SELECT count(*) FROM documents)").fetchone(),
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
            "meta": dict(con.execute("SELECT key, value FROM meta")),
        }
    finally:
        con.close()


def assert_record_is_fresh(db: Path, want: dict) -> None:
    """Sources, documents, chunks (ids, offsets, texts) and embeddings equal a fresh build's:
    none missing, none duplicated, none stale or orphaned, every vector the same."""
    got = record_state(db)
    assert got["integrity"] == "ok"
    assert got["sources"] == want["sources"], "the record's sources differ from the folder's"
    assert got["rows"] == want["rows"], "duplicate rows in the record"
    for part in ("documents", "chunks", "embeddings"):
        extra = sorted(set(got[part]) - set(want[part]))
        missing = sorted(set(want[part]) - set(got[part]))
        wrong = sorted(k for k in set(got[part]) & set(want[part]) if got[part][k] != want[part][k])
        assert (extra, missing, wrong) == ([], [], []), f"record {part}: stale/orphaned, missing, wrong"


def assert_converged(index: Path, want: dict, folder: Folder, zygote: Zygote) -> dict:
    """The index equals a fresh build of the folder, in the record, in Chroma and in BM25."""
    assert_record_is_fresh(index / "briefing.sqlite3", want)
    ids = sorted(want["chunks"])
    words = sorted(folder.words.values()) + folder.gone
    p = probe(index, zygote, words=words)
    assert p["chunk_ids"] == ids
    assert p["chroma_ids"] == ids, "Chroma and the record disagree"
    assert p["chroma_count"] == len(ids)
    assert p["orphan_chunks"] == [] and p["docs_without_source"] == []
    assert p["wrong_vectors"] == [] and p["wrong_spans"] == [] and p["spans_ok"]
    assert p["probes_ok"] == p["probes"] > 0, "Chroma queries do not find the stored chunks"
    assert p["chroma_dirty"] == "0"
    source_of = {cid: want["documents"][c[0]][0] for cid, c in want["chunks"].items()}
    for view in (p["lexical"], p["lexical_reloaded"]):
        assert sorted(view["ids"]) == ids and len(set(view["ids"])) == len(view["ids"]), "BM25 chunks differ"
        assert view["bm25_docs"] == len(ids)
        assert view["generation"] == p["generation"]
        for name, word in folder.words.items():
            hits = view["hits"][word]
            assert hits, f"BM25 does not find {word!r}, the new word of {name}"
            assert {source_of[h] for h in hits} == {name}
            assert all(word in want["chunks"][h][4] for h in hits)
        stale = {w: view["hits"][w] for w in folder.gone if view["hits"][w]}
        assert not stale, f"BM25 still finds words of old versions: {stale}"
    assert p["lexical_reloaded"]["persisted"]["generation"] == p["generation"]
    return p


# -- killing runs -------------------------------------------------------------------------------
@dataclass
class Kill:
    planned: str
    reached: str
    interrupted: bool
    delay: float
    real_command: bool


@dataclass
class Before:
    generation: int
    missing: int  # embeddings the run has to compute
    embeddings: int
    n_read: int  # files the run reads
    chroma_seq: int


def chroma_seq(index: Path, where: str = "1") -> int | None:
    """The last entry of Chroma's write-ahead log matching ``where`` (0: none; None: unreadable)."""
    return query(index / "chroma" / "chroma.sqlite3",
                 f"SELECT coalesce(max(seq_id), 0) FROM embeddings_queue WHERE {where}")


def snapshot(index: Path, want: dict, n_read: int) -> Before:
    db = index / "briefing.sqlite3"
    have = set(record_state(db)["embeddings"]) if db.exists() else set()
    return Before(generation(db), len(set(want["embeddings"]) - have), embeddings(db), n_read,
                  chroma_seq(index) or 0 if (index / "chroma").exists() else 0)


def phase_reached(index: Path, before: Before, term: Terminal) -> str:
    """Where the killed run was, judged from what it left behind."""
    db = index / "briefing.sqlite3"
    if generation(db) == before.generation:
        made = embeddings(db) - before.embeddings
        if made <= 0:
            return "read" if "read" in term.done else "startup"
        return "embed" if made < before.missing else "commit"
    if query(db, "SELECT value FROM meta WHERE key = 'chroma_dirty'") != "1":
        return "finish"  # Chroma already in line: closing, exiting
    # "chroma": upserting (no delete logged yet); "delete": deleting stale chunks.
    deletes = chroma_seq(index, f"seq_id > {before.chroma_seq} AND operation = {CHROMA_DELETE}")
    return "delete" if deletes else "chroma"


def kill_at(phase: str, rnd: random.Random, sources: Path, index: Path, before: Before,
            zygote: Zygote, tuning: dict[str, float], real_command: bool = False) -> Kill:
    """Start a run, wait for ``phase`` (plus a random delay), SIGKILL it."""
    db = index / "briefing.sqlite3"
    term = Terminal()
    if real_command:
        proc = start(sources, index, stderr=term.slave, as_json=False)
    else:
        proc = zygote.spawn(index_args(sources, index, as_json=False), stderr_tty=term.path)
    try:

        def made() -> int:
            term.read()
            return embeddings(db) - before.embeddings

        if phase == "read":
            k = rnd.randint(1, max(1, before.n_read - 1))
            reached = wait_until(proc, lambda: term.reached("read", k))
            delay = rnd.uniform(0, 0.01)
        elif phase == "embed":
            target = EMBED_STEP * rnd.randint(1, max(1, before.missing // EMBED_STEP - 1))
            reached = wait_until(proc, lambda: made() >= target)
            delay = rnd.uniform(0, 0.03)
        elif phase == "commit":
            reached = wait_until(proc, lambda: made() >= before.missing)
            delay = rnd.uniform(0, 0.004)
        else:  # chroma, delete: the record is committed and Chroma is being written
            dirty = dirty_after(db, before.generation)
            reached = wait_until(proc, lambda: (term.read(), dirty())[1])
            delay = (tuning["chroma"] * rnd.uniform(0, 1) if phase == "chroma"
                     else tuning["delete"] * rnd.uniform(0.85, 1.15))
        if reached:
            time.sleep(delay)
        interrupted = kill(proc)
        term.read()
        return Kill(phase, phase_reached(index, before, term) if interrupted else "done", interrupted, delay,
                    real_command)
    finally:
        if proc.poll() is None:
            kill(proc)
        term.close()


def recover(zygote: Zygote, sources: Path, index: Path, want: dict) -> dict:
    """The next run, to its end."""
    report = finish(zygote.spawn(index_args(sources, index)))
    assert (report["documents"], report["chunks"]) == (len(want["documents"]), len(want["chunks"]))
    assert report["skipped"] == []
    return report


def summary(title: str, kills: list[Kill]) -> str:
    rows = [f"{title}: {sum(k.interrupted for k in kills)} interrupted of {len(kills)} kills; reached "
            f"{dict(Counter(k.reached for k in kills))}"]
    rows += [f"  planned {k.planned:7} reached {k.reached:7} delay {k.delay * 1000:5.1f} ms"
             f"{'  (installed command)' if k.real_command else ''}" for k in kills]
    return "\n".join(rows)


# -- the tests ----------------------------------------------------------------------------------
def kill_runs(title: str, plan: tuple[str, ...], required: set[str], rnd: random.Random, zygote: Zygote,
              cycle: Callable[[int, str, dict], Kill]) -> list[Kill]:
    """Kill runs following ``plan`` (shuffled) until ``KILLS`` of them interrupted a running
    process and the phases in ``required`` were reached, at most ``MAX_RUNS`` times."""
    plan = list(plan)
    rnd.shuffle(plan)
    kills: list[Kill] = []
    # Delays after the record commit: the longest that still lands among Chroma's writes, and
    # the one that lands among its deletes. Both phases last tens of milliseconds, less on a
    # fast or idle machine, so each adapts to where the previous kills landed (the deletes'
    # window, ~10 ms wide on a fast Xeon, by bisection once a kill has landed on each side).
    tuning = {"chroma": 0.05, "delete": 0.1}
    for attempt in range(MAX_RUNS):
        n = sum(k.interrupted for k in kills)
        missing = required - {k.reached for k in kills}
        if n >= KILLS and not missing:
            break
        phase = plan[n % len(plan)] if n < KILLS else sorted(missing)[0]
        kill = cycle(attempt, phase, tuning)
        kills.append(kill)
        if phase == "delete":  # Chroma's deletes: a window of ~10-100 ms after the record commit
            if kill.reached == "chroma":  # too early
                tuning["delete_lo"] = max(tuning.get("delete_lo", 0.0), kill.delay)
            elif kill.reached in ("finish", "done"):  # too late
                tuning["delete_hi"] = min(tuning.get("delete_hi", 1.0), kill.delay)
            lo, hi = tuning.get("delete_lo"), tuning.get("delete_hi")
            if lo is not None and hi is not None:  # bisect: the latest too early, the earliest too late
                tuning["delete"] = (lo + hi) / 2
            elif kill.reached != "delete":
                tuning["delete"] *= 1.6 if hi is None else 0.6
        elif phase == "chroma" and kill.reached in ("delete", "finish", "done"):  # overshot: aim earlier
            tuning["chroma"] *= 0.6
    text = summary(title, kills)
    print(text)
    assert sum(k.interrupted for k in kills) >= KILLS, text
    assert required <= {k.reached for k in kills}, text
    return kills


def test_full_builds_killed_at_random_points_converge(tmp_path, zygote):
    rnd = random.Random(20240611 + SEED)
    folder = Folder(tmp_path / "sources", rnd)
    for i in range(N_ARTICLES):
        folder.write(f"article_{i:03d}.txt")
    want = fresh_state(zygote, folder.root, tmp_path / "fresh")
    assert len(want["chunks"]) > 2 * N_ARTICLES

    def cycle(attempt: int, phase: str, tuning: dict) -> Kill:
        index = tmp_path / f"index{attempt:02d}"  # a new index: the killed run is a full build
        before = snapshot(index, want, n_read=N_ARTICLES)
        kill = kill_at(phase, rnd, folder.root, index, before, zygote, tuning, real_command=attempt == 0)
        recover(zygote, folder.root, index, want)
        assert_converged(index, want, folder, zygote)
        return kill

    kill_runs("full builds", FULL_PLAN, {"read", "embed", "chroma"}, rnd, zygote, cycle)


def test_updates_killed_at_random_points_converge(tmp_path, zygote):
    rnd = random.Random(8 + SEED)
    folder = Folder(tmp_path / "sources", rnd)
    for i in range(N_ARTICLES):
        folder.write(f"article_{i:03d}.txt")
    index = tmp_path / "index"
    recover(zygote, folder.root, index, fresh_state(zygote, folder.root, tmp_path / "fresh"))

    def cycle(attempt: int, phase: str, tuning: dict) -> Kill:
        added = folder.update()
        want = fresh_state(zygote, folder.root, tmp_path / f"fresh{attempt:02d}")
        before = snapshot(index, want, n_read=3 + len(added))
        kill = kill_at(phase, rnd, folder.root, index, before, zygote, tuning)
        if kill.reached in ("chroma", "delete"):
            # Mid-update no article that was indexed before is missing from Chroma (edited ones
            # included): new passages are written before old ones are deleted.
            assert set(folder.words) - set(added) <= set(probe(index, zygote)["chroma_sources"])
        report = recover(zygote, folder.root, index, want)
        if kill.reached in ("chroma", "delete", "finish"):  # the record had committed the update
            assert (report["added"], report["updated"], report["removed"]) == (0, 0, 0)
        assert_converged(index, want, folder, zygote)
        return kill

    kill_runs("updates", UPDATE_PLAN, {"read", "embed", "chroma", "delete"}, rnd, zygote, cycle)


def test_killed_real_model_build_keeps_its_embeddings_and_is_repaired(tmp_path, zygote):
    folder = Folder(tmp_path / "sources", random.Random(3))
    for i in range(4):
        folder.write(f"article_{i:03d}.txt")
    want = fresh_state(zygote, folder.root, tmp_path / "fresh")
    index = tmp_path / "index"
    db = index / "briefing.sqlite3"
    proc = zygote.spawn(index_args(folder.root, index, embedder="minilm"))
    assert wait_until(proc, lambda: embeddings(db) > 0, timeout=300), proc.stderr_text()
    assert kill(proc), "the build finished before it could be interrupted"
    kept = embeddings(db)
    assert 0 < kept < len(want["chunks"])

    report = finish(zygote.spawn(index_args(folder.root, index, embedder="minilm")))
    assert report["chunks"] == len(want["chunks"])
    assert report["embedded"] == report["chunks"] - kept  # nothing embedded before the crash was lost
    p = probe(index, zygote)
    assert p["embedder"] == "minilm:all-MiniLM-L6-v2"
    assert p["chunk_ids"] == p["chroma_ids"] == sorted(want["chunks"])
    assert p["wrong_vectors"] == [] and p["wrong_spans"] == [] and p["spans_ok"]
    assert p["probes_ok"] == p["probes"] > 0 and p["chroma_dirty"] == "0"


def test_killed_rebuild_never_brings_back_an_old_generation(tmp_path, zygote):
    """``--rebuild`` empties the record; killed after that, the next run builds it again.
    The generation must still move on: the assistant keys its persisted BM25 index (and a
    running server its loaded chunks) on it, and must not take the new index for the old."""
    rnd = random.Random(5)
    folder = Folder(tmp_path / "sources", rnd)
    for i in range(12):
        folder.write(f"article_{i:03d}.txt")
    index = tmp_path / "index"
    db = index / "briefing.sqlite3"
    want = fresh_state(zygote, folder.root, tmp_path / "fresh")
    recover(zygote, folder.root, index, want)
    assert_converged(index, want, folder, zygote)  # the assistant has persisted BM25 for it
    gen = generation(db)

    # One word changes, in place: the same number of chunks, other words.
    name = "article_003.txt"
    old = folder.words[name]
    new = "zq" + "".join(rnd.choice(CONSONANTS) for _ in range(len(old) - 2))
    path = folder.root / name
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    folder.words[name] = new
    folder.gone.append(old)
    want = fresh_state(zygote, folder.root, tmp_path / "fresh2")
    assert len(want["chunks"]) == len(record_state(db)["chunks"])

    proc = zygote.spawn([*index_args(folder.root, index), "--rebuild"])
    def emptied_and_embedding() -> bool:
        return query(db, "SELECT count(*) FROM chunks") == 0 and embeddings(db) >= EMBED_STEP

    assert wait_until(proc, emptied_and_embedding), "the rebuild did not reach its embedding phase"
    assert kill(proc), "the rebuild finished before it could be interrupted"

    recover(zygote, folder.root, index, want)
    assert generation(db) > gen
    assert_converged(index, want, folder, zygote)
