"""The daemon tells a human when a hold trips: one message per channel, over real sockets
(SMTP with STARTTLS and AUTH, a Slack-compatible receiver, a signed webhook receiver), and
nothing more after a restart. The daemon is ``offboard run``'s wiring against the emulators.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.e2e.harness import (
    ORG_KEY,
    WEBHOOK_SECRET,
    atlassian_emulator,
    daemon_settings,
    eventually,
    fetch,
    running_daemon,
)
from tests.e2e.waves import EmulatedPeople, read_hold
from tests.notify_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    http_receiver,
    make_certificate,
    smtp_server,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REALM_FILE = Path(__file__).parents[1] / "keycloak" / "realm-offboard-test.json"
SECRET = "emulated-client-secret"
SIGNING_KEY = "e2e-signing-key-0123456789abcdef-0123"


@pytest.fixture
def world() -> Iterator[tuple[str, EmulatedPeople]]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url, atlassian_emulator() as tenant:
        yield url, EmulatedPeople(state, tenant)


async def test_a_hold_trips_and_each_channel_is_told_once_even_across_a_restart(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    url, people = world
    people.add(8)
    cert, key = make_certificate(tmp_path)
    with smtp_server((cert, key)) as (inbox, port), http_receiver() as (http, hooks):
        notifications = {
            "check_every": "0.2s",
            "email": {"to": ["iam@example.test"], "smtp": {
                "host": "127.0.0.1", "port": port, "username": SMTP_USER,
                "password": SMTP_PASSWORD, "ca_bundle": str(cert)}},
            "slack": {"url": hooks + "/slack/T1/B2/xyz"},
            "webhook": {"url": hooks + "/signed", "signing_key": SIGNING_KEY},
        }  # fmt: skip
        settings = daemon_settings(
            keycloak_url=url, realm="offboard-test", client_id="offboard", client_secret=SECRET,
            tenant=people.tenant, store=tmp_path / "state.db", poll_interval=0.3,
            policy={"budget": {"hour_max_actions": 3}},
            extra={"notifications": notifications},
        )  # fmt: skip
        wave = people.ids[:6]
        async with running_daemon(settings) as daemon:
            await eventually(lambda: daemon.reconciled, within=30)
            people.disable(wave)
            await eventually(lambda: len(http.got) >= 2 and len(inbox.envelopes) >= 1, within=60)
            await eventually(lambda: _waiting(tmp_path / "state.db") == 3, within=30)
            await asyncio.sleep(1.5)  # several more checks: nothing else may go out
            metrics = (await fetch("GET", daemon.url + "/metrics")).text
        async with running_daemon(settings) as daemon:  # a restart: still held, still told
            await eventually(lambda: daemon.reconciled, within=30)
            await asyncio.sleep(1.5)

        hold = read_hold(tmp_path / "state.db")
        assert hold is not None
        (mail,) = inbox.mails
        assert mail["Subject"].startswith("[offboard] deprovisioning is on hold")
        assert 'offboard hold release --reason "..."' in str(mail.get_payload())
        assert sorted(r.path for r in http.got) == ["/signed", "/slack/T1/B2/xyz"]
        signed = http.on("/signed")[0]
        stamp = signed.headers["x-offboard-timestamp"]
        mac = hmac.new(SIGNING_KEY.encode(), stamp.encode() + b"." + signed.body, hashlib.sha256)
        assert signed.headers["x-offboard-signature"] == "sha256=" + mac.hexdigest()
        assert json.loads(signed.body)["key"] == f"hold:deprovisioning:{hold.id}"
        everything = b"".join([e.original_content or b"" for e in inbox.envelopes]
                              + [r.body for r in http.got]).decode()  # fmt: skip
        for secret in (SMTP_PASSWORD, SIGNING_KEY, "T1/B2/xyz", SECRET, ORG_KEY, WEBHOOK_SECRET):
            assert secret not in everything
        for channel in ("email", "slack", "webhook"):
            assert f'offboard_notifications_sent_total{{channel="{channel}",kind="hold"}} 1.0' in (
                metrics
            )


def _waiting(store: Path) -> int:
    hold = read_hold(store)
    return len(hold.people) if hold is not None else 0
