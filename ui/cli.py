"""`briefing`: a thin command line over index_build and assistant.

Every error, a usage error included, becomes one line on stderr starting with ``error:``
and exit status 1; no tracebacks. A closed output pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
from pathlib import Path

import click

from index_build.core.errors import BriefingError
from index_build.core.runtime import offline
from index_build.core.settings import Settings, load_settings

__all__ = ["main"]


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def friendly(fn):
    """Turn library errors into one readable line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BriefingError as e:
            _fail(str(e))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit, BrokenPipeError):
            raise
        except Exception as e:  # last line of defence: never a traceback to a user
            if os.environ.get("BRIEFING_DEBUG"):
                raise
            _fail(f"unexpected {type(e).__name__}: {e} (set BRIEFING_DEBUG=1 for the details)")

    return wrapper


class Context:
    def __init__(self, index_dir: str | None, config: str | None):
        self.index_dir = index_dir
        self.config = config

    def settings(self, **overrides) -> Settings:
        return load_settings(Path(self.config) if self.config else None, index_dir=self.index_dir, **overrides)


def _one_line(message: str) -> str:
    message = " ".join(message.split()).rstrip(".")
    return message[:1].lower() + message[1:]


class BriefingGroup(click.Group):
    """Usage errors as one `error:` line and exit status 1 (not click's Usage/Try/Error
    block and status 2); a closed stdout pipe as a quiet end."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            hint = ""
            if not isinstance(e, click.BadParameter) or isinstance(e, click.MissingParameter):
                hint = f" (see `{e.ctx.command_path if e.ctx else 'briefing'} --help`)"
            _fail(_one_line(e.format_message()) + hint)
        except click.ClickException as e:
            _fail(_one_line(e.format_message()))
        except click.Abort:
            _fail("interrupted", 130)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader (`| head`) has what it wanted. Point stdout at /dev/null so that
            # flushing it at exit does not fail a second time.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            sys.exit(141)  # 128 + SIGPIPE, as for any command whose reader went away


def _set_global(ctx: click.Context, param: click.Parameter, value):
    """`--index-dir` / `--config` after the command word: they override the ones before it."""
    obj = ctx.find_object(Context)
    if value is not None and obj is not None:
        setattr(obj, param.name, value)


INDEX_DIR_HELP = "Where the index lives (default .briefing/; env BRIEFING_INDEX_DIR)."
CONFIG_HELP = "Settings file (default ./briefing.toml when present)."


def global_options(fn):
    """Accept the group's options after the command word too (`briefing ask Q --index-dir D`)."""
    fn = click.option("--config", type=click.Path(dir_okay=False), callback=_set_global, expose_value=False,
                      help=CONFIG_HELP)(fn)
    return click.option("--index-dir", type=click.Path(file_okay=False), callback=_set_global,
                        expose_value=False, help=INDEX_DIR_HELP)(fn)


