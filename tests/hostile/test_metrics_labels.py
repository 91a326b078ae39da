"""Issue 19 item 9 (labels): /metrics carries no per-person series and no personal data.

Requests for 100 people, with Keycloak federated ids (``f:<provider>:<username>``), emails,
UUIDs and Atlassian account ids in their paths, go through the real metering hooks; the
exposition must hold a handful of endpoint series and none of those values.
"""

from __future__ import annotations

import httpx
from prometheus_client import generate_latest

from offboard.server.metrics import Metrics, endpoint_label, httpx_hooks
from tests.hostile.conftest import HostileRow

PEOPLE = 100
PROVIDER = "3f2a9c1e-7b4d-4e5f-8a6b-1c2d3e4f5a6b"


def paths_for(n: int) -> list[str]:
    return [
        f"/admin/realms/staff/users/f:{PROVIDER}:jdoe{n}",
        f"/admin/realms/staff/users/f:{PROVIDER}:jdoe{n}/groups",
        f"/admin/realms/staff/attack-detection/brute-force/users/f:{PROVIDER}:jdoe{n}",
        f"/admin/realms/staff/users/{n:08d}-aaaa-4bbb-8ccc-dddddddddddd",
        f"/users/557058:{n:08d}-1111-4222-8333-444444444444/manage/lifecycle/disable",
        f"/admin/v1/orgs/org-1/users/jdoe{n}%40example.com",
        f"/admin/v2/orgs/o/directories/d/users/jdoe{n}@example.com/suspend",
    ]


async def test_metrics_have_no_per_person_series_and_no_personal_data(
    hostile_row: HostileRow,
) -> None:
    metrics = Metrics()
    hook = httpx_hooks(metrics, "keycloak")["response"][0]
    sent = 0
    for n in range(PEOPLE):
        for path in paths_for(n):
            request = httpx.Request("GET", f"https://sso.example.com{path}")
            await hook(httpx.Response(200, request=request))
            sent += 1
    exposition = generate_latest(metrics.registry).decode()
    series = [
        line for line in exposition.splitlines() if line.startswith("offboard_api_requests_total")
    ]
    leaked = [n for n in range(PEOPLE) if f"jdoe{n}" in exposition or f"{n:08d}" in exposition]
    assert len(series) <= len(paths_for(0))  # per endpoint, whoever it was for
    assert "f:" not in exposition
    assert PROVIDER not in exposition
    assert "example.com" not in exposition
    assert leaked == []
    hostile_row(
        area="metrics",
        inputs=sent,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"{sent} requests for {PEOPLE} people (federated ids, emails, account ids): "
        f"{len(series)} series, no id or email in /metrics",
    )


def test_api_words_stay_readable() -> None:
    assert endpoint_label("/admin/realms/r/users/count") == "/admin/realms/r/users/count"
    assert endpoint_label(f"/admin/realms/r/users/f:{PROVIDER}:jdoe") == (
        "/admin/realms/r/users/{id}"
    )
    assert endpoint_label("/admin/v2/orgs/5f0e/directories") == "/admin/v2/orgs/{id}/directories"
    assert endpoint_label("/") == "/"
    assert endpoint_label("") == "/"
