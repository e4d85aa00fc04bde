"""Memo benchmark: a briefing memo on one topic over 500 news articles about it.

    .venv/bin/python -m bench.memo_bench [--articles N] [--keyword WORD] [--topic TEXT]
                                         [--runs N] [--keep] [--no-write]

1. **Slice**: the RealTimeQA news articles (``a-`` ids) that mention ``--keyword`` most
   often (default "Ukraine"; ties in file order), the top ``--articles`` (default 500), written
   to a temporary directory as one ``.jsonl`` collection (never into this repository).
2. **Index** with the ``static`` embedder profile (model2vec; keeps the build short).
3. **Memo**: ``write_memo`` on ``--topic`` (default "Russia's war in Ukraine"), extractive,
   ``--runs`` times (default 3) with the index already open; the first run includes lazy
   loading (the query embedder, sentence splitter). Target: ≤ 20 s per memo. Reported: time
   split (retrieval, attribution analysis, writing), what the memo holds, citation validity
   (every quote re-read from the index), exports and a re-check of the Markdown memo.
4. **Peak RSS** of the process during the memo runs.
5. **Seed memo**: the memo on "Russia and the North Korea sanctions" over ``sources/`` (MiniLM),
   default and ``--long``: words, citations, compression (memo words ÷ words of the documents
   it cites; target ≤ 0.25), bottom-line bullets.
6. **Speaker attribution** on the hand-labelled news sentences of ``tests/data/speakers-rtqa*.jsonl``
   (the sentence, up to three sentences before it, and who speaks in it; ``speakers-rtqa.jsonl``
   was looked at while the parse fallback was written, ``speakers-rtqa-heldout.jsonl`` was
   labelled before and measured once after): precision and recall of the rules alone and of the
   rules with the dependency parse where they find no one. Targets: precision ≥ 0.95, recall ≥ 0.8.

Prints a table and replaces the ``memo`` section of docs/BENCHMARKS.md. Only numbers are
written there, no article text.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time

from bench.common import (
    ARTICLES,
    loadavg,
    machine_info,
    machine_line,
    markdown_table,
    memory_mb,
    reset_peak_rss,
    temp_dir,
    update_section,
    write_slice,
)

TARGET_S = 20.0
SPEAKER_FILES = ("speakers-rtqa.jsonl", "speakers-rtqa-heldout.jsonl")
SEED_TOPIC = "Russia and the North Korea sanctions"
_NOT_NAME = {"the", "a", "an", "of", "by", "one", "s", "dr", "rep", "mr", "ms", "mrs", "mayor", "sen"}


def _name_words(text: str) -> list[str]:
    import re

    return [w for w in re.findall(r"[a-z0-9&]+", text.lower().replace("'s", "").replace("’s", "")) if w not in _NOT_NAME]


def same_speaker(gold: str, found: str) -> bool:
    """The found speaker is the labelled one: one's last word (surname, head noun) is a word
    of the other ("Cara Christ" for "Dr. Cara Christ"; "law enforcement officials")."""
    g, f = _name_words(gold), _name_words(found)
    return bool(g and f) and (f[-1] in g or g[-1] in f)


def speaker_scores(rows: list[dict], parse: bool = True) -> dict:
    """Precision and recall of ``speakers.analyse`` on labelled sentences (each row: context,
    sentence, speaker — "" when no one speaks)."""
    from assistant.nlp.attribution import analyse
    from index_build.core.models import Document

    tp = fp = 0
    wrong = []
    for r in rows:
        doc = Document(doc_id=r["id"], source="", title="", text=r["context"] + r["sentence"], publisher="",
                       published=None, url="", content_hash="")
        an = analyse(doc, {}, parse=parse)
        s = next(s for s in an.sentences if s.start >= len(r["context"]) - 1 and r["sentence"][:30] in s.text)
        named = s.speakers or (an.sentences[s.attributed_by].speakers if s.attributed_by is not None else ())
        found = named[0] if named else ""
        ok = bool(r["speaker"] and found and same_speaker(r["speaker"], found))
        tp += ok
        fp += bool(found) and not ok
        if not ok and (found or r["speaker"]):
            wrong.append((r["id"], r["speaker"], found))
    n = sum(1 for r in rows if r["speaker"])
    return {"sentences": len(rows), "speakers": n, "precision": tp / max(1, tp + fp), "recall": tp / max(1, n),
            "wrong": wrong}


def labelled_rows(name: str) -> list[dict]:
    from bench.common import REPO

    return [json.loads(line) for line in (REPO / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def seed_memo(keep: bool = False) -> dict:
    """The seed memo, default and long: words, citations, compression."""
    from assistant.answer.service import Assistant
    from assistant.memo import write_memo
    from bench.common import REPO
    from index_build.build import build_index
    from index_build.core.settings import load_settings
    from index_build.core.text import words

    out = {}
    with temp_dir("briefing-memo-seed-", keep=keep) as tmp:
        settings = load_settings(environ={}, index_dir=tmp / "index", sources_dir=REPO / "sources", embedder="minilm")
        build_index(settings)
        assistant = Assistant(settings)
        write_memo(assistant, SEED_TOPIC)  # warm: the query model and the parser load once
        for name, long in (("default", False), ("long", True)):
            t0 = time.perf_counter()
            memo = write_memo(assistant, SEED_TOPIC, long=long)
            took = time.perf_counter() - t0
            memo_words = sum(len(words(b.label)) + len(words(b.text)) - len(b.citations)
                             for s in memo.sections for b in s.bullets)
            cited = {c.doc_id for c in memo.citations}
            source_words = sum(len(words(assistant.corpus.document(d).text)) for d in cited)
            bottom = memo.section("bottom_line").bullets
            out[name] = {"s": took, "words": memo_words, "source_words": source_words,
                         "compression": memo_words / max(1, source_words), "citations": len(memo.citations),
                         "bottom_line": len(bottom), "budget": memo.budget,
                         "bottom_passages": len({memo.citation(n).chunk_id for b in bottom for n in b.citations})}
    return out


def select(keyword: str, n: int) -> list[dict]:
    """The ``n`` articles that mention ``keyword`` most often (file order among equals)."""
    if not ARTICLES.is_file():
        raise SystemExit(f"benchmark data not found: {ARTICLES} (set BRIEFING_BENCH_DATA to the rtqa folder)")
    found = []
    with gzip.open(ARTICLES, "rt", encoding="utf-8") as f:
        for order, line in enumerate(f):
            rec = json.loads(line)
            if not str(rec.get("id", "")).startswith("a-"):
                continue
            count = f"{rec.get('title', '')}\n{rec['text']}".count(keyword)
            if count:
                found.append((-count, order, rec))
    chosen = sorted(found, key=lambda x: (x[0], x[1]))[:n]
    return [rec for _, _, rec in sorted(chosen, key=lambda x: x[1])]


def run(args) -> dict:
    from assistant.answer.service import Assistant
    from assistant.memo import write_memo
    from assistant.memo.export import export
    from assistant.memo.verify import IndexDocuments, verify_file
    from index_build.build import build_index
    from index_build.core.settings import load_settings

    recs = select(args.keyword, args.articles)
    out: dict = {"articles": len(recs), "keyword": args.keyword, "topic": args.topic,
                 "mentions_min": min(f"{r.get('title', '')}\n{r['text']}".count(args.keyword) for r in recs)}
    with temp_dir("briefing-memo-bench-", keep=args.keep) as tmp:
        write_slice(tmp / "sources", recs, layout="jsonl")
        settings = load_settings(environ={}, index_dir=tmp / "index", sources_dir=tmp / "sources", embedder="static")
        t0 = time.perf_counter()
        report = build_index(settings)
        out["index_s"] = time.perf_counter() - t0
        out["documents"], out["chunks"] = report.documents, report.chunks
        t0 = time.perf_counter()
        assistant = Assistant(settings)
        out["open_s"] = time.perf_counter() - t0

        reset_peak_rss()
        runs, memo = [], None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            memo = write_memo(assistant, args.topic)
            runs.append((time.perf_counter() - t0, dict(memo.timings_ms)))
        out["peak_rss_mb"] = memory_mb()["peak"]
        out["runs_s"] = [r[0] for r in runs]
        out["first_split_ms"] = runs[0][1]
        out["warm_split_ms"] = runs[-1][1]
        valid = [assistant.corpus.document(c.doc_id).text[c.start:c.end] == c.quote for c in memo.citations]
        bullets = [b for s in memo.sections for b in s.bullets]
        from index_build.core.text import words

        memo_words = sum(len(words(b.label)) + len(words(b.text)) - len(b.citations) for b in bullets)
        cited_words = sum(len(words(assistant.corpus.document(d).text)) for d in {c.doc_id for c in memo.citations})
        out.update(
            words=memo_words, cited_words=cited_words, budget=memo.budget,
            citations=len(memo.citations), validity=sum(valid) / max(1, len(valid)),
            uncited=sum(1 for b in bullets if not b.citations), sources=len(memo.sources),
            bullets={s.key: len(s.bullets) for s in memo.sections},
            actors=len({b.group for b in memo.section("positions").bullets}),
            resolved_dates=sum(1 for b in memo.section("timeline").bullets if "relative" not in b.label
                               and "no year" not in b.label),
        )
        for suffix in (".md", ".docx", ".html"):
            t0 = time.perf_counter()
            path = export(memo, tmp / f"memo{suffix}")
            out[f"export{suffix}_ms"] = (time.perf_counter() - t0) * 1000
            out[f"export{suffix}_kb"] = path.stat().st_size / 1024
        docs = IndexDocuments(settings)
        t0 = time.perf_counter()
        checked = verify_file(tmp / "memo.md", docs)
        out["verify_ms"] = (time.perf_counter() - t0) * 1000
        out["verify_ok"] = checked.ok
        docs.close()
    out["loadavg"] = loadavg()
    out["seed"] = seed_memo(args.keep)
    out["speakers"] = {name: {mode: speaker_scores(labelled_rows(name), parse=mode == "parse")
                              for mode in ("rules", "parse")} for name in SPEAKER_FILES}
    return out


def render(res: dict, info: dict) -> str:
    first, warm = res["runs_s"][0], statistics.median(res["runs_s"][1:] or res["runs_s"])
    split = res["first_split_ms"]
    at_least = "once" if res["mentions_min"] == 1 else f"{res['mentions_min']} times"
    rows = [
        ["memo, first after opening the index", f"{first:.1f} s", f"≤ {TARGET_S:.0f} s",
         "yes" if first <= TARGET_S else "NO"],
        ["memo, warm (median of the later runs)", f"{warm:.1f} s", f"≤ {TARGET_S:.0f} s",
         "yes" if warm <= TARGET_S else "NO"],
        ["  retrieval (15 queries)", f"{split.get('retrieve', 0) / 1000:.2f} s", "", ""],
        ["  attribution analysis of the gathered articles", f"{split.get('analyse', 0) / 1000:.2f} s", "", ""],
        ["  writing the sections", f"{split.get('write', 0) / 1000:.2f} s", "", ""],
        ["citation validity (quote == document text at the span)", f"{res['validity']:.3f}", "1.0",
         "yes" if res["validity"] == 1.0 else "NO"],
        ["bullets without a citation", res["uncited"], "0", "yes" if res["uncited"] == 0 else "NO"],
        ["memo words / words of the documents it cites (budget)",
         f"{res['words']} / {res['cited_words']} = {res['words'] / max(1, res['cited_words']):.2f} "
         f"(budget {res['budget']})", "≤ 0.25 and ≤ 1,200 words",
         "yes" if res["words"] <= min(1200, 0.25 * res["cited_words"]) + 10 else "NO"],
        ["citations / sources cited / actors", f"{res['citations']} / {res['sources']} / {res['actors']}", "", ""],
        ["bullets per section", ", ".join(f"{k} {v}" for k, v in res["bullets"].items()), "", ""],
        ["timeline entries with a calendar date", res["resolved_dates"], "", ""],
        ["export .md / .docx (incl. importing python-docx) / .html",
         " / ".join(f"{res[f'export{s}_ms']:.0f} ms ({res[f'export{s}_kb']:.0f} KB)"
                    for s in (".md", ".docx", ".html")),
         "", ""],
        ["`verify` of the Markdown memo",
         f"{res['verify_ms']:.0f} ms, {'all hold' if res['verify_ok'] else 'FAILED'}", "", ""],
        ["peak RSS during the memos", f"{res['peak_rss_mb']:.0f} MB", "", ""],
    ]
    seed = res["seed"]
    seed_rows = [[name, f"{m['words']}", f"{m['source_words']}", f"{m['compression']:.2f}",
                  "≤ 0.25" if name == "default" else "(no budget)", f"{m['citations']}",
                  f"{m['bottom_line']} from {m['bottom_passages']} passages", f"{m['s']:.1f} s"]
                 for name, m in seed.items()]
    speaker_rows = []
    for name, modes in res["speakers"].items():
        for mode, sc in modes.items():
            label = "rules" if mode == "rules" else "rules + dependency parse (shipped)"
            met = "yes" if sc["precision"] >= 0.95 and sc["recall"] >= 0.8 else "no"
            speaker_rows.append([name, label, f"{sc['sentences']} ({sc['speakers']} with a speaker)",
                                 f"{sc['precision']:.3f}", f"{sc['recall']:.3f}", met])
    return "\n".join([
        "## Memo",
        "",
        f"`python -m bench.memo_bench`, {info['date']}: a memo on *{res['topic']}* over the {res['articles']} "
        f"RealTimeQA news articles that mention “{res['keyword']}” most often (each at least {at_least}), "
        f"one `.jsonl` collection, indexed with the `static` profile "
        f"({res['documents']} documents, {res['chunks']} chunks, {res['index_s']:.0f} s; opening the index "
        f"{res['open_s']:.1f} s). Extractive memo, {len(res['runs_s'])} runs in one process "
        f"({', '.join(f'{t:.1f}' for t in res['runs_s'])} s); load average {res['loadavg']:.2f} at the end.",
        "",
        markdown_table(["measure", "value", "target", "met"], rows),
        "",
        "",
        f"Seed memo on *{SEED_TOPIC}* over `sources/` (MiniLM, warm):",
        "",
        markdown_table(["memo", "words", "words of the cited documents", "compression", "target", "citations",
                        "bottom line", "time"], seed_rows),
        "",
        "Speaker attribution on hand-labelled RealTimeQA sentences (target precision ≥ 0.95, recall ≥ 0.8; "
        "`speakers-rtqa.jsonl` was looked at while the parse fallback was written, "
        "`speakers-rtqa-heldout.jsonl` was labelled before it):",
        "",
        markdown_table(["file", "attribution", "sentences", "precision", "recall", "targets met"], speaker_rows),
        "",
        f"Machine: {machine_line(info)}.",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.memo_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=500)
    ap.add_argument("--keyword", default="Ukraine")
    ap.add_argument("--topic", default="Russia's war in Ukraine")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temporary slice and index")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    info = machine_info()
    res = run(args)
    section = render(res, info)
    print(section)
    if not args.no_write:
        print(f"updated {update_section('memo', section, info=info)}")
    first = res["runs_s"][0]
    return 0 if first <= TARGET_S and res["validity"] == 1.0 and res["uncited"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
