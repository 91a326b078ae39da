"""An emergency cut-off handed to the daemon while a long full pass runs.

At Atlassian's default rate limit (10 requests per second) a full pass with hundreds of
deactivations runs for minutes. This measures how long an operator's ``offboard cutoff now``
waits then: from the request queued in the store (as the command queues it) to its outcome,
against the time the pass still had to run (which the act used to wait for).

The world: ``--people`` people on the Keycloak emulator, each with a managed Atlassian
account; the daemon's start-up reconciliation links everyone. The daemon is stopped,
``--leavers`` of them are disabled without admin events, and the daemon started again: its
start-up full pass deactivates them at the rate limit. Once that pass has sent its first
deactivation, a cut-off of someone still employed is queued, and the figures are taken.

``--scim``: the pass is SCIM-heavy instead. Provisioning is on with an identity-provider SCIM
directory, nobody leaves, and the daemon's first full pass links everyone then creates a
SCIM user for each (a first SCIM sync of ``--people`` joiners, at the same rate limit per
key). Once it has sent its first SCIM create, a cut-off of the person it would create last is
queued; the figures compare its wait with what was left of the SCIM part.

    .venv/bin/python benchmarks/bench_cutoff_during_pass.py --people 300 --leavers 200
    .venv/bin/python benchmarks/bench_cutoff_during_pass.py --scim --people 300
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # the e2e helpers live in tests/

from tests.e2e.harness import atlassian_emulator, daemon_settings, eventually, running_daemon
from tests.e2e.provisioning_rig import SCIM_DIRECTORY, SCIM_KEY, scim_tenant
from tests.e2e.waves import EmulatedPeople

from _wave_latency import REALM_FILE, SECRET, daemon_store
from offboard.core.journal import Phase
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.core.policy import ActionKind
from offboard.store import SqlStore
from offboard.store.operator_requests import StoredRequests
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState

CREATE = ActionKind.SCIM_CREATE_USER.value


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--leavers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="Atlassian requests/s")
    parser.add_argument("--scim", action="store_true", help="a first SCIM sync as the pass")
    return parser.parse_args()


async def measure(options: argparse.Namespace) -> dict[str, float]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with (
        serve_in_thread(create_app(state)) as url,
        atlassian_emulator(options.rate) as tenant,
        tempfile.TemporaryDirectory() as scratch,
    ):
        people = EmulatedPeople(state, tenant)
        people.add(options.people)
        settings = daemon_settings(
            keycloak_url=url, realm="offboard-test", client_id="offboard", client_secret=SECRET,
            tenant=tenant, store=Path(scratch) / "state.db",
            policy={
                "budget": {"hour_max_actions": 10**6, "day_max_actions": 10**6,
                           "hour_max_percent": 100, "day_max_percent": 100},
                "thresholds": {"max_deactivations": 10**6, "max_deactivation_percent": 100,
                               "max_source_drop_percent": 100},
            },
            extra={"atlassian": {"rate_limit_per_second": options.rate}},
        )  # fmt: skip
        async with running_daemon(settings) as daemon:  # links everyone
            await eventually(lambda: daemon.reconciled, within=600)
        leavers, employed = people.ids[: options.leavers], people.ids[options.leavers :]
        people.disable(leavers, with_events=False)  # found by the next full pass
        async with running_daemon(settings) as daemon:
            store = daemon_store(daemon)
            start = time.monotonic()
            await eventually(lambda: _intents(store) > 0, within=600)
            queued_at = time.monotonic()
            chosen = people.state.realm.users[employed[0]].email or ""
            requests = StoredRequests(store.engine)
            request = requests.queue(
                RequestKind.CUTOFF, chosen, actor="bench", reason="emergency", overrides=(),
                at=datetime.now(UTC),
            )  # fmt: skip
            await eventually(lambda: _finished(requests, request.id), within=600, step=0.1)
            done_at = time.monotonic()
            finished = requests.get(request.id)
            assert finished is not None
            assert finished.state is RequestState.DONE, finished
            sent_then = _intents(store)
            await eventually(lambda: len(people.inactive(leavers)) == len(leavers), within=3600)
            pass_done_at = time.monotonic()
            assert not people.inactive(employed[1:]), "someone still employed was deactivated"
    return {
        "pass_s": round(pass_done_at - start, 1),
        "cutoff_s": round(done_at - queued_at, 2),
        "pass_left_at_request_s": round(pass_done_at - queued_at, 1),
        "pass_deactivations_before_cutoff_done": sent_then,
    }


async def measure_scim(options: argparse.Namespace) -> dict[str, float]:
    """A cut-off during the daemon's first SCIM sync of ``--people`` joiners."""
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with (
        serve_in_thread(create_app(state)) as url,
        scim_tenant(options.rate) as tenant,
        tempfile.TemporaryDirectory() as scratch,
    ):
        people = EmulatedPeople(state, tenant)
        people.add(options.people)
        settings = daemon_settings(
            keycloak_url=url, realm="offboard-test", client_id="offboard", client_secret=SECRET,
            tenant=tenant, store=Path(scratch) / "state.db",
            extra={
                "atlassian": {"rate_limit_per_second": options.rate,
                              "scim_directory_id": SCIM_DIRECTORY, "scim_api_key": SCIM_KEY},
                "provisioning": {"enabled": True, "max_creates": options.people + 50},
            },
        )  # fmt: skip
        chosen = max(people.ids)  # joiners are created in order of their Keycloak id
        async with running_daemon(settings) as daemon:
            store = daemon_store(daemon)
            start = time.monotonic()
            await eventually(lambda: _intents(store, CREATE) > 0, within=600)
            queued_at = time.monotonic()
            requests = StoredRequests(store.engine)
            request = requests.queue(
                RequestKind.CUTOFF, state.realm.users[chosen].email or "", actor="bench",
                reason="emergency", overrides=(), at=datetime.now(UTC),
            )  # fmt: skip
            await eventually(lambda: _finished(requests, request.id), within=3600, step=0.1)
            done_at = time.monotonic()
            finished = requests.get(request.id)
            assert finished is not None
            assert finished.state is RequestState.DONE, finished
            sent_then = _intents(store, CREATE)
            await eventually(lambda: _outcomes(store, CREATE) >= options.people, within=3600)
            pass_done_at = time.monotonic()
            assert tenant.status(people.accounts[chosen]) == "inactive"
            assert not people.inactive([i for i in people.ids if i != chosen])
    return {
        "pass_s": round(pass_done_at - start, 1),
        "cutoff_s": round(done_at - queued_at, 2),
        "pass_left_at_request_s": round(pass_done_at - queued_at, 1),
        "pass_deactivations_before_cutoff_done": sent_then,
    }


