"""Optional extras of libraries that no offboard command uses, kept out of its start-up.

Two libraries import more than offboard asks of them when other packages happen to be
installed (issue 18: a real run's imports):

* structlog imports rich's traceback and pretty-printer (and with them pygments and attrs)
  for coloured tracebacks and pretty locals. offboard formats exceptions itself
  (``format_exc_info``) and never renders in colour, so structlog is imported the first time
  with those two modules hidden; it then falls back to plain tracebacks, which it never
  reaches. Later imports of rich's modules work as usual.
* httpx imports its own command-line client (click, rich's progress bars, pygments) when
  they are installed. offboard never runs httpx's CLI, so that module stays unimported: an
  import of it fails, and httpx then defines a stub ``main`` instead.

Together about 0.1 s of every command that reads a vendor (``benchmarks/bench_startup.py``).

And one search no command needs: pydantic looks for plugins (the ``pydantic`` entry-point
group) by reading the metadata of every installed distribution, the first time it builds a
model's validator: 10 to 40 ms, more with every package installed beside offboard. offboard
uses no pydantic plugin, and a plugin would see every value validated, the secrets of the
settings among them, so ``main`` turns that search off with pydantic's own switch
(``PYDANTIC_DISABLE_PLUGINS=__all__``) unless the variable is already set: an operator who
wants a plugin sets it, for example to ``none``.
The root group calls both before it imports a command's module (``offboard.cli.lazy``), and
the logging setup again (``offboard.cli.logs``); called after those libraries were
imported, they change nothing.
"""

from __future__ import annotations

import importlib
import os
import sys

_STRUCTLOG_RICH_EXTRAS = ("rich.traceback", "rich.pretty")
_HTTPX_CLI = "httpx._main"
_PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


def import_structlog() -> None:
    """Import structlog, the first time with rich's traceback and pretty-printer hidden."""
    if "structlog" in sys.modules:
        return
    hidden = [name for name in _STRUCTLOG_RICH_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it fails
    try:
        importlib.import_module("structlog")
    finally:
        for name in hidden:
            del sys.modules[name]


def skip_httpx_cli() -> None:
    """Leave httpx's command-line client out of any later ``import httpx``."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault(_HTTPX_CLI, None)  # type: ignore[arg-type]


def before_command() -> None:
    """Both, before a command's module is imported (it may import httpx or structlog at its
    top); not for a command's help, which imports neither."""
    skip_httpx_cli()
    if not any(arg in ("--help", "-h") for arg in sys.argv[1:]):
        import_structlog()


def skip_pydantic_plugins() -> None:
    """No search for pydantic plugins, unless the environment already says what to load."""
    os.environ.setdefault(_PYDANTIC_PLUGINS, "__all__")