@click.group(name="briefing", cls=BriefingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index-dir", type=click.Path(file_okay=False), envvar="BRIEFING_INDEX_DIR", help=INDEX_DIR_HELP)
@click.option("--config", type=click.Path(dir_okay=False), envvar="BRIEFING_CONFIG", help=CONFIG_HELP)
@click.version_option(package_name="briefing")
@click.pass_context
def main(ctx: click.Context, index_dir: str | None, config: str | None) -> None:
    """Briefing: grounded answers with span-level citations from your own sources, offline."""
    ctx.obj = Context(index_dir, config)


def _shown(name: str) -> str:
    """A file name for one line of terminal output: control characters (a newline is legal
    in a file name) are escaped, so one skipped file stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _print_report(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
        return
    for item in report.skipped:
        click.echo(f"skipped {_shown(item.source)}: {item.reason}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {_shown(warning)}", err=True)
    parts = [f"{report.added} added", f"{report.updated} updated", f"{report.removed} removed",
             f"{report.unchanged} unchanged", f"{len(report.skipped)} skipped"]
    click.echo(
        f"Indexed: {', '.join(parts)}. Index holds {report.documents} documents, "
        f"{report.chunks} chunks ({report.embedded} newly embedded) in {report.seconds:.1f} s."
    )
    if report.repaired:
        click.echo(f"Repaired {report.repaired} vector-index entries left by an interrupted run.")


@main.command()
@click.argument("sources", required=False, type=click.Path(file_okay=False))
@click.option("--rebuild", is_flag=True, help="Drop the index and build it again from scratch.")
@click.option("--watch", is_flag=True, help="Keep running; re-index whenever a source changes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary (no progress bar).")
@click.option("--embedder", type=str, default=None, help="Embedder profile: minilm (default) or static.")
@global_options
@click.pass_obj
@friendly
def index(obj: Context, sources: str | None, rebuild: bool, watch: bool, as_json: bool,
          embedder: str | None) -> None:
    """Index the articles in SOURCES (default: sources/).

    Only new, changed and removed files are processed; unchanged files cost one hash.
    """
    from index_build.build import build_index

    from .progress import TerminalProgress

    settings = obj.settings(sources_dir=sources, embedder=embedder)
    progress = TerminalProgress(enabled=False if as_json else None)
    try:
        report = build_index(settings, rebuild=rebuild, progress=progress)
    finally:
        progress.close()
    _print_report(report, as_json)
    if watch:
        from index_build.watch import watch_sources

        if not as_json:
            click.echo(f"Watching {settings.sources_dir} for changes (Ctrl+C to stop)…", err=True)
        code = 0
        try:
            for report in watch_sources(settings, progress=None if as_json else TerminalProgress()):
                _print_report(report, as_json)
        except KeyboardInterrupt:
            code = 130
        # Ctrl+C ends the watch at once: every finished build is committed (SQLite), and a
        # library thread (Chroma, tokenizers) must not keep the process alive after it.
        if not as_json:
            click.echo("stopped watching", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@global_options
@click.pass_obj
@friendly
def status(obj: Context, as_json: bool) -> None:
    """Show what the index holds."""
    from index_build.status import index_status

    info = index_status(obj.settings())
    if as_json:
        click.echo(json.dumps(info.as_json(), ensure_ascii=False))
        return
    click.echo(
        f"Index {info.index_dir}: {info.documents} documents from {info.sources} sources, "
        f"{info.chunks} chunks\nEmbedder {info.embedder} ({info.dimension} dims), "
        f"chunks of {info.chunk_tokens} tokens\nStore {info.store}"
    )
    if info.skipped:
        click.echo(f"Skipped by the last run ({len(info.skipped)} files, not indexed):")
        for item in info.skipped:
            click.echo(f"  {_shown(item.source)}: {item.reason}")


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


def _filters(source: tuple[str, ...], publisher: tuple[str, ...], since: str | None, until: str | None):
    from assistant.models import Filters

    return Filters(sources=tuple(source), publishers=tuple(publisher), since=since, until=until)


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--since / --until: a real calendar date, whole (YYYY-MM-DD) or partial (YYYY, YYYY-MM)."""
    from assistant.models import filter_date

    if value is None:
        return None
    try:
        return filter_date(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD "
                                 "(e.g. 2019-03-05)") from None


def _not_empty(text: str, what: str, example: str) -> None:
    if not text.strip():
        raise BriefingError(f"the {what} is empty; write it in quotes, e.g. {example}")


def _check_sources(assistant, wanted: tuple[str, ...]) -> None:
    """Each --source must match an indexed source as the filter matches them: the same
    name, or a folder holding some."""
    if not wanted:
        return
    from assistant.models import Filters

    names = sorted(set(assistant.corpus.snapshot().sources))
    for w in wanted:
        if not any(Filters(sources=(w,)).keeps_source(n) for n in names):
            close = difflib.get_close_matches(w, names, n=3)
            hint = (f"did you mean {', '.join(map(_shown, close))}?" if close else
                    f"use a name as indexed, e.g. {', '.join(map(_shown, names[:3]))}" if names else
                    "the index holds no sources; run `briefing index`")
            raise BriefingError(f"no indexed source matches --source '{_shown(w)}'; {hint}")


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
@click.option("--since", callback=_date, help="Only sources published on or after this date (YYYY[-MM[-DD]]).")
@click.option("--until", callback=_date, help="Only sources published on or before this date.")
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

    global _read_only_run
    _read_only_run = True
    _not_empty(question, "question", 'briefing ask "What did the envoy demand?"')
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
    _check_sources(assistant, source)
    filters = _filters(source, publisher, since, until)
    if as_json:
        answer = assistant.ask(question, turns, filters, top_k, llm)
        click.echo(json.dumps(answer.as_json(), ensure_ascii=False))
        return
    answer = None
    streamed = False
    for event in assistant.stream(question, turns, filters, top_k, llm):
        if isinstance(event, str):
            if llm and llm != "extractive" or assistant.settings.llm:
                click.echo(event, nl=False)
                streamed = True
        else:
            answer = event
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves other machines (use --auth then).")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="Port to listen on.")
@click.option("--auth", metavar="USER:PASS", help="Require this login.")
@click.option("--auth-file", type=click.Path(dir_okay=False, exists=True),
              help="Require a login from this file of user:password lines.")
@click.option("--sources", type=click.Path(file_okay=False), help="Sources folder for uploads and rebuilds.")
@global_options
@click.pass_obj
@friendly
def serve(obj: Context, host: str, port: int, auth: str | None, auth_file: str | None, sources: str | None) -> None:
    """Serve the web app: chat with cited answers, source viewer, uploads and rebuilds."""
    from .auth import parse_auth

    settings = obj.settings(sources_dir=sources)
    credentials = parse_auth(auth, auth_file)
    if host not in ("127.0.0.1", "localhost", "::1") and not credentials:
        click.echo(f"warning: serving on {host} without --auth; anyone who can reach it can use it", err=True)
    click.echo("Starting Briefing (loading the index and the model)…", err=True)
    from .web import serve as serve_app

    serve_app(settings, host=host, port=port, auth=credentials,
              ready=lambda url: click.echo(f"Briefing is running at {url}"))


@main.command()
@click.argument("topic")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the memo to this file: .md, .docx or .html (default: Markdown on stdout).")
@click.option("--source", multiple=True, help="Only this source file (repeatable).")
@click.option("--publisher", multiple=True, help="Only this publisher (repeatable).")
@click.option("--since", callback=_date, help="Only sources published on or after this date (YYYY[-MM[-DD]]).")
@click.option("--until", callback=_date, help="Only sources published on or before this date.")
@click.option("--json", "as_json", is_flag=True, help="Print the memo as JSON.")
@click.option("--llm", help="Write the bottom line with a language model (as for `ask`); default extractive.")
@click.option("--long", "long_memo", is_flag=True,
              help="No length budget (by default a memo has at most a quarter of the words of the "
                   "documents it cites, and at most 1,200).")
@click.option("--since-memo", "since_memo", type=click.Path(dir_okay=False),
              help="An earlier memo (.md, .docx, .html or .json): open with what is new since it and which of "
                   "its citations changed.")
@global_options
@click.pass_obj
@friendly
def memo(obj: Context, topic: str, output: str | None, source: tuple[str, ...], publisher: tuple[str, ...],
         since: str | None, until: str | None, as_json: bool, llm: str | None, long_memo: bool,
         since_memo: str | None) -> None:
    """Write a briefing memo on TOPIC from all indexed sources.

    Bottom line, key developments, positions by actor, where the sources disagree, what
    is unconfirmed or disputed, timeline, open questions and sources; every bullet quotes
    and cites its passage. Shorter than its sources unless --long.
    """
    from assistant.answer.service import Assistant
    from assistant.memo import write_memo
    from assistant.memo.export import export, to_markdown
    from assistant.memo.since import read_prior

    _not_empty(topic, "topic", 'briefing memo "North Korea sanctions"')
    prior = read_prior(since_memo) if since_memo else None  # a bad file fails before the index loads
    assistant = Assistant(obj.settings())
    _check_sources(assistant, source)
    note = write_memo(assistant, topic, _filters(source, publisher, since, until), llm=llm, long=long_memo,
                      since=prior)
    if not note.citations:
        click.echo(f"warning: the indexed sources hold nothing on {topic!r}; the memo is empty", err=True)
    if output:
        path = export(note, output)
        summary = (f"Wrote {path}: {len(note.citations)} citations from {len(note.sources)} sources "
                   f"in {note.timings_ms.get('total', 0) / 1000:.1f} s.")
        click.echo(summary, err=as_json)
    if as_json:
        click.echo(json.dumps(note.as_json(), ensure_ascii=False))
    elif not output:
        click.echo(to_markdown(note), nl=False)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--fix", is_flag=True, help="Rewrite the anchors of moved citations in FILE to their new spans.")
@click.option("--strict", is_flag=True, help="A moved citation fails too.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@global_options
@click.pass_obj
@friendly
def verify(obj: Context, file: str, fix: bool, strict: bool, as_json: bool) -> None:
    """Re-check the citations of a saved memo (.md, .docx, .html) or answer (.json from
    `ask --json`) against the current index.

    A citation whose quote is still in its document, only at other characters (an edit
    earlier in the source), is "moved": it still holds, and --fix rewrites its anchor.
    "Changed" ones (the quote's text is no longer there; the closest text is shown) and
    missing ones (the document is gone) do not. Exit status 0 when every citation holds,
    1 otherwise; with --strict, moved citations fail too.
    """
    from assistant.memo import quoted
    from assistant.memo.verify import IndexDocuments, fix_file, verify_file

    docs = IndexDocuments(obj.settings())
    try:
        report = verify_file(file, docs, strict=strict)
    finally:
        docs.close()
    fixed = fix_file(report) if fix else 0
    if as_json:
        click.echo(json.dumps({**report.as_json(), "fixed": fixed}, ensure_ascii=False))
        sys.exit(0 if report.ok else 1)
    counts = ", ".join(f"{report.count(s)} {word}" for s, word in
                       (("ok", "hold"), ("moved", "moved"), ("changed", "changed"), ("missing", "missing")))
    click.echo(f"{file}: {len(report.checks)} citations — {counts}.")
    for c in report.checks:
        if c.status == "moved":
            click.echo(f"[{c.n}] moved: the quote is now at characters {c.new_start}–{c.new_end} of {c.source} "
                       f"(was {c.start}–{c.end})")
        elif c.status == "changed":
            click.echo(f"[{c.n}] changed: the quote is no longer in {c.source} (characters {c.start}–{c.end})")
            if c.new_start is not None:
                click.echo(f"    closest text now, characters {c.new_start}–{c.new_end}: {quoted(c.now)}")
        elif c.status == "missing":
            click.echo(f"[{c.n}] missing: {c.source or c.doc_id} is no longer in the index")
    if fix:
        click.echo(f"Rewrote {fixed} of {report.count('moved')} moved anchors in {file}.")
    elif report.count("moved"):
        click.echo(f"`briefing verify --fix {file}` rewrites the anchors of the moved citations.")
    sys.exit(0 if report.ok else 1)


_read_only_run = False  # set by `ask`, which writes nothing


def run() -> None:
    """The ``briefing`` console script: ``main``, then, after a read-only command, an exit that
    skips the interpreter's teardown of ONNX Runtime, Chroma and spaCy (~0.7 s of a ~4 s cold
    ``briefing ask``). The output is flushed first; everything on disk is already consistent
    (the index is kill-9 safe, and `ask` only reads it)."""
    offline()
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    if _read_only_run:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            code = code or 141
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
