"""The sentences on actions: they become Atlassian's message on a deactivated account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from offboard.core.plan import Rule
from offboard.core.reasons import MAX_REASON, action_reason, realm_name

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://kc.example/admin/realms/acme", "realm acme"),
        ("https://kc.example/admin/realms/acme (whole realm)", "realm acme"),
        ("https://kc.example/admin/realms/acme (members of /staff, /staff/eng)", "realm acme"),
        ("https://kc.example/admin/realms/acme/ (department:eng)", "realm acme"),
        ("", "Keycloak"),
        ("a fixture", "a fixture"),
    ],
)
def test_the_realm_is_named_whatever_scope_follows_the_url(source: str, expected: str) -> None:
    assert realm_name(source) == expected


def test_a_reason_names_who_where_which_rule_and_when_within_the_limit() -> None:
    reason = action_reason(Rule.IDENTITY_LEFT_SCOPE, "jdoe (id 42)", "realm acme", NOW)
    assert reason.startswith("offboard: Keycloak user jdoe (id 42) left the offboard scope in ")
    assert "realm acme" in reason
    assert "rule identity-left-scope" in reason
    assert "2026-11-28" in reason
    long = action_reason(Rule.IDENTITY_DISABLED, "x" * 500, "realm acme", NOW)
    assert len(long) <= MAX_REASON
    assert "rule identity-disabled" in long
