"""Notifications through the real channels: an SMTP server with STARTTLS and AUTH, a
Slack-compatible receiver and a signed-webhook receiver, all on 127.0.0.1, with the state in
a real SQLite store. The right messages, each once (restarts included), nothing secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from offboard.cli.notify_wiring import build_notifications
from offboard.core.holds import Hold, Waiting
from offboard.core.plan import Entry, EntryStatus, Plan, Rule
from offboard.service.holds import GuardState
from offboard.service.notifying import Counters, Notifications
from offboard.service.passes import ActionReport, PassReport
from offboard.service.status import STORE, DaemonStatus
from offboard.settings import Settings
from offboard.store import SqlStore, open_store
from tests.notify_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    HttpReceiver,
    Inbox,
    http_receiver,
    make_certificate,
    smtp_server,
)
from tests.service.fakes import FakeClock

SLACK_PATH = "/services/T000/B000/slack-token-4b1e8a"
HOOK_PATH = "/hooks/offboard-9d2c"
SIGNING_KEY = "signing-key-0123456789abcdef-0123456789abcdef"
LIMITS = {"store": timedelta(minutes=1), "reconcile": timedelta(hours=1),
          "vendor": timedelta(minutes=5)}  # fmt: skip


@dataclass
class World:
    inbox: Inbox
    http: HttpReceiver
    settings: Settings
    store_path: Path
    secrets: list[str]

    def messages(self) -> dict[str, list[str]]:
        """Every text each channel received."""
        mails = [f"{m['Subject']}\n{m.get_payload()}" for m in self.inbox.mails]
        slack = [json.loads(r.body)["text"] for r in self.http.on(SLACK_PATH)]
        hooks = [json.loads(r.body)["text"] for r in self.http.on(HOOK_PATH)]
        return {"email": mails, "slack": slack, "webhook": hooks}

    def everything(self) -> str:
        raw = [e.original_content or b"" for e in self.inbox.envelopes]
        raw += [r.body for r in self.http.got]
        raw += [json.dumps(r.headers).encode() for r in self.http.got]
        return b"\n".join(raw).decode(errors="replace")


def settings_for(port: int, cert: Path, url: str, **notifications: Any) -> Settings:
    return Settings.from_values({
        "keycloak": {"base_url": "http://127.0.0.1:1", "realm": "r", "client_id": "c",
                     "client_secret": "kc-secret-never-sent"},
        "atlassian": {"org_id": "o", "api_key": "atlassian-key-never-sent"},
        "notifications": {
            "console_url": "https://offboard.example.com",
            "email": {"to": ["iam@example.com"], "smtp": {
                "host": "127.0.0.1", "port": port, "username": SMTP_USER,
                "password": SMTP_PASSWORD, "ca_bundle": str(cert),
                "sender": "offboard@example.com"}},
            "slack": {"url": url + SLACK_PATH},
            "webhook": {"url": url + HOOK_PATH, "signing_key": SIGNING_KEY},
            **notifications,
        },
    })  # fmt: skip


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(certificate: tuple[Path, Path], tmp_path: Path) -> Iterator[World]:
    with smtp_server(certificate) as (inbox, port), http_receiver() as (http, url):
        settings = settings_for(port, certificate[0], url)
        secrets = [SMTP_PASSWORD, SIGNING_KEY, url + SLACK_PATH, "slack-token-4b1e8a",
                   "kc-secret-never-sent", "atlassian-key-never-sent"]  # fmt: skip
        yield World(inbox, http, settings, tmp_path / "state.db", secrets)


class Daemonish:
    """A daemon's status and notifications over the store at ``path`` (a "process")."""

    def __init__(self, world: World, clock: FakeClock, settings: Settings | None = None) -> None:
        self.clock = clock
        self.status = DaemonStatus(clock)
        self.status.vendor_reachable(STORE, True, clock.now())
        self.store: SqlStore = open_store(world.store_path)
        self.counted: list[tuple[str, str, str]] = []
        self.stack = AsyncExitStack()
        counters = Counters(
            sent=lambda c, k: self.counted.append(("sent", c, k)),
            failed=lambda c, k: self.counted.append(("failed", c, k)),
        )
        built = build_notifications(
            settings or world.settings, self.stack, self.status, self.store, clock, LIMITS,
            counters,
        )  # fmt: skip
        assert built is not None
        self.notifications: Notifications = built
        self.notifications.config = _fast(self.notifications)

    async def close(self) -> None:
        await self.stack.aclose()
        self.store.close()


