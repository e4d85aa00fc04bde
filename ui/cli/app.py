"""The `briefing` command group: its options, the one-line errors, and the console script.

Every error, a usage error included, becomes one line on stderr starting with ``error:``
and exit status 1; no tracebacks. A closed output pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from index_build.core.errors import BriefingError
from index_build.core.runtime import offline
from index_build.core.settings import Settings, load_settings

__all__ = ["main", "run", "friendly", "global_options", "Context", "fail", "shown", "read_only"]


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def friendly(fn):
    """Turn library errors into one readable line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BriefingError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit, BrokenPipeError):
            raise
        except Exception as e:  # last line of defence: never a traceback to a user
            if os.environ.get("BRIEFING_DEBUG"):
                raise
            fail(f"unexpected {type(e).__name__}: {e} (set BRIEFING_DEBUG=1 for the details)")

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
            fail(_one_line(e.format_message()) + hint)
        except click.ClickException as e:
            fail(_one_line(e.format_message()))
        except click.Abort:
            fail("interrupted", 130)
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


def shown(name: str) -> str:
    """A file name for one line of terminal output: control characters (a newline is legal
    in a file name) are escaped, so one skipped file stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)




_read_only_run = False  # set by `ask`, which writes nothing


def read_only() -> None:
    """This run only reads: ``run`` may end it without the interpreter's teardown."""
    global _read_only_run
    _read_only_run = True


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
