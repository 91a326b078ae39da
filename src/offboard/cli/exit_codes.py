"""Exit codes of every `offboard` command (documented in docs/reference/exit-codes.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a script calling `offboard` can rely on."""

    OK = 0
    """Success; for `plan`, nothing to do."""
    ERROR = 1
    """An operational error the message explains: credentials refused, a check failed, a
    port already in use, a file that cannot be written."""
    CHANGES = 2
    """`plan` (and `apply` without `--yes` in a dry run): changes to Atlassian are planned
    (links to record alone exit 0)."""
    BLOCKED = 3
    """A guard blocked the plan; the message names it and the override."""
    CONFIG = 4
    """The configuration is missing or invalid; nothing was contacted."""
    REFUSED = 5
    """offboard refused to act: a saved plan is stale, tampered, too old or from another
    version, confirmation was declined or impossible (no TTY and no `--yes`), or a daemon
    holds the leader lease."""
    INCOMPLETE = 6
    """`apply` ran but some actions failed or their read-back did not match."""
    UNREACHABLE = 7
    """A vendor (Keycloak or Atlassian) could not be reached: connection refused, DNS, TLS,
    timeout. The message names the URL tried."""
    STORE = 8
    """The state store cannot be used: not a database, damaged, or written by a newer
    offboard. The message names the file and the recovery step."""
    USAGE = 64
    """The command line itself is wrong (unknown option, missing argument)."""
    INTERNAL = 70
    """An unexpected internal error (a bug): rerun with --debug and report the traceback."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C); journaled work is completed by the next run."""
    OUTPUT_CLOSED = 141
    """Standard output was closed before everything was written (``| head``): 128 + SIGPIPE,
    as a shell reports a process its pipe ended. Nothing else is printed."""