def _fast(notifications: Notifications) -> Any:
    from dataclasses import replace

    return replace(notifications.config, retry_wait=0.0)


@pytest.fixture
async def process(world: World) -> AsyncIterator[Daemonish]:
    one = Daemonish(world, FakeClock(datetime.now(UTC)))
    yield one
    await one.close()


def hold(hold_id: int = 7, people: int = 3) -> Hold:
    since = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    waiting = tuple(
        Waiting(f"deactivate:u{i}:a{i}", "deactivate", f"u{i}", f"a{i}", f"p{i}@example.com", since)
        for i in range(people)
    )
    message = "10 deprovisioning actions in the last hour, the budget is 10"
    return Hold(hold_id, "deprovisioning", ("deprovisioning-budget",), message, since, waiting)


def healthy(process: Daemonish, *, with_hold: Hold | None = None) -> None:
    """A leader whose last full pass was complete and unblocked."""
    now = process.clock.now()
    plan = Plan(now, (), (), (), "f")
    process.status.record_pass(PassReport("full", now, now, complete=True, plan=plan), "full")
    for vendor in ("keycloak", "atlassian", STORE):
        process.status.vendor_reachable(vendor, True, now)
    process.status.record_guard_state(GuardState(with_hold, (), ""))


async def test_a_hold_is_told_once_on_every_channel_with_the_command_and_no_secret(
    world: World, process: Daemonish
) -> None:
    healthy(process, with_hold=hold())
    delivered = await process.notifications.check()
    key = "hold:deprovisioning:7"
    assert sorted(delivered) == [("email", key), ("slack", key), ("webhook", key)]
    for channel, texts in world.messages().items():
        (text,) = texts
        assert "deprovisioning is on hold: 3 waiting" in text, channel
        assert 'offboard hold release --reason "..."' in text
        assert "p0@example.com (Keycloak id u0), p1@example.com (Keycloak id u1)" in text
        assert "Console: https://offboard.example.com" in text
    (mail,) = world.inbox.mails
    assert mail["To"] == "iam@example.com"
    assert mail["Subject"] == "[offboard] deprovisioning is on hold: 3 waiting"
    for secret in world.secrets:
        assert secret not in world.everything()
    assert sorted(process.counted) == [("sent", c, "hold") for c in ("email", "slack", "webhook")]
    # Still held at the next checks: nothing more.
    process.clock.advance(60)
    assert await process.notifications.check() == []
    assert sum(len(t) for t in world.messages().values()) == 3


