"""`briefing index` and `briefing status`: build the index, and say what it holds."""

from __future__ import annotations

import json
import os
import sys

import click

from .app import Context, friendly, global_options, main, shown


def _print_report(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
        return
    for item in report.skipped:
        click.echo(f"skipped {shown(item.source)}: {item.reason}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {shown(warning)}", err=True)
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

    from ..progress import TerminalProgress

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
            click.echo(f"  {shown(item.source)}: {item.reason}")


