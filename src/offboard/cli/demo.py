"""`offboard demo`: the whole job against both emulators, in-process, in a few seconds.

Day 1 links a seeded organisation of 200+ people (offboard looks after the members of
/staff, on the org's verified domain and a partner domain it lists); day 2 changes Keycloak
in every way that matters (disabled, deleted, removed from /staff, locked out, protected
admin, SCIM-linked, Google-synced, unmanaged partner account, outside the listed domains,
changed email, shared email, never linked); offboard plans, applies, reads back and journals.
Day 3 runs the daily licence check: the report of seats, one person unused for months
warned (the mail lands in a temporary outbox), and a day-2 leaver's API tokens revoked.
This module (with `emulate`) is the only one allowed to import the emulators; it seeds them
through their builder APIs.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind

if TYPE_CHECKING:
    from rich.console import Console

    from offboard.adapters.mail import OutboxNotifier
    from offboard.cli.flows import Wired
    from offboard.settings import Settings
    from offboard_emulators.atlassian import AtlassianState
    from offboard_emulators.keycloak.emulator import EmulatorState


REALM, DOMAIN, ORG, DIRECTORY, SCIM = "acme", "acme.example", "acme-org", "acme-dir", "acme-scim"
# Listed in policy.domains but not verified by the org: its accounts are unmanaged.
PARTNER = "partner.example"
STAFF = "/staff"  # the group scope: only its direct members are offboard's to look after
CLIENT_SECRET, ORG_KEY, SCIM_KEY = "demo-client-secret", "demo-org-key", "demo-scim-key"
PEOPLE = 200
ROLES = ["view-users", "query-users", "query-groups", "view-events", "view-realm"]
# An emulator-only admin client that may change users, so that `offboard emulate-leave`
# (or curl) can make someone leave: offboard's own client stays read-only.
ADMIN_CLIENT, ADMIN_SECRET = "emulator-admin", "emulator-admin-secret"
ADMIN_ROLES = ["view-users", "query-users", "manage-users"]
# Named people: (Keycloak username, email, Atlassian account extras); None = no Atlassian.
NAMED: list[tuple[str, str | None, dict[str, Any] | None]] = [
    ("it-admin", f"it-admin@{DOMAIN}", {"platform_roles": ["atlassian/org-admin"]}),
    ("sam.scim", f"sam.scim@{DOMAIN}", {"scim": {"directory": SCIM}}),
    ("gina.google", f"gina.google@{DOMAIN}", {"management_source": "google"}),
    ("una.partner", f"una@{PARTNER}", {}),
    ("olga.outside", "olga@elsewhere.example", {}),
    ("shared.one", f"shared@{DOMAIN}", {}),
    ("shared.two", f"shared@{DOMAIN}", None),
    (None, f"contractor@{DOMAIN}", {}),  # type: ignore[list-item]
    (None, f"offboard-bot@{DOMAIN}", {"account_id": "bot-account"}),  # type: ignore[list-item]
]


def person(n: int) -> str:
    return f"person-{n:06d}"


def keycloak_seed() -> dict[str, Any]:
    """The realm representation: the offboard client, its roles, /staff, the named people
    (members of /staff; the bulk people join it in `build_emulators`)."""
    users: list[dict[str, Any]] = [
        {"username": "service-account-offboard", "enabled": True,
         "serviceAccountClientId": "offboard", "clientRoles": {"realm-management": ROLES}},
        {"username": f"service-account-{ADMIN_CLIENT}", "enabled": True,
         "serviceAccountClientId": ADMIN_CLIENT,
         "clientRoles": {"realm-management": ADMIN_ROLES}},
    ]  # fmt: skip
    users += [
        {"username": name, "email": email, "enabled": True, "groups": [STAFF]}
        for name, email, _ in NAMED
        if name is not None
    ]
    return {
        "realm": REALM, "adminEventsEnabled": True, "adminEventsDetailsEnabled": True,
        "eventsEnabled": True, "bruteForceProtected": True,
        "clients": [{"clientId": "offboard", "secret": CLIENT_SECRET,
                     "serviceAccountsEnabled": True},
                    {"clientId": ADMIN_CLIENT, "secret": ADMIN_SECRET,
                     "serviceAccountsEnabled": True}],
        "groups": [{"name": STAFF.strip("/")}],
        "users": users,
    }  # fmt: skip


def atlassian_fixture() -> dict[str, Any]:
    """The org: one verified domain (not the partner's), a directory, a SCIM directory, keys,
    named accounts."""
    accounts = [
        {"account_id": f"named-{i:02d}", "email": email, "directories": {DIRECTORY: "active"},
         **extra}
        for i, (_, email, extra) in enumerate(NAMED)
        if extra is not None and email is not None
    ]  # fmt: skip
    return {"orgs": [{
        "id": ORG, "name": "Acme",
        "domains": [{"id": "dom-1", "name": DOMAIN}],
        "directories": [{"id": DIRECTORY, "name": "Acme staff"}],
        "scim_directories": [{"id": SCIM, "api_key": {"id": "scim-key", "secret": SCIM_KEY}}],
        "api_keys": [{"id": "org-key", "secret": ORG_KEY, "owner_account_id": "bot-account"}],
        "accounts": accounts,
    }]}  # fmt: skip


def build_emulators(people: int = PEOPLE) -> tuple[EmulatorState, AtlassianState]:
    """Both emulators seeded with the same organisation (``people`` plus the named cases)."""
    from offboard_emulators.atlassian import AtlassianState, generate_accounts, seed
    from offboard_emulators.keycloak.emulator import EmulatorState
    from offboard_emulators.keycloak.seed import add_bulk_users

    keycloak = EmulatorState.from_seed_json(keycloak_seed())
    realm = keycloak.realm
    add_bulk_users(realm, people, prefix="person", domain=DOMAIN)
    staff = realm.group_by_path(STAFF)
    assert staff is not None
    for n in range(people):
        bulk = realm.user_by_username(person(n))
        assert bulk is not None
        realm.set_membership(bulk.id, staff.id, member=True)
    atlassian = AtlassianState()
    seed(atlassian, atlassian_fixture())
    generate_accounts(
        atlassian, ORG, people, domain=DOMAIN, directory_id=DIRECTORY, prefix="person-"
    )
    _seed_use(atlassian)
    return keycloak, atlassian


INACTIVE, TOKEN_HOLDER = 16, 10
"""Person 16 stopped using Atlassian months ago; person 10 (who leaves on day 2) made tokens."""


def _seed_use(atlassian: AtlassianState) -> None:
    """Months of silence for one person, two API tokens for a leaver-to-be (when seeded)."""
    from offboard_emulators.atlassian.usage import add_token

    idle = atlassian.clock() - timedelta(days=120)
    quiet = atlassian.account_by_email(f"{person(INACTIVE)}@{DOMAIN}")
    holder = atlassian.account_by_email(f"{person(TOKEN_HOLDER)}@{DOMAIN}")
    if quiet is not None:
        quiet.last_active = idle
        for product in quiet.product_access:
            product.last_active = idle
    if holder is not None:
        add_token(atlassian, holder.account_id, "CI pipeline")
        add_token(atlassian, holder.account_id, "Personal script")


def demo_settings(base_url: str = "http://127.0.0.1", keycloak_url: str | None = None) -> Settings:
    """The configuration that points offboard at the emulators (no environment read)."""
    from offboard.settings import Settings

    return Settings.from_values({
        "keycloak": {"base_url": keycloak_url or base_url, "realm": REALM,
                     "client_id": "offboard", "client_secret": CLIENT_SECRET,
                     "scope_groups": [STAFF]},
        "atlassian": {"base_url": base_url, "org_id": ORG, "directory_id": DIRECTORY,
                      "api_key": ORG_KEY, "scim_directory_id": SCIM, "scim_api_key": SCIM_KEY},
        "policy": {"domains": [DOMAIN, PARTNER]},
        "licences": {"revoke_leaver_tokens": True, "prices": {"*": 8.6},
                     "inactivity": {"enabled": True, "admin_email": f"it-admin@{DOMAIN}"}},
        "provisioning": {"enabled": True, "group_prefixes": ["/teams"]},
    })  # fmt: skip


@dataclass
class DayTwo:
    """What changed in Keycloak overnight, in words, for the narration."""

    changes: list[str] = field(default_factory=list)


def change_keycloak(keycloak: EmulatorState) -> DayTwo:
    """Every kind of case the planner must get right, made in the Keycloak emulator."""
    from offboard_emulators.keycloak.login import LoginFailures

    realm, story = keycloak.realm, DayTwo()

    def user(username: str) -> Any:
        found = realm.user_by_username(username)
        assert found is not None
        return found

    def disable(username: str, why: str) -> None:
        user(username).enabled = False
        story.changes.append(f"{username}: disabled ({why})")

    disable(person(10), "left the company")
    realm.remove_user(user(person(11)).id)
    story.changes.append(f"{person(11)}: deleted from Keycloak")
    staff = realm.group_by_path(STAFF)
    assert staff is not None
    realm.set_membership(user(person(12)).id, staff.id, member=False)
    story.changes.append(
        f"{person(12)}: removed from {STAFF}, still enabled in Keycloak "
        f"(moved out of the group offboard looks after)"
    )
    now = realm.now_ms()
    realm.lockout_reports_disabled = True  # as Keycloak before 26.4 reports it
    keycloak.logins.failures[user(person(13)).id] = LoginFailures(
        num_failures=5, last_failure_ms=now, locked_until_ms=now + 900_000
    )
    story.changes.append(f"{person(13)}: locked out for 15 minutes after 5 wrong passwords")
    user(person(14)).email = f"p14.renamed@{DOMAIN}"
    story.changes.append(f"{person(14)}: email changed to p14.renamed@{DOMAIN}")
    disable("it-admin", "an org admin")
    disable("sam.scim", "account provisioned by Atlassian SCIM")
    disable("gina.google", "account synced from Google Workspace")
    disable("una.partner", f"a partner on {PARTNER}: listed in policy.domains, not verified")
    disable("olga.outside", "email on a domain neither verified nor listed")
    disable("shared.one", "shares an email with shared.two")
    realm._listing = None  # the emulator caches its sorted listing
    return story


WHY: dict[Rule, str] = {
    Rule.IDENTITY_DISABLED: "disabled in Keycloak, and a fresh read confirmed it",
    Rule.IDENTITY_DELETED: "deleted from Keycloak (a read by id answered 404)",
    Rule.IDENTITY_LEFT_SCOPE: f"still enabled in Keycloak, but no longer a member of {STAFF}, "
    "the group offboard looks after",
    Rule.EMAIL_CHANGED: "the email changed in Keycloak",
}
WHAT: dict[ActionKind, str] = {
    ActionKind.DEACTIVATE: "a managed account (on the org's verified domain), so offboard "
    "deactivates it",
    ActionKind.SCIM_DEACTIVATE: "the account is provisioned by Atlassian SCIM, so offboard "
    "switches it off through SCIM (active=false)",
    ActionKind.RELINK: "offboard only updates its pairing; nothing is switched off",
}
UNMANAGED = (
    f"an unmanaged account: {PARTNER} is listed in policy.domains but the org never verified "
    "it, so Atlassian will not let the org deactivate it; offboard suspends its access in the "
    "org directory instead"
)
GOOGLE = (
    "the account is synced from Google Workspace, which Atlassian will not let the org "
    "deactivate; offboard suspends its access in the org directory instead"
)


def action_words(action: Action) -> str:
    """One planned action in plain words: why the person counts as gone, and what is done."""
    why = WHY.get(action.rule, str(action.rule))
    if action.kind is ActionKind.SUSPEND:
        partner = (action.email or "").endswith("@" + PARTNER)
        return f"{why}; {UNMANAGED if partner else GOOGLE}."
    return f"{why}; {WHAT.get(action.kind, str(action.kind))}."


async def run_demo(console: Console, people: int = PEOPLE) -> Wired:
    """Day 1 (link), day 2 (changes), plan, apply, read-back, journal."""
    import httpx

    from offboard.adapters.mail import OutboxNotifier
    from offboard.cli.demo_provisioning import provisioning_days
    from offboard.cli.wiring import connect
    from offboard.store import open_store
    from offboard_emulators.atlassian import create_app as atlassian_app
    from offboard_emulators.keycloak.app import create_app as keycloak_app

    keycloak, atlassian = build_emulators(people)
    transports = {
        "keycloak_transport": httpx.ASGITransport(app=keycloak_app(keycloak)),
        "atlassian_transport": httpx.ASGITransport(app=atlassian_app(atlassian)),
    }
    with tempfile.TemporaryDirectory(prefix="offboard-demo-") as folder:
        store = open_store(Path(folder) / "demo.sqlite3")
        try:
            async with connect(demo_settings(), store=store, reread_delay=0, **transports) as w:
                await _day_one(w, console, people)
                story = change_keycloak(keycloak)
                await _day_two(w, console, story)
                await _day_three(w, console, OutboxNotifier(Path(folder) / "outbox"))
                if await provisioning_days(keycloak, w, demo_settings(), console, DOMAIN):
                    console.print("every SCIM write done and read back", style="bold")
                return w
        finally:
            store.close()


async def _day_one(wired: Wired, console: Console, people: int) -> None:
    from rich.rule import Rule as Heading

    from offboard.cli.flows import apply_in_run, fresh_plan
    from offboard.cli.render import explain_cases

    console.print(Heading(f"Day 1: {people + len(NAMED)} people in Keycloak and Atlassian"))
    console.print(
        f"offboard looks after the direct members of the Keycloak group {STAFF}, and acts on "
        f"accounts on {DOMAIN} (verified by the org) and {PARTNER} (a partner's domain, listed "
        "in policy.domains but not verified: its accounts are unmanaged).",
        markup=False,
    )
    first = (await fresh_plan(wired, console)).plan
    linked = sum(1 for a in first.actions if a.kind == "link")
    console.print(
        f"offboard pairs Keycloak users with Atlassian accounts by email: {linked} links."
    )
    explain_cases(first, console)
    await apply_in_run(wired, first, console, kind="demo-link")


async def _day_two(wired: Wired, console: Console, story: DayTwo) -> None:
    from rich.rule import Rule as Heading
    from rich.text import Text

    from offboard.cli.flows import apply_in_run, fresh_plan
    from offboard.cli.journal import journal_table
    from offboard.cli.render import apply_table, explain_cases, guard_lines, plan_table

    console.print(Heading("Day 2: what changed in Keycloak"))
    for line in story.changes:
        console.print(f"  • {line}", markup=False)
    console.print(Heading("The plan"))
    made = (await fresh_plan(wired, console)).plan
    console.print(plan_table(made, include_skipped=True, width=console.width))
    console.print(guard_lines(made))
    console.print(Heading("What offboard will do, and why"))
    for action in made.actions:
        console.print(
            f"  • {action.email or action.account_id}: {action_words(action)}", markup=False
        )
    console.print(Heading("Why some people are skipped or blocked"))
    explain_cases(made, console)
    console.print(Heading("Apply, with a read-back of every account"))
    report = await apply_in_run(wired, made, console, kind="demo-apply")
    console.print(apply_table(report))
    console.print(Heading("The journal of that run"))
    console.print(journal_table(wired.store.journal(run_id=report.run_id), width=console.width))
    verdict = "every action done and read back" if report.all_done else "some actions not done"
    console.print(Text.assemble((verdict, "bold"), "; nothing outside loopback was contacted."))


async def _day_three(wired: Wired, console: Console, outbox: OutboxNotifier) -> None:
    from rich.rule import Rule as Heading

    from offboard.cli.licence_wiring import licence_config
    from offboard.cli.render import apply_table, plan_table
    from offboard.cli.report import show, usage_of
    from offboard.service.licence_pass import licence_pass

    console.print(Heading("Day 3: the daily licence check"))
    settings = demo_settings()
    result = await licence_pass(
        wired.source, wired.directory, usage_of(wired.directory), wired.store, outbox,
        wired.clock, licence_config(settings),
    )  # fmt: skip
    show(result.report, console)
    console.print(Heading("The licence steps, each with its rule"))
    console.print(plan_table(result.plan, include_skipped=False, width=console.width))
    if result.applied is not None:
        console.print(apply_table(result.applied))
        notes = wired.store.journal(run_id=result.applied.run_id)
        for record in notes:
            if record.phase.value == "note" and ":token:" in record.action_key:
                console.print(f"  • journaled: {record.detail}", markup=False)
    for path in outbox.messages():
        mail = message_from_bytes(path.read_bytes())
        console.print(
            f"  • warning mail to {mail['To']} (copy to {mail['Cc']}): {mail['Subject']}",
            markup=False,
        )


def demo(
    people: Annotated[int, typer.Option(min=20, max=100_000, help="Bulk people to seed.")] = PEOPLE,
) -> None:
    """Run the whole job against bundled emulators: no configuration, nothing beyond loopback.

    Seeds a Keycloak realm and an Atlassian org with the same people, links them (day 1),
    changes Keycloak in every way that matters (day 2), then plans, explains every skipped
    and blocked case, applies, reads back and shows the journal; day 3 runs the licence
    check (report, one inactive person warned, a leaver's API tokens revoked). Uses a
    temporary store.

    Example: offboard demo
    """
    from offboard.cli.fitting import plain_console

    asyncio.run(run_demo(plain_console(), people))


def register(app: typer.Typer) -> None:
    """Add the `demo` command to the root app."""
    app.command("demo")(demo)
