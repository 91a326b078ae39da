"""Whether the realm still saves the events the daemon polls, asked at every full pass.

``offboard config check`` says so once, but a realm whose admin events are switched off later (or
were never on) left the daemon polling successfully and finding nothing: healthy on every
page while each leaver waited for the next full reconciliation. The daemon now asks after
each full pass, and what is wrong stays on the status page, the console and ``/status``
warnings until it is fixed, logged once when it appears and once when it goes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog

from offboard.ports import CheckResult
from offboard.service.status import DaemonStatus

log = structlog.get_logger(__name__)

IntakeCheck = Callable[[], Awaitable[Sequence[CheckResult]]]


class IntakeHealth:
    """Runs the source's intake check and keeps its problems as status warnings."""

    def __init__(self, check: IntakeCheck, status: DaemonStatus) -> None:
        self._check = check
        self._status = status

    async def refresh(self) -> None:
        """Ask the source; a failure to ask is not a problem of the realm (left as it was)."""
        try:
            results = await self._check()
        except Exception as error:  # the poller's own failures say Keycloak is unreachable
            log.info("event intake check not answered", error=type(error).__name__)
            return
        found = {
            result.name: _text(result) for result in results if not result.ok and not result.warning
        }
        known = self._status.intake_problems
        for name, text in found.items():
            if known.get(name) != text:
                log.warning("event intake degraded", problem=text)
        for name in known.keys() - found.keys():
            log.info("event intake restored", check=name)
        self._status.intake_problems = found


def _text(result: CheckResult) -> str:
    fix = f" (fix: {result.fix})" if result.fix else ""
    return f"Keycloak {result.name}: {result.detail}{fix}"
