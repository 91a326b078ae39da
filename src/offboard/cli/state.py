"""What the root command hands to every subcommand: where the config is, loaded on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # settings and logging are imported by the first command that needs them,
    # not by `--help` (about 0.3 s of start-up together)
    from offboard.settings import Settings


@dataclass
class CliState:
    """Global options, and the settings once a command asked for them."""

    config: Path | None = None
    log_level: str | None = None
    log_format: str | None = None
    long_running: bool = False
    """`offboard run` logs at the configured level; one-shot commands only errors, unless
    --log-level says otherwise, so their tables stay readable."""
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """Load and validate the configuration once; raises ConfigError (exit 4)."""
        if self._settings is None:
            from offboard.cli.logs import configure_logging
            from offboard.settings import load_settings

            self._settings = load_settings(self.config)
            configured = self._settings.logging.level if self.long_running else "error"
            configure_logging(
                self.log_level or configured,
                self.log_format or self._settings.logging.format,
            )
        return self._settings


def state_of(ctx: typer.Context) -> CliState:
    """The CliState of this invocation (a fresh one when a command runs on its own)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