def _intents(store: SqlStore, kind: str = "deactivate") -> int:
    return sum(1 for r in store.journal() if r.phase is Phase.INTENT and r.kind == kind)


def _outcomes(store: SqlStore, kind: str) -> int:
    return sum(1 for r in store.journal() if r.phase is Phase.OUTCOME and r.kind == kind)


def _finished(requests: StoredRequests, request_id: int) -> bool:
    found = requests.get(request_id)
    return found is not None and found.state.finished


def main() -> None:
    options = parse()
    figures = asyncio.run(measure_scim(options) if options.scim else measure(options))
    what, total = (
        ("SCIM creates", options.people) if options.scim else ("deactivations", options.leavers)
    )
    if options.scim:
        print(f"{options.people} joiners in the running full pass's first SCIM sync, "
              f"Atlassian at {options.rate:g} requests/s per key")  # fmt: skip
    else:
        print(f"{options.people} people, {options.leavers} leavers in the running full pass, "
              f"Atlassian at {options.rate:g} requests/s")  # fmt: skip
    rows = [
        (f"full pass (to its last {what[:-1]})", f"{figures['pass_s']:.1f} s"),
        ("cut-off handed mid-pass: queued → done", f"{figures['cutoff_s']:.2f} s"),
        (
            "what was left of the pass when it was queued",
            f"{figures['pass_left_at_request_s']:.1f} s (the wait before this change)",
        ),
        (
            f"the pass's {what} sent by then",
            f"{figures['pass_deactivations_before_cutoff_done']} of {total}",
        ),
    ]
    for label, value in rows:
        print(f"  {label:<46}{value}")


if __name__ == "__main__":
    main()
