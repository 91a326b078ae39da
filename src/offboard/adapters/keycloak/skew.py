"""How far Keycloak's clock runs behind ours, from the ``iat`` of the tokens it issues.

Events carry Keycloak's time; offboard compares them with its own (has this person been read
since the event? from when should the first poll read?). Keycloak serves no ``Date`` header,
but each access token is a JWT whose ``iat`` is Keycloak's clock, in whole seconds, when it was
issued. ``received − iat`` is the skew plus up to a second of rounding plus the answer's
latency: it over-states how far Keycloak is behind, which is the safe side everywhere it is
used (an event is placed later, a first poll starts earlier).
"""

from __future__ import annotations

import base64
import binascii
import json

from offboard.ports import CheckResult

CLOCK_TOLERANCE_S = 10.0
"""Beyond this, say so: the measure errs by a second or so plus a token answer's latency."""


def keycloak_behind(access_token: str, received_at: float) -> float | None:
    """Seconds Keycloak's clock is behind ours (negative: ahead); None if not a JWT with iat."""
    parts = access_token.split(".")
    if len(parts) != 3 or len(parts[1]) > 16_384:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    issued = claims.get("iat") if isinstance(claims, dict) else None
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return None
    return received_at - float(issued)


def clock_check(behind: float | None) -> CheckResult:
    """Keycloak's clock against ours: offboard copes (it dates events on its own clock), but
    a gap this large means one of the two is not synchronised."""
    if behind is None or abs(behind) <= CLOCK_TOLERANCE_S:
        return CheckResult("clock", True, "Keycloak's clock is close to offboard's")
    where = "behind" if behind > 0 else "ahead of"
    return CheckResult(
        "clock",
        False,
        f"Keycloak's clock is about {abs(behind):.0f} s {where} offboard's (from its tokens); "
        "events are dated on offboard's clock with it",
        "synchronise both hosts' clocks (NTP)",
    )