async def test_the_signed_webhook_verifies_as_documented_and_carries_the_condition(
    world: World, process: Daemonish
) -> None:
    healthy(process, with_hold=hold())
    await process.notifications.check()
    (got,) = world.http.on(HOOK_PATH)
    timestamp = got.headers["x-offboard-timestamp"]
    # What the how-to tells a receiver to do, written out here independently.
    expected = hmac.new(SIGNING_KEY.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["x-offboard-signature"] == "sha256=" + expected.hexdigest()
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 300
    assert got.headers["content-type"] == "application/json"
    document = json.loads(got.body)
    assert document["kind"] == "hold"
    assert document["key"] == "hold:deprovisioning:7"
    assert any("offboard hold release" in step for step in document["todo"])
    tampered = got.body.replace(b"hold", b"HOLD")
    forged = hmac.new(SIGNING_KEY.encode(), timestamp.encode() + b"." + tampered, hashlib.sha256)
    assert forged.hexdigest() != expected.hexdigest()


async def test_a_restart_does_not_resend_and_a_new_hold_is_told_again(world: World) -> None:
    clock = FakeClock(datetime.now(UTC))
    first = Daemonish(world, clock)
    healthy(first, with_hold=hold(7))
    assert len(await first.notifications.check()) == 3
    await first.close()

    second = Daemonish(world, clock)  # a restart, or the standby taking over
    clock.advance(120)
    assert await second.notifications.check() == []  # not read the hold yet: silent
    healthy(second, with_hold=hold(7))
    assert await second.notifications.check() == []  # the same hold: already told
    healthy(second, with_hold=None)
    assert await second.notifications.check() == []  # released: cleared, nothing to say
    healthy(second, with_hold=hold(8, people=1))
    delivered = await second.notifications.check()
    assert sorted(k for _, k in delivered) == ["hold:deprovisioning:8"] * 3
    await second.close()
    assert [len(t) for t in world.messages().values()] == [2, 2, 2]


async def test_blocked_people_failed_actions_and_expiry_each_say_what_to_do(
    world: World, process: Daemonish
) -> None:
    now = process.clock.now()
    entry = Entry(EntryStatus.BLOCKED, Rule.AMBIGUOUS_IDENTITIES, "two Keycloak users share "
                  "shared@example.com", identity_id="k1", email="shared@example.com")  # fmt: skip
    plan = Plan(now, (), (entry,), (), "f")
    failed = ActionReport("deactivate:k9:a9", "deactivate", "k9", "a9", "gone@example.com",
                          "failed", now, deprovisioning=True, detail="HTTP 500")  # fmt: skip
    refused = ActionReport("deactivate:k8:a8", "deactivate", "k8", "a8", "ext@example.com",
                           "blocked", now, deprovisioning=True,
                           detail="the account is not managed by this organization")  # fmt: skip
    report = PassReport("full", now, now, complete=True, plan=plan, actions=(failed, refused))
    process.status.record_pass(report, "full")
    process.status.record_guard_state(GuardState(None, (), ""))
    process.status.credential_expiry["atlassian.api_key"] = now.date() + timedelta(days=6)
    await process.notifications.check()
    texts = world.messages()["slack"]
    assert len(texts) == 4
    joined = "\n".join(texts)
    assert "Atlassian refused the deactivate of ext@example.com" in joined
    assert "not managed by this organization" in joined
    assert "shared@example.com waits for a human (ambiguous-identities)" in joined
    assert "offboard links resolve EMAIL KEYCLOAK_ID" in joined
    assert "deactivate of gone@example.com failed" in joined
    assert "offboard journal list --since 1d" in joined
    assert "atlassian.api_key expires on" in joined
    assert "api_key_file" in joined
    # The action goes through at the next pass: the failure clears, and a new one is news.
    done = ActionReport("deactivate:k9:a9", "deactivate", "k9", "a9", "gone@example.com",
                        "verified", now, deprovisioning=True, read_back=True)  # fmt: skip
    for outcome in (done, failed):
        again = PassReport("full", now, now, True, plan=plan, actions=(outcome,))
        process.status.record_pass(again, "full")
        await process.notifications.check()
    assert len(world.messages()["slack"]) == 5
    for secret in world.secrets:
        assert secret not in world.everything()


async def test_not_ready_is_told_after_the_delay_once_and_again_after_recovery(
    world: World, process: Daemonish
) -> None:
    process.status.set_leader(True)  # a leader with no reconciliation: not ready
    await process.notifications.check()
    assert world.http.got == []
    process.clock.advance(16 * 60)
    await process.notifications.check()
    process.clock.advance(60)
    await process.notifications.check()
    (text,) = world.messages()["slack"]
    assert "has not been ready for 16 minutes" in text
    assert "no complete reconciliation yet" in text
    healthy(process)
    await process.notifications.check()
    process.status.last_complete_full = None
    for _ in range(2):
        await process.notifications.check()
        process.clock.advance(16 * 60)
    assert len(world.messages()["slack"]) == 2


async def test_a_failing_channel_is_retried_metered_and_does_not_hold_back_the_others(
    world: World, process: Daemonish
) -> None:
    world.http.statuses = [500, 500, 500, 200]  # Slack fails three quick tries, then works
    healthy(process, with_hold=hold())
    await process.notifications.check()
    assert ("failed", "slack", "hold") in process.counted
    assert len(world.messages()["email"]) == 1
    assert len(world.http.on(SLACK_PATH)) == 3
    process.clock.advance(30)
    await process.notifications.check()  # the next check tries again, and it goes through
    assert ("sent", "slack", "hold") in process.counted
    assert len(world.http.on(SLACK_PATH)) == 4
    assert len(world.http.on(HOOK_PATH)) == 1


async def test_a_revoked_url_is_given_up_after_the_attempts_without_showing_it(
    world: World, process: Daemonish, capsys: pytest.CaptureFixture[str]
) -> None:
    world.http.statuses = [404] * 20
    healthy(process, with_hold=hold())
    for _ in range(7):
        await process.notifications.check()
        process.clock.advance(30)
    # Permanent: no quick retries; tried at max_attempts (5) checks, then given up.
    assert len(world.http.on(SLACK_PATH)) + len(world.http.on(HOOK_PATH)) == 10
    logged = capsys.readouterr()
    assert "notification not delivered" in logged.out + logged.err
    assert "HTTP 404" in logged.out + logged.err
    for secret in world.secrets:
        assert secret not in logged.out + logged.err


async def test_each_channel_is_rate_limited(world: World, certificate: tuple[Path, Path]) -> None:
    limited = settings_for(
        int(world.settings.notifications.email.smtp.port), certificate[0],
        _base(world), rate_limit=2, rate_period="1h",
    )  # fmt: skip
    process = Daemonish(world, FakeClock(datetime.now(UTC)), limited)
    now = process.clock.now()
    entries = tuple(
        Entry(EntryStatus.BLOCKED, Rule.LINKED_ACCOUNT_MISSING, "gone", identity_id=f"k{i}")
        for i in range(5)
    )
    plan = Plan(now, (), entries, (), "f")
    process.status.record_pass(PassReport("full", now, now, True, plan=plan), "full")
    process.status.record_guard_state(GuardState(None, (), ""))
    await process.notifications.check()
    assert len(world.messages()["slack"]) == 2
    for _ in range(2):
        process.clock.advance(61 * 60)
        process.status.vendor_reachable(STORE, True, process.clock.now())  # still ready
        await process.notifications.check()
    assert len(world.messages()["slack"]) == 5  # the rest waited their turn; none twice
    await process.close()


async def test_the_daily_digest_lists_what_is_open_once_a_day(
    world: World, certificate: tuple[Path, Path]
) -> None:
    settings = settings_for(
        int(world.settings.notifications.email.smtp.port), certificate[0], _base(world),
        digest_at="08:00",
    )  # fmt: skip
    clock = FakeClock(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))
    process = Daemonish(world, clock, settings)
    healthy(process, with_hold=hold())
    await process.notifications.check()
    assert len(world.messages()["slack"]) == 1
    for step in (120, 3600):
        clock.advance(step)
        healthy(process, with_hold=hold())  # still held, and otherwise healthy
        await process.notifications.check()
    texts = world.messages()["slack"]
    assert len(texts) == 2
    assert "1 thing(s) need a human" in texts[1]
    assert "[hold] deprovisioning is on hold" in texts[1]
    assert "offboard hold release" in texts[1]
    await process.close()


def _base(world: World) -> str:
    url = world.settings.notifications.slack.url
    assert url is not None
    return url.get_secret_value().removesuffix(SLACK_PATH)


async def test_a_replica_that_loses_the_lease_mid_check_sends_nothing_more(
    world: World, process: Daemonish
) -> None:
    healthy(process, with_hold=hold())
    answers = iter([True, False])
    delivered = await process.notifications.check(lambda: next(answers, False))
    assert delivered == [("email", "hold:deprovisioning:7")]
    assert world.http.got == []
    # The new leader, over the same store, sends the rest and not the email again.
    other = Daemonish(world, process.clock)
    healthy(other, with_hold=hold())
    assert sorted(c for c, _ in await other.notifications.check()) == ["slack", "webhook"]
    await other.close()
    assert [len(t) for t in world.messages().values()] == [1, 1, 1]
