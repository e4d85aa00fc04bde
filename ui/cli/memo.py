"""`briefing memo` and `briefing verify`: a cited briefing memo, and the re-check of a saved one."""

from __future__ import annotations

import json
import sys

import click

from .app import Context, friendly, global_options, main
from .options import check_sources, date_option, filters_of, not_empty


@main.command()
@click.argument("topic")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the memo to this file: .md, .docx or .html (default: Markdown on stdout).")
@click.option("--source", multiple=True, help="Only this source file (repeatable).")
@click.option("--publisher", multiple=True, help="Only this publisher (repeatable).")
@click.option("--since", callback=date_option, help="Only sources published on or after this date (YYYY[-MM[-DD]]).")
@click.option("--until", callback=date_option, help="Only sources published on or before this date.")
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

    not_empty(topic, "topic", 'briefing memo "North Korea sanctions"')
    prior = read_prior(since_memo) if since_memo else None  # a bad file fails before the index loads
    assistant = Assistant(obj.settings())
    check_sources(assistant, source)
    note = write_memo(assistant, topic, filters_of(source, publisher, since, until), llm=llm, long=long_memo,
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


