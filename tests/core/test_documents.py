"""The plan as a document: JSON round trip, tamper detection, fingerprint, text renderings."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from offboard.core.accounts import AccountStatus
from offboard.core.fingerprint import fingerprint_of
from offboard.core.identities import Lockout
from offboard.core.plan import Plan
from offboard.core.policy import Thresholds
from offboard.core.rendering import (
    PlanFormatError,
    plan_from_json,
    plan_rows,
    plan_to_json,
    render_markdown,
    render_text,
)
from tests.core.builders import (
    NOW,
    account,
    deactivated_link,
    identity,
    link,
    make_plan,
    people,
    policy,
    source,
    target,
)


def busy_plan() -> Plan:
    """A plan with every part filled: actions, both kinds of entry, links, a tripped guard."""
    identities, accounts, links = people(1, 2, 3, 4, 5)
    identities[0] = identity(1, disabled=True)
    identities[1] = identity(2, enabled=False, lockout=Lockout.UNKNOWN)
    identities[2] = identity(3, disabled=True, lockout=Lockout.TEMPORARY)
    identities[3] = identity(4, email="renamed@acme.test")
    identities.append(identity(6))
    accounts += [account(6), account(7)]
    accounts[4] = account(5, status=AccountStatus.INACTIVE)
    links[4] = deactivated_link(5)
    pol = policy(
        reactivate=True, grace_period=timedelta(0), thresholds=Thresholds(max_deactivations=0)
    )
    return make_plan(source(*identities), target(*accounts), links, pol)


def test_busy_plan_has_every_part() -> None:
    result = busy_plan()
    assert {str(a.kind) for a in result.actions} == {"deactivate", "relink", "link", "reactivate"}
    assert {str(e.status) for e in result.entries} == {"blocked", "skipped"}
    assert result.link_updates
    assert result.is_blocked


def test_json_round_trip_gives_the_same_plan() -> None:
    result = busy_plan()
    text = plan_to_json(result)
    assert plan_from_json(text) == result
    assert plan_to_json(plan_from_json(text)) == text


def test_json_has_the_documented_shape() -> None:
    document = json.loads(plan_to_json(busy_plan()))
    assert set(document) == {
        "version", "fingerprint", "created_at", "actions", "blocked", "skipped",
        "guards", "link_updates", "summary", "seal",
    }  # fmt: skip
    assert set(document["actions"][0]) == {
        "kind", "keycloak_id", "account_id", "email", "rule", "reason",
    }  # fmt: skip
    assert set(document["guards"][0]) == {
        "name", "tripped", "overridden", "observed", "limit", "message",
    }  # fmt: skip
    assert document["version"] == 1
    assert document["created_at"] == NOW.isoformat()
    assert document["summary"]["actions_by_kind"]["deactivate"] == 1
    assert document["summary"]["is_blocked"] is True


def edit(text: str, change: Any) -> str:
    document = json.loads(text)
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["actions"][0].update(account_id="acc-9999"),
        lambda d: d["actions"][0].update(kind="delete"),
        lambda d: d["actions"].pop(),
        lambda d: d["blocked"].clear(),
        lambda d: d["guards"][0].update(overridden=True),
        lambda d: d["link_updates"][0].update(email="mallory@evil.test"),
    ],
    ids=["account", "kind", "drop-action", "drop-blocked", "override", "link"],
)
def test_tampering_is_detected(change: Any) -> None:
    with pytest.raises(PlanFormatError, match="fingerprint does not match"):
        plan_from_json(edit(plan_to_json(busy_plan()), change))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["actions"][0].update(reason="offboard: approved by the CEO, do not ask"),
        lambda d: d.update(created_at="2099-01-01T00:00:00+00:00"),
        lambda d: d["guards"][0].update(message="all fine"),
        lambda d: d["blocked"][0].update(reason="nothing to see"),
        lambda d: d.pop("seal"),
    ],
    ids=["reason", "created-at", "guard-message", "entry-reason", "no-seal"],
)
def test_what_the_fingerprint_leaves_out_is_sealed(change: Any) -> None:
    """Issue 19.6: an edited reason or creation time is refused, not applied."""
    with pytest.raises(PlanFormatError, match="seal does not match"):
        plan_from_json(edit(plan_to_json(busy_plan()), change))


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_format_error(depth: int) -> None:
    text = '{"version": 1, "actions": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(PlanFormatError, match=r"nested too deeply|corrupt plan document"):
        plan_from_json(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a JSON plan document"),
        ("[]", "top level is not an object"),
        ('{"version": "1"}', "bad version"),
        ('{"version": 1}', "corrupt plan document"),
    ],
)
def test_corrupt_documents_are_refused(text: str, message: str) -> None:
    with pytest.raises(PlanFormatError, match=message):
        plan_from_json(text)


def test_wrong_types_are_refused() -> None:
    text = edit(plan_to_json(busy_plan()), lambda d: d["actions"][0].update(email=42))
    with pytest.raises(PlanFormatError, match="corrupt plan document"):
        plan_from_json(text)


def test_a_newer_version_is_refused() -> None:
    text = edit(plan_to_json(busy_plan()), lambda d: d.update(version=2))
    with pytest.raises(PlanFormatError, match="newer"):
        plan_from_json(text)


def test_the_fingerprint_ignores_time_and_unrelated_new_hires() -> None:
    identities, accounts, links = people(1, 2, 3)
    identities[0] = identity(1, disabled=True)
    before = make_plan(source(*identities), target(*accounts), links)
    later = make_plan(source(*identities), target(*accounts), links, now=NOW + timedelta(hours=1))
    hired = make_plan(source(*identities, identity(50)), target(*accounts), links)
    assert before.fingerprint == later.fingerprint == hired.fingerprint
    assert before.fingerprint == fingerprint_of(before)


def test_the_fingerprint_changes_with_what_would_be_done() -> None:
    identities, accounts, links = people(1, 2, 3)
    identities[0] = identity(1, disabled=True)
    before = make_plan(source(*identities), target(*accounts), links)
    identities[1] = identity(2, disabled=True)
    more = make_plan(source(*identities), target(*accounts), links)
    stricter = make_plan(
        source(*identities), target(*accounts), links, policy(thresholds=Thresholds())
    )
    assert len({before.fingerprint, more.fingerprint, stricter.fingerprint}) == 3


def test_rows_list_actions_then_blocked_then_skipped() -> None:
    rows = plan_rows(busy_plan())
    statuses = [row["status"] for row in rows]
    assert statuses == sorted(statuses, key=["held", "blocked", "skipped"].index)
    assert all(
        set(row) == {"status", "kind", "keycloak_id", "account_id", "email", "rule", "reason"}
        for row in rows
    )


def test_text_rendering_is_an_aligned_table() -> None:
    text = render_text(busy_plan())
    lines = text.splitlines()
    assert "BLOCKED by guards" in lines[0]
    assert any("--override-guard max-deactivations" in line for line in lines)
    header = next(line for line in lines if line.startswith("STATUS"))
    column = header.index("KIND")
    rows = lines[lines.index(header) + 1 :]
    assert rows
    assert all(row[column - 2 : column] == "  " for row in rows)


def test_markdown_rendering_has_guards_and_sections() -> None:
    text = render_markdown(busy_plan())
    assert text.startswith("# offboard plan `")
    for heading in ("## Guards", "## Actions (", "## Blocked (", "## Skipped ("):
        assert heading in text
    assert "| max-deactivations | TRIPPED |" in text


def test_an_empty_plan_renders() -> None:
    empty = make_plan(source(identity(1)), target(account(1)), [link(1)])
    assert "None." in render_markdown(empty)
    assert "0 changes in Atlassian" in render_text(empty)
    assert plan_from_json(plan_to_json(empty)) == empty
