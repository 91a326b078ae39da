"""A real `plan` and `apply --yes` import only what they use (issue 18: start-up imports).

Each command runs in a fresh interpreter against the emulators on loopback, then lists which
of the modules a one-shot run does not need were imported anyway. Absence, not timing: the
figures come from ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.probing import ORDINARY_EXIT
from tests.cli.test_run_commands import World, linked, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.locked  # other releases of rich and structlog import other modules

NOT_FOR_A_RUN = (
    "alembic",  # only when the store's schema is not current
    "sqlalchemy.orm",  # the store speaks SQLAlchemy Core
    "offboard_emulators",
    "offboard.server",  # the daemon's listeners and metrics
    "prometheus_client",
    "uvicorn",
    "starlette",
    "scim2_models",  # only with a SCIM key
    "offboard.adapters.scim",
    "offboard.service.licence_pass",  # the licence check's own commands and the daemon
    "offboard.adapters.mail",
    "smtplib",
    "offboard.core.inactivity",  # the licence check's inactivity marks
    "rich.traceback",  # structlog's coloured tracebacks (offboard formats its own)
    "rich.pretty",
    "pygments",
    "rich.progress",  # bars only on a terminal
    "offboard.core.provisioning_model",  # provisioning's people and records (SCIM)
)


def _imported_by(served: World, *args: str) -> tuple[int, list[str], int, str]:
    """Run `offboard --config … ARGS` in a new interpreter: exit code, the modules of
    ``NOT_FOR_A_RUN`` it imported, how many TLS contexts it built, its output."""
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['offboard', '--config', {str(served.config)!r}, *{list(args)!r}]\n"
        "code = 0\n"
        f"{ORDINARY_EXIT}try:\n    runpy.run_module('offboard', run_name='__main__')\n"
        "except SystemExit as exit:\n    code = exit.code or 0\n"
        f"heavy = sorted(m for m in {NOT_FOR_A_RUN!r} if m in sys.modules)\n"
        "from offboard.adapters import trust\n"
        "from pydantic.plugin import _loader\n"  # the distributions' metadata were not read
        "assert _loader._plugins is None, 'pydantic searched for plugins'\n"
        "print('IMPORTED', code, len(trust._built), ','.join(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("IMPORTED "), done.stderr
    _, code, contexts, heavy = [*last.split(" "), ""][:4]
    return int(code), [m for m in heavy.split(",") if m], int(contexts), done.stdout + done.stderr


@pytest.mark.parametrize("args", [("plan",), ("apply", "--yes")])
def test_a_real_run_imports_only_what_it_uses(
    linked: World,  # noqa: F811
    runner: CliRunner,
    args: tuple[str, ...],
) -> None:
    config = linked.config.read_text(encoding="utf-8")
    no_scim = [line for line in config.splitlines() if not line.startswith("scim_")]
    linked.config.write_text("\n".join(no_scim) + "\n", encoding="utf-8")  # as bench_peer's
    leaver = person(10)
    linked.disable(leaver)
    code, heavy, contexts, output = _imported_by(linked, *args)
    expected = ExitCode.CHANGES if args == ("plan",) else ExitCode.OK
    assert code == expected, output
    assert heavy == [], output
    assert contexts == 0, output  # plain http to the emulators: no CA bundle read
    if args != ("plan",):  # the run did its work: the leaver's account is deactivated
        assert linked.account_status(f"{leaver}@{DOMAIN}") == "inactive"


def test_the_daemon_command_imports_provisioning_and_token_checks_only_when_used() -> None:
    probe = (
        "import sys\n"
        "from offboard.cli.lazy import load_command\n"
        "assert load_command('run') is not None\n"
        "print(sorted(m for m in ('scim2_models', 'offboard.adapters.atlassian_scim',"
        " 'offboard.service.provisioning_passes', 'joserfc', 'cryptography')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_structlog_comes_without_rich_extras_and_httpx_without_its_cli() -> None:
    probe = (
        "import sys\n"
        "from offboard.cli import lean\n"
        "lean.skip_httpx_cli()\n"
        "lean.import_structlog()\n"
        "import httpx, structlog\n"
        "print(sorted(m for m in ('httpx._main', 'pygments', 'rich.traceback', 'rich.pretty')"
        " if sys.modules.get(m) is not None), callable(httpx.main))\n"
        "import rich.traceback\n"  # hidden from structlog only: rich's modules still import
        "print(rich.traceback.Traceback.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[] True", "Traceback"]


@pytest.mark.parametrize(("preset", "expected"), [(None, "__all__"), ("none", "none")])
def test_pydantic_plugins_are_not_searched_unless_the_environment_says(
    preset: str | None, expected: str
) -> None:
    probe = (
        "import os\n"
        "from offboard.cli import lean\n"
        "lean.skip_pydantic_plugins()\n"
        "print(os.environ['PYDANTIC_DISABLE_PLUGINS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if preset is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = preset
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
