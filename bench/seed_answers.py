"""The answer step on the seed questions, per gold file and selector: the table of
docs/BENCHMARKS.md section ``answers-seeds``.

    .venv/bin/python -m bench.seed_answers [--no-write]

Builds a MiniLM index of ``sources/`` in a scratch directory and runs ``briefing eval``'s
``evaluate`` (``Assistant.ask``, extractive) on every ``tests/data/seed-*.jsonl`` with each
selector. seed-dev and seed-extra train the answer model (and tuned the rules); the
``seed-fresh*`` files were written afterwards in new wordings and train nothing: their rows
are the held-out ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import REPO, loadavg, machine_info, markdown_table, temp_dir, update_section

ANSWERERS = ("rules", "learned", "combined")
TRAINED_ON = {"seed-dev", "seed-extra"}


def log(msg: str) -> None:
    print(f"[seed-answers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.seed_answers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--answerers", nargs="+", default=list(ANSWERERS), choices=ANSWERERS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    from assistant.answer.service import Assistant
    from assistant.evaluate import evaluate, load_gold
    from index_build.build import build_index
    from index_build.core.settings import load_settings

    info = machine_info()
    files = sorted((REPO / "tests" / "data").glob("seed-*.jsonl"),
                   key=lambda p: (p.stem not in TRAINED_ON, p.stem))
    rows, measured = [], {}
    with temp_dir("briefing-seed-answers-") as tmp:
        settings = load_settings(environ={}, index_dir=tmp / "index", sources_dir=REPO / "sources", embedder="minilm")
        build_index(settings, REPO / "sources")
        assistants = {a: Assistant(settings.replace(answerer=a)) for a in args.answerers}
        for assistant in assistants.values():
            assistant.ask("What did Ri Yong Ho demand?")  # warm-up: model and parser loaded
        for path in files:
            items = load_gold(path)
            for answerer, assistant in assistants.items():
                m, _ = evaluate(assistant, items)
                measured[(path.stem, answerer)] = m
                log(f"{path.stem} {answerer}: {json.dumps(m)}")
                held = "trained on" if path.stem in TRAINED_ON else "**held out**"
                n_ans = sum(i.answerable for i in items)
                rows.append([f"{path.stem} ({n_ans} answerable, {len(items) - n_ans} not; {held})",
                             f"**{answerer}**" if answerer == "combined" else answerer,
                             f"{m['key_fact_recall']:.2f}", f"{m['abstain_answerable']:.2f}",
                             f"{m['abstain_unanswerable']:.2f}", f"{m['citation_validity']:.2f}",
                             f"{m['p50_ms']:.0f}"])
    fresh = [k for k in measured if k[0] not in TRAINED_ON]

    def pooled(answerer: str, key: str) -> float:
        ms = [measured[k] for k in fresh if k[1] == answerer]
        return sum(m[key] for m in ms) / max(1, len(ms))

    load = loadavg()
    summary = "; ".join(f"{a} {pooled(a, 'key_fact_recall'):.2f} / {pooled(a, 'abstain_answerable'):.2f}"
                        for a in args.answerers)
    section = "\n".join([
        f"### Answers on the seed questions: rules vs learned vs combined (`bench.seed_answers`, {info['date']}, "
        f"{info['cpu']}, {info['usable_cores']} cores)",
        "",
        "`evaluate` (as `briefing eval FILE`) on an index of `sources/` (MiniLM), per selector (`answerer`). "
        "seed-dev and seed-extra train the answer model (weight 5) and tuned the rules; the `seed-fresh*` files "
        "were written later in new wordings and train nothing.",
        "",
        markdown_table(["file", "selector", "key_fact_recall", "abstain_answerable", "abstain_unanswerable",
                        "citation_validity", "warm p50 ms" + (f" (load {load:.1f})" if load is not None else "")],
                       rows),
        "",
        f"Held-out files, mean of the per-file key_fact_recall / abstain_answerable: {summary}.",
    ])
    print(section)
    if not args.no_write:
        update_section("answers-seeds", section, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
