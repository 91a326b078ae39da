"""The console's endpoints fuzzed with malformed input: never a 5xx, nothing acted on.

A world with a hold active (two people waiting) and everyone else linked. Query strings,
paths, form bodies (as a viewer, anonymous and as an operator whose forms are wrong in
every way but the happy one), raw bodies and odd content types, huge and odd values. After
every input: no 5xx, the journal has not grown, the hold is still active, links unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from offboard.cli.demo import person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world  # noqa: F401 - fixtures
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse
from tests.server.console.conftest import ADA, TOKEN, VIC, Console, console_of

pytestmark = pytest.mark.slow

PAGES = ["/", "/status.json", "/history", "/history.csv", "/history.json", "/person",
         "/act/outcome/x", "/licences"]  # fmt: skip
ACTS = ["/act/release-hold", "/act/link-set", "/act/link-remove", "/act/resolve", "/act/retry",
        "/act/override", "/act/cutoff", "/act/cutoff-lift"]  # fmt: skip
FIELDS = ["reason", "hold_id", "category", "identity_id", "account_id", "email", "action_key",
          "fingerprint", "guards", "csrf_token", "person", "rule", "status", "phase", "before",
          "run_id", "id", "confirm"]  # fmt: skip
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
odd = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "99999999999999999999999",
            "1e9",
            "%00",
            "\x00",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "' or 1=1 --",
            "%",
            "=cmd|' /C calc'!A0",
            "deprovisioning",
            "provisioning-creates",
            "max-deactivations",
            "deactivate:a:b",
            "a" * 8_000,
        ]
    ),
)
forms = st.dictionaries(st.sampled_from(FIELDS), odd, max_size=8)
queries = st.dictionaries(st.sampled_from(FIELDS), odd, max_size=4)
"""A query string stays under the 64 kB of a URL that HTTP clients send at all."""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def held_world(linked: World, runner: CliRunner) -> World:  # noqa: F811 - the fixture
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy.budget]\nhour_max_actions = 1\n", encoding="utf-8")
    for n in (3, 4, 5):
        linked.disable(person(n))
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output
    return linked


@pytest.fixture
async def held(held_world: World) -> AsyncIterator[Console]:
    async for made in console_of(held_world):
        yield made


class Unchanged:
    """What must not move: the journal, the hold, the links."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.journal = len(console.store.journal())
        self.hold = console.store.active_hold("deprovisioning")
        self.links = sorted((k.identity_id, k.account_id) for k in console.store.links())
        self.inputs = 0
        assert self.hold is not None

    def check(self, response: httpx.Response) -> None:
        self.inputs += 1
        assert response.status_code < 500, response.text[:500]
        store = self.console.store
        assert len(store.journal()) == self.journal
        assert store.active_hold("deprovisioning") == self.hold
        assert sorted((k.identity_id, k.account_id) for k in store.links()) == self.links


def not_happy(path: str, form: dict[str, str], unchanged: Unchanged) -> dict[str, str]:
    """The operator's form, made wrong where it could otherwise act for real."""
    hold = unchanged.hold
    assert hold is not None
    if path == "/act/release-hold" and form.get("hold_id", "").strip() == str(hold.id):
        form["hold_id"] = str(hold.id + 1)
    if path in ("/act/cutoff", "/act/cutoff-lift"):
        form["person"] = "not-" + form.get("person", "")  # nobody: refused before any write
    if path == "/act/override":
        form["fingerprint"] = "not-" + form.get("fingerprint", "")
        form.pop("guards", None)  # refused before any plan is made: fast
    return form


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(path=st.sampled_from(PAGES), query=queries, extra=st.lists(text, max_size=3))
async def test_pages_with_malformed_queries_and_paths(
    held: Console, path: str, query: dict[str, str], extra: list[str]
) -> None:
    unchanged = Unchanged(held)
    # An empty part would make "/" + "/" a scheme-relative URL, which httpx refuses to send.
    suffix = "".join("/" + (quote(part, safe="") or "%20") for part in extra)
    async with held.client(VIC) as client:
        unchanged.check(await client.get(path, params=query))
        unchanged.check(await client.get(path + suffix, params=query))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(path=st.sampled_from(ACTS), form=forms, who=st.sampled_from(["viewer", "nobody", "ada"]))
async def test_acts_with_malformed_forms_act_on_nothing(
    held: Console, path: str, form: dict[str, str], who: str
) -> None:
    unchanged = Unchanged(held)
    user = {"viewer": VIC, "nobody": None, "ada": ADA}[who]
    if user is ADA:
        form = not_happy(path, {**form, "csrf_token": TOKEN}, unchanged)
    async with held.client(user) as client:
        response = await client.post(path, data=form)
        unchanged.check(response)
        if user is not ADA:  # the login refuses: 401 without a session, 403 for a viewer
            assert response.status_code == (401 if user is None else 403)
        elif response.status_code == 303:
            unchanged.check(await client.get(response.headers["location"]))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(path=st.sampled_from(ACTS), body=st.binary(max_size=3000),
       kind=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                             "application/json", "text/plain", ""]))  # fmt: skip
async def test_acts_with_raw_bodies(held: Console, path: str, body: bytes, kind: str) -> None:
    unchanged = Unchanged(held)
    headers = {"content-type": kind} if kind else {}
    async with held.client(ADA) as client:
        unchanged.check(await client.post(path, content=body, headers=headers))
        huge_body = f"csrf_token={TOKEN}&reason=x&".encode() + b"a" * 200_000
        huge = await client.post(path, content=huge_body, headers=headers)
        unchanged.check(huge)
        # Only an urlencoded form reaches the console (which refuses the size); the login
        # refuses any other body for want of a CSRF token.
        form = kind == "application/x-www-form-urlencoded"
        assert huge.status_code == (400 if form else 403)
