"""`offboard config init|check|show|reference`: write, probe and print the configuration."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer

from offboard.cli.errors import FailedError, stderr
from offboard.cli.state import state_of

if TYPE_CHECKING:
    from offboard.settings import Settings


REDACTED = "**********"

config_app = typer.Typer(
    help="Write, check and show the configuration.", no_args_is_help=True, rich_markup_mode=None
)


@config_app.command("init")
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example configuration (to --config, else ./offboard.toml).

    Fill in the Keycloak URL, realm and client, the Atlassian org id, and point the
    *_file keys at the secrets; then run `offboard config check`.

    Example: offboard --config /etc/offboard/offboard.toml config init
    """
    from offboard.cli.config_docs import example_toml
    from offboard.settings import config_path

    path = config_path(state_of(ctx).config)
    if path.exists() and not force:
        raise FailedError(f"{path} exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example_toml(), encoding="utf-8")
    except OSError as exc:
        raise FailedError(f"cannot write {path}: {exc.strerror}") from None
    stderr.print(f"wrote {path}; edit it, then run `offboard config check`", markup=False)


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective configuration (file + environment + defaults), secrets redacted.

    Example: OFFBOARD_POLICY__GRACE_PERIOD=1h offboard config show
    """
    typer.echo(effective_toml(state_of(ctx).settings()), nl=False)


@config_app.command("reference")
def reference() -> None:
    """Print the configuration reference (Markdown) generated from the settings models.

    Example: offboard config reference > docs/reference/configuration.md
    """
    from offboard.cli.config_docs import reference_markdown

    typer.echo(reference_markdown(), nl=False)


@config_app.command("check")
def check(
    ctx: typer.Context,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also run every read the adapters use and report each assumption (read-only).",
        ),
    ] = False,
) -> None:
    """Probe Keycloak, Atlassian and the store; one OK/FAIL line per check, with the fix.

    First says how each side is reached: directly, or through the proxy that HTTPS_PROXY
    names (host:port only; NO_PROXY and loopback go direct). Then checks reachability and
    credentials on both sides, the Keycloak service account's roles and the realm's
    admin-events settings, the Atlassian key's type and scope, the org and its verified
    domains, the SCIM directory key if set, and that the store opens at a supported version.
    Exits 1 when any check fails. WARN lines need attention (the API key's owner unknown, a
    key expiring within 30 days, a secret written in the file or in a file others may read)
    but do not fail.

    --deep also runs every read the adapters use against the configured tenant, read-only,
    and reports what each answer shows about offboard's assumptions (cursor form, roles on
    request, management sources, several directories, 415 without JSON, the retired v1
    calls, the key owner, SCIM links, Keycloak's event queries), each marked documented or
    inferred from field reports.

    Example: offboard --config /etc/offboard/offboard.toml config check
    """
    from rich.text import Text

    from offboard.cli.fitting import plain_console
    from offboard.cli.secret_checks import secret_checks
    from offboard.cli.wiring import run_checks

    settings = state_of(ctx).settings()
    results = asyncio.run(run_checks(settings, deep=deep))
    results.extend(secret_checks(state_of(ctx).config, settings))
    out = plain_console(highlight=False, soft_wrap=True)
    for result in results:
        mark, style = ("OK  ", "green") if result.ok else ("FAIL", "red")
        if result.ok and result.warning:
            mark, style = "WARN", "yellow"
        out.print(Text.assemble((mark, style), f" {result.name}: "), end="")
        out.print(result.detail, markup=False)
        if (not result.ok or result.warning) and result.fix:
            out.print("     fix: ", end="")
            out.print(result.fix, markup=False)
    failed = [r for r in results if not r.ok]
    if failed:
        raise FailedError(f"{len(failed)} of {len(results)} checks failed")
    out.print(f"all {len(results)} checks passed")


def effective_toml(settings: Settings) -> str:
    """The settings as TOML, every secret replaced by asterisks."""
    from pydantic import BaseModel, SecretStr

    from offboard.cli.config_docs import sections, toml_value
    from offboard.settings import Settings

    lines: list[str] = []
    for name, _section in sections(Settings):
        values = _values_at(settings, name)
        lines += ["", f"[{name}]"] if lines else [f"[{name}]"]
        for key, value in values.items():
            if isinstance(value, BaseModel):
                continue
            if value is None:
                lines.append(f"# {key} is unset")
            elif isinstance(value, SecretStr):
                lines.append(f'{key} = "{REDACTED}"')
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def _values_at(settings: Settings, dotted: str) -> dict[str, Any]:
    node: Any = settings
    for part in dotted.split("."):
        node = getattr(node, part)
    return {key: getattr(node, key) for key in type(node).model_fields}


def register(app: typer.Typer) -> None:
    """Add the `config` group to the root app."""
    app.add_typer(config_app, name="config")
