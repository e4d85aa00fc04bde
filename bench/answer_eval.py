"""The answer step on RealTimeQA dev, with the shipped answer model: the table of
docs/BENCHMARKS.md section ``answers-rtqa``.

    .venv/bin/python -m bench.answer_eval [--work-dir DIR] [--questions N] [--no-write]

Runs ``assistant.evaluate.evaluate`` (``Assistant.ask``, extractive) for each selector on the index of
``bench.train_answer`` (the evidence docs of the 2,495 dev questions + 1,000 articles, MiniLM;
built in ``--work-dir`` when missing), with half of the questions asked a second time with
their evidence withheld. These questions are the ones the shipped model was trained on, so
this table is **in-sample**; the held-out (cross-validated) scores that the model file
carries are printed beside it, and they are the ones that count.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.common import loadavg, machine_info, markdown_table, update_section


def _pair(pair) -> str:
    return "—" if pair is None else f"answer ≥ {pair[0]}, second sentence ≥ {pair[1]}"


def log(msg: str) -> None:
    print(f"[answers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.answer_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/rtqa"))
    ap.add_argument("--questions", type=int, default=None, help="evenly spaced sample of N questions")
    ap.add_argument("--answerers", nargs="+", default=["rules", "learned", "combined"],
                    choices=["rules", "learned", "combined"])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)


    from assistant.answer.rank import load_ranker
    from assistant.answer.service import Assistant
    from assistant.evaluate import evaluate, load_gold
    from bench.train_answer import rtqa_index

    info = machine_info()

    settings, questions = rtqa_index(args.work_dir.resolve())
    if args.questions:
        questions = [questions[i * len(questions) // args.questions] for i in range(args.questions)]
    gold = args.work_dir / "answers-dev.jsonl"
    gold.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    items = load_gold(gold)
    measured = {}
    for answerer in args.answerers:
        assistant = Assistant(settings.replace(answerer=answerer))
        assistant.ask(items[0].question)  # warm-up: model and parser loaded
        log(f"{answerer}: {len(items)} questions")
        measured[answerer], _ = evaluate(assistant, items, withhold=0.5)
        log(json.dumps(measured[answerer]))
    load = loadavg()
    cv = load_ranker().info["cv"]
    held, arts = cv["held_out_rtqa"], cv.get("held_out_rtqa_articles_only", {})

    def f(v):
        return "—" if v is None else f"{v:.3f}"

    small = cv.get("held_out_small_corpora", {})
    rows = [
        ["before (the model of e133ecf, its own held-out folds, withheld as then defined: also the questions whose "
         "answer other documents hold)", "0.305", "—", "—", "0.439", "0.803", "—", "—"],
        ["the model of 885b490 (2026-12-06, before the wh-subject fix of the question parse), its held-out folds",
         "0.341", "—", "—", "0.355", "0.806", "—", "—"],
        ["learned selector, held-out folds (`bench.train_answer`, 5-fold CV by question)", f(held["answer_match"]), "—",
         "—", f(held["abstain_answerable"]), f(held["abstain_withheld"]), "—", "—"],
        [f"… the same, articles only ({arts.get('answerable', 0)} questions whose answer an article holds; the "
         "evidence passage dropped)", f(arts.get("answer_match")), "—", "—", f(arts.get("abstain_answerable")), "—",
         "—", "—"],
        [f"… the same, small corpora ({small.get('answerable', 0)} questions asked of their evidence doc + 2 related "
         "articles and a few other questions' ones; their own thresholds)", f(small.get("answer_match")), "—", "—",
         f(small.get("abstain_answerable")), f(small.get("abstain_withheld")), "—", "—"],
    ]
    names = {"rules": "rule-based selector (`answerer = rules`, before)",
             "learned": "learned selector (`answerer = learned`)",
             "combined": "learned, then the rules where it abstains (`answerer = combined`, the default)"}
    for answerer, m in measured.items():
        rows.append([f"{names[answerer]}, shipped weights, `Assistant.ask` (in-sample; {len(items)} questions)",
                     f(m["answer_match"]), f(m["answer_match_in_ceiling"]), f(m["short_answer_match"]),
                     f(m["abstain_answerable"]), f(m["abstain_withheld"]), f(m["citation_validity"]),
                     f"{m['p50_ms']:.0f}"])
    metrics = next(iter(measured.values()))
    section = "\n".join([
        "### Answers on RealTimeQA dev (MiniLM, extractive, at most two sentences)",
        "",
        f"{len(items):,} dev questions on their evidence docs + 1,000 articles; {info['date']}, {info['cpu']}, "
        f"{info['usable_cores']} cores. **Ceiling**: the answer text is in one of the top-5 passages for "
        f"{f(metrics['answer_ceiling'])} of the questions (a sentence of the top 8 passages: "
        f"{cv['sentence_ceiling_candidates']:.3f} hold it or are the evidence passage's sentence that states it; of "
        f"the stage-1 shortlist: {cv['sentence_ceiling_shortlist']:.3f}). "
        "*Withheld*: of half of the questions, those whose answer text no other document of the index holds, asked "
        "again with the evidence doc dropped from the retrieved passages; they should be abstained on.",
        "",
        markdown_table(["selector", "answer_match", "… within the ceiling", "short_answer_match", "abstain_answerable",
                        "abstain_withheld", "citation_validity", "p50 ms" + (f" (load {load:.1f})" if load is not None else "")], rows),
        "",
        f"Stage 2: {load_ranker().info.get('stage2', 'logistic')}. Top-1 shortlisted sentence holds the answer or "
        f"states it (held-out): learned stage 2 {cv['top1_stage2']:.3f}, "
        f"MiniLM cosine alone {cv['top1_cosine']:.3f}. Thresholds for an index this size: answer ≥ "
        f"{load_ranker().answer_threshold}, second sentence ≥ {load_ranker().second_threshold} (chosen on held-out "
        "folds for ≥ 0.80 withheld abstention); for a small corpus (up to "
        f"{load_ranker().small_chunks} passages) {_pair(load_ranker().small_thresholds)} (for ≥ 0.92), on a log "
        "scale of the index size in between.",
    ])
    print(section)
    if not args.no_write:
        update_section("answers-rtqa", section, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
