"""`briefing ask` and `briefing eval`: cited answers on the command line, and their measure on a gold file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from assistant.models import Answer
from index_build.core.errors import BriefingError

from .app import Context, friendly, global_options, main, read_only
from .options import check_sources, date_option, filters_of, not_empty


def _light_imports() -> None:
    """Import spaCy and NLTK's stemmer for a one-shot `briefing ask` without the heavy modules
    they only offer optional features from: spaCy's thinc imports torch for PyTorch-backed
    layers the small English pipeline does not use (~1.4 s), and NLTK's package imports
    scipy.stats for association measures (~0.5 s); both fall back cleanly when the import
    fails. While they load, ``import torch`` / ``import scipy.stats`` fail (a ``None`` entry in
    ``sys.modules``); afterwards both import as usual. Only here — a single-threaded
    process — never in `briefing serve`, where a build thread may be importing torch."""
    hidden = [m for m in ("torch", "scipy.stats") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        import spacy  # noqa: F401
        from nltk.stem.snowball import SnowballStemmer  # noqa: F401
    except ImportError:
        pass  # whatever failed loads the ordinary way later
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]


def _print_answer(answer) -> None:
    if answer.short_answer:
        click.echo(f"Short answer: {answer.short_answer}")
    click.echo(answer.text)
    if answer.citations:
        click.echo("")
        for c in answer.citations:
            click.echo(f"[{c.n}] {c.title} — {c.source} (characters {c.start}–{c.end})")
            click.echo(f"    > {' '.join(c.quote.split())}")
    elif answer.abstained and answer.passages:
        click.echo("\nClosest passages:")
        for p in answer.passages:
            snippet = " ".join(p.text.split())
            click.echo(f"  {p.rank}. {p.title} — {p.source}: {snippet[:160]}{'…' if len(snippet) > 160 else ''}")


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--history", type=click.Path(dir_okay=False, exists=True),
              help="JSON file: a list of earlier questions in this conversation.")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Passages to return (default 5).")
@click.option("--source", multiple=True, help="Only this source file (repeatable).")
@click.option("--publisher", multiple=True, help="Only this publisher (repeatable).")
@click.option("--since", callback=date_option, help="Only sources published on or after this date (YYYY[-MM[-DD]]).")
@click.option("--until", callback=date_option, help="Only sources published on or before this date.")
@click.option("--llm", help="Answer with a language model: openai:URL, ollama:MODEL, llamacpp:PATH, "
                            "or 'extractive' (default: BRIEFING_LLM, else extractive).")
@global_options
@click.pass_obj
@friendly
def ask(obj: Context, question: str, as_json: bool, history: str | None, top_k: int | None,
        source: tuple[str, ...], publisher: tuple[str, ...], since: str | None, until: str | None,
        llm: str | None) -> None:
    """Answer QUESTION from the indexed sources, with citations.

    Every sentence of the answer cites the exact passage that says it; when the sources
    don't say, the answer says so and lists the closest passages.
    """
    from assistant.answer.service import Assistant

    read_only()
    not_empty(question, "question", 'briefing ask "What did the envoy demand?"')
    _light_imports()
    turns: list[str] = []
    if history:
        try:
            turns = json.loads(Path(history).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BriefingError(f"{history}: not a JSON list of questions ({e})") from None
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            raise BriefingError(f"{history}: must be a JSON list of earlier questions (strings)")
    assistant = Assistant(obj.settings())
    check_sources(assistant, source)
    filters = filters_of(source, publisher, since, until)
    if as_json:
        click.echo(json.dumps(assistant.ask(question, turns, filters, top_k, llm).as_json(), ensure_ascii=False))
        return
    answer: Answer | None = None
    streamed = False
    for event in assistant.stream(question, turns, filters, top_k, llm):
        if isinstance(event, str):
            if llm and llm != "extractive" or assistant.settings.llm:
                click.echo(event, nl=False)
                streamed = True
        else:
            answer = event
    if answer is None:  # (the stream always ends with its Answer)
        raise BriefingError("the assistant gave no answer")
    if streamed:
        click.echo("\n")
        if answer.dropped:
            click.echo("Verification removed sentences that their citations do not support:", err=True)
            for d in answer.dropped:
                click.echo(f"  - {d}", err=True)
        click.echo("Verified answer:")
    _print_answer(answer)


@main.command(name="eval")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option("--details", type=click.Path(dir_okay=False), help="Also write one JSON line per question here.")
@click.option("--withhold", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="rtqa format: also ask this share of the questions with their evidence withheld "
                   "(they should be abstained on: abstain_withheld).")
@global_options
@click.pass_obj
@friendly
def eval_(obj: Context, file: str, as_json: bool, details: str | None, withhold: float) -> None:
    """Score retrieval, answers, citations and abstention on a gold FILE (JSONL).

    Reads the seed format (question, answerable, evidence, key_facts) or the rtqa format
    (question, answer, evidence_doc).
    """
    from assistant.answer.service import Assistant
    from assistant.evaluate import evaluate, format_table, load_gold

    items = load_gold(Path(file))
    assistant = Assistant(obj.settings())
    progress = None
    bar = None
    if not as_json and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="Evaluating", unit="question", file=sys.stderr)
        progress = lambda done, total: bar.update(1)  # noqa: E731
    metrics, rows = evaluate(assistant, items, progress, withhold=withhold)
    if bar is not None:
        bar.close()
    if details:
        Path(details).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(metrics))
    else:
        click.echo(format_table(metrics, len(items)))


