"""`briefing serve`: the web app."""

from __future__ import annotations

import click

from .app import Context, friendly, global_options, main


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
    from ..auth import parse_auth

    settings = obj.settings(sources_dir=sources)
    credentials = parse_auth(auth, auth_file)
    if host not in ("127.0.0.1", "localhost", "::1") and not credentials:
        click.echo(f"warning: serving on {host} without --auth; anyone who can reach it can use it", err=True)
    click.echo("Starting Briefing (loading the index and the model)…", err=True)
    from ..web import serve as serve_app

    serve_app(settings, host=host, port=port, auth=credentials,
              ready=lambda url: click.echo(f"Briefing is running at {url}"))


