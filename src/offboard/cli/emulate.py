"""`offboard emulate keycloak|atlassian|both`: the emulators as local servers, and a config.

Seeded with the demo organisation unless ``--seed FILE`` is given: a Keycloak realm-import
file, an Atlassian fixture, or for ``both`` an object ``{"keycloak": ..., "atlassian": ...}``.
Prints a ready offboard.toml pointing at them (emulator keys, not real secrets).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from offboard.cli.demo import PEOPLE
from offboard.cli.errors import FailedError

LOOPBACK = "127.0.0.1"

if TYPE_CHECKING:
    from offboard_emulators.atlassian import AtlassianState
    from offboard_emulators.keycloak.emulator import EmulatorState


class Which(StrEnum):
    KEYCLOAK = "keycloak"
    ATLASSIAN = "atlassian"
    BOTH = "both"


def load_seeds(which: Which, seed_file: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Keycloak realm, Atlassian fixture): from the file, else the demo organisation's."""
    from offboard.cli.demo import atlassian_fixture, keycloak_seed

    if seed_file is None:
        return keycloak_seed(), atlassian_fixture()
    try:
        data = json.loads(seed_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FailedError(f"cannot read the seed {seed_file}: {exc}") from None
    if not isinstance(data, dict):
        raise FailedError(f"{seed_file}: a seed is a JSON object")
    if which is Which.BOTH:
        if not {"keycloak", "atlassian"} <= data.keys():
            raise FailedError(f"{seed_file}: for both, give {{'keycloak': ..., 'atlassian': ...}}")
        return data["keycloak"], data["atlassian"]
    empty: dict[str, Any] = {}
    return (data, empty) if which is Which.KEYCLOAK else (empty, data)


def _states(
    seeds: tuple[dict[str, Any], dict[str, Any]], demo: bool, people: int
) -> tuple[EmulatorState, AtlassianState]:
    from offboard.cli.demo import build_emulators
    from offboard_emulators.atlassian import AtlassianState, seed
    from offboard_emulators.keycloak.emulator import EmulatorState

    if demo:
        return build_emulators(people)
    keycloak = EmulatorState.from_seed_json(seeds[0] or {"realm": "offboard-test"})
    atlassian = AtlassianState()
    if seeds[1]:
        seed(atlassian, seeds[1])
    return keycloak, atlassian


@dataclass
class Served:
    """The running emulators: base URLs by name, and their states (tests change them)."""

    urls: dict[str, str]
    keycloak: EmulatorState
    atlassian: AtlassianState


@contextmanager
def serving(
    which: Which, port: int, seed_file: Path | None = None, people: int = PEOPLE
) -> Iterator[Served]:
    """Serve the chosen emulators on loopback until the context exits."""
    from offboard_emulators.atlassian import create_app as atlassian_app
    from offboard_emulators.common.server import serve_in_thread
    from offboard_emulators.keycloak.app import create_app as keycloak_app

    seeds = load_seeds(which, seed_file)
    keycloak, atlassian = _states(seeds, seed_file is None, people)
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        if which in (Which.KEYCLOAK, Which.BOTH):
            app = keycloak_app(keycloak)
            urls["keycloak"] = stack.enter_context(serve_in_thread(app, port=port))
        if which in (Which.ATLASSIAN, Which.BOTH):
            at_port = port + 1 if which is Which.BOTH and port else port
            served = atlassian_app(atlassian)
            urls["atlassian"] = stack.enter_context(serve_in_thread(served, port=at_port))
        yield Served(urls, keycloak, atlassian)


def ready_config(
    urls: dict[str, str], seeds: tuple[dict[str, Any], dict[str, Any]], *, demo: bool = False
) -> str:
    """An offboard.toml for the emulators being served (what their seeds define).

    ``demo``: the seeds are the demo organisation's, so the demo's scope group and listed
    domains are written too, and a plan against them reads like ``offboard demo``'s.
    """
    from offboard.cli.config_docs import toml_value
    from offboard.cli.demo import DOMAIN, PARTNER, STAFF

    realm, fixture = seeds
    lines = ["# offboard configuration for the local emulators (emulator keys, not secrets)"]
    if "keycloak" in urls:
        client: dict[str, Any] = next((c for c in realm.get("clients", []) if c.get("secret")), {})
        lines += ["", "[keycloak]", f"base_url = {toml_value(urls['keycloak'])}",
                  f"realm = {toml_value(realm.get('realm', 'offboard-test'))}",
                  f"client_id = {toml_value(client.get('clientId', 'offboard'))}",
                  f"client_secret = {toml_value(client.get('secret', ''))}"]  # fmt: skip
        if demo:
            lines.append(f"scope_groups = {toml_value([STAFF])}")
    if "atlassian" in urls:
        org = (fixture.get("orgs") or [{}])[0]
        lines += ["", "[atlassian]", f"base_url = {toml_value(urls['atlassian'])}",
                  f"org_id = {toml_value(org.get('id', ''))}"]  # fmt: skip
        lines += _atlassian_keys(org)
    if demo:
        lines += ["", "[policy]", f"domains = {toml_value([DOMAIN, PARTNER])}"]
    lines += ["", "[store]", 'path = "offboard-emulated.sqlite3"']
    return "\n".join(lines) + "\n"


def _atlassian_keys(org: dict[str, Any]) -> list[str]:
    from offboard.cli.config_docs import toml_value

    lines = []
    keys = org.get("api_keys") or [{}]
    lines.append(f"api_key = {toml_value(keys[0].get('secret', ''))}")
    directories = org.get("directories") or []
    if directories:
        lines.append(f"directory_id = {toml_value(directories[0]['id'])}")
    scim = next((d for d in org.get("scim_directories", []) if "api_key" in d), None)
    if scim is not None:
        lines.append(f"scim_directory_id = {toml_value(scim['id'])}")
        lines.append(f"scim_api_key = {toml_value(scim['api_key']['secret'])}")
    return lines


def emulate(
    which: Annotated[Which, typer.Argument(help="keycloak, atlassian or both.")] = Which.BOTH,
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Port (Keycloak's for both; Atlassian gets port+1, so at most 65534). "
            "0: any free.",
        ),
    ] = 8180,
    seed_file: Annotated[
        Path | None, typer.Option("--seed", help="Seed JSON (default: the demo organisation).")
    ] = None,
) -> None:
    """Run the bundled emulators on loopback and print a configuration pointing at them.

    Without --seed they hold the demo organisation (200+ people, every kind of case).
    Save the printed TOML as offboard.toml and try `offboard plan`, `offboard apply` or
    `offboard run` against them. Stop with Ctrl-C.

    Example: offboard emulate both --port 8180 > offboard.toml
    """
    from offboard.cli.demo import DOMAIN, person
    from offboard.cli.emulate_leave import hint

    _check_ports(which, port)
    seeds = load_seeds(which, seed_file)
    with serving(which, port, seed_file) as served:
        typer.echo(ready_config(served.urls, seeds, demo=seed_file is None), nl=False)
        sys.stdout.flush()
        if seed_file is None and "keycloak" in served.urls:
            typer.echo(hint(f"{person(3)}@{DOMAIN}"), err=True)
        typer.echo("serving; Ctrl-C stops", err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)


def _check_ports(which: Which, port: int) -> None:
    """A usage error for a port past the range, one line for a port already taken."""
    if port == 0:
        return
    wanted = [port, port + 1] if which is Which.BOTH else [port]
    if wanted[-1] > 65535:
        raise typer.BadParameter(
            f"{port} leaves no port for Atlassian (it gets port+1): pick 1..65534, or 0 for "
            "any free ports",
            param_hint="'--port'",
        )
    for number in wanted:
        if not _free(number):
            raise FailedError(
                f"port {number} is in use on {LOOPBACK}: stop the other emulator or pass "
                "--port (0 picks free ports)"
            )


def _free(port: int) -> bool:
    """Whether the server could bind ``port`` now (same SO_REUSEADDR as uvicorn's)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def register(app: typer.Typer) -> None:
    """Add the `emulate` command to the root app."""
    app.command("emulate")(emulate)
