"""`briefing`: a thin command line over index_build and assistant.

``app`` holds the group, its options, the one-line errors and the console script (``run``);
each other module adds its commands to the group when imported (below).

Every error, a usage error included, becomes one line on stderr starting with ``error:``
and exit status 1; no tracebacks. A closed output pipe (``| head``) ends quietly.
"""

from . import ask, index, memo, serve  # noqa: F401  (each registers its commands on `main`)
from .app import main, run

__all__ = ["main", "run"]
