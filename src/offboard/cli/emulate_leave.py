"""`offboard emulate-leave EMAIL`: make someone leave the emulated Keycloak, with no code.

It talks to the running Keycloak emulator over its admin REST API, as an HR system or an
admin would, with the emulator-only admin client (offboard's own client stays read-only).
Then `offboard plan`, `apply` or the daemon can be watched doing the main job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from offboard.cli.errors import FailedError, stderr
from offboard.cli.state import state_of

if TYPE_CHECKING:
    import httpx

    from offboard.settings import Settings


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def emulate_leave(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's email in the emulated realm.")],
    back: Annotated[bool, typer.Option("--back", help="Enable them again instead.")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Delete them instead.")] = False,
) -> None:
    """Disable (or delete, or re-enable) a user in the Keycloak emulator of `offboard emulate`.

    Uses the emulator's admin client (emulator-admin / emulator-admin-secret) and the
    keycloak.base_url and realm of the configuration; refuses any non-loopback Keycloak.
    Then watch `offboard plan`, `offboard apply` or `offboard run` take the access away.

    Example: offboard --config offboard.toml emulate-leave person-000003@acme.example
    """
    import httpx

    if back and delete:
        # Each names the one change to make; with both, one would be ignored without a word.
        raise typer.BadParameter(
            "--back re-enables, --delete deletes: pass one of --back and --delete",
            param_hint="'--back' / '--delete'",
        )
    settings = state_of(ctx).settings()
    base, realm = settings.keycloak.base_url, settings.keycloak.realm
    if urlsplit(base).hostname not in _LOOPBACK:
        raise FailedError(f"{base} is not the local emulator: emulate-leave only talks to it")
    with httpx.Client(base_url=base, timeout=10.0) as client:
        token = _token(client, realm)
        headers = {"Authorization": f"Bearer {token}"}
        users = f"/admin/realms/{realm}/users"
        found = client.get(users, params={"email": email, "exact": "true"}, headers=headers)
        found.raise_for_status()
        if len(found.json()) != 1:
            raise FailedError(f"the emulator has {len(found.json())} users with the email {email}")
        user_id = found.json()[0]["id"]
        if delete:
            client.delete(f"{users}/{user_id}", headers=headers).raise_for_status()
        else:
            body = {"enabled": back}
            client.put(f"{users}/{user_id}", json=body, headers=headers).raise_for_status()
    done = "deleted" if delete else ("enabled again" if back else "disabled")
    stderr.print(f"{email} ({user_id}) {done} in realm {realm}; now try `offboard plan`",
                 markup=False)  # fmt: skip
    if not back and not _linked(settings, user_id):
        stderr.print(UNSEEN_LEAVER, markup=False)


UNSEEN_LEAVER = (
    "note: offboard has not linked this person to an Atlassian account yet (no run has seen "
    "them), so their leave counts as day-one backlog: left before offboard was watching, "
    "reported for a human and not acted on. To watch the main job, let offboard see everyone "
    "first: `offboard emulate-leave EMAIL --back`, `offboard apply --yes` (it records links "
    "only; nothing changes in Atlassian), then leave again. Or act on the backlog now with "
    "`offboard apply --adopt-backlog`."
)


def _linked(settings: Settings, user_id: str) -> bool:
    """Whether the configured store links this Keycloak user (no store yet: not linked)."""
    from offboard.cli.wiring import open_configured_store
    from offboard.ports import OffboardError

    try:
        store = open_configured_store(settings, read_only=True)
    except OffboardError:
        return False
    try:
        return bool(store.links(identity_ids=[user_id]))
    finally:
        store.close()


def _token(client: httpx.Client, realm: str) -> str:
    from offboard.cli.demo import ADMIN_CLIENT, ADMIN_SECRET

    form = {"grant_type": "client_credentials", "client_id": ADMIN_CLIENT,
            "client_secret": ADMIN_SECRET}  # fmt: skip
    answer = client.post(f"/realms/{realm}/protocol/openid-connect/token", data=form)
    if answer.status_code != 200:
        raise FailedError(
            f"the emulator refused its admin client (HTTP {answer.status_code}): was it "
            "started by `offboard emulate` without --seed?"
        )
    return str(answer.json()["access_token"])


def hint(email: str) -> str:
    """What `offboard emulate` prints (on stderr) beside the configuration."""
    from offboard.cli.demo import ADMIN_CLIENT, ADMIN_SECRET

    return (
        "To watch offboard do its job, let it see everyone once (it records who is who; "
        "nothing changes in Atlassian), make someone leave, then run `offboard plan`, "
        "`offboard apply` or `offboard run`:\n"
        "  offboard --config offboard.toml apply --yes\n"
        f"  offboard --config offboard.toml emulate-leave {email}\n"
        "  (--back enables them again, --delete deletes them; or call the Keycloak admin API "
        f"as client {ADMIN_CLIENT!r} with secret {ADMIN_SECRET!r}, emulator-only)"
    )


def register(app: typer.Typer) -> None:
    """Add the `emulate-leave` command to the root app."""
    app.command("emulate-leave")(emulate_leave)
