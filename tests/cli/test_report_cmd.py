"""`offboard report licences|history` and `offboard licences plan` against both emulators
over loopback, each format checked against what the test set up."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]
NOBODYS = {"contractor@acme.example", "offboard-bot@acme.example"}  # no Keycloak user


def test_the_report_in_every_format(linked: World, runner: CliRunner, tmp_path: Path) -> None:
    linked.disable("person-000003")
    code, output = linked.run(runner, "report", "licences", "--format", "json", "--record")
    assert code == ExitCode.OK, output
    figures = json.loads(output)
    lines = {line["email"]: line["state"] for line in figures["lines"]}
    assert {e for e, s in lines.items() if s == "orphan"} == NOBODYS
    assert {e for e, s in lines.items() if s == "leaver"} == {"person-000003@acme.example"}
    assert figures["accounts_by_state"]["orphan"] == 2
    assert figures["reclaimable_seats"] == sum(
        n for states in figures["seats"].values() for s, n in states.items() if s != "active"
    )

    code, output = linked.run(runner, "report", "licences", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert {r["email"]: r["state"] for r in rows} == lines

    page = tmp_path / "seats.html"
    code, _ = linked.run(runner, "report", "licences", "--format", "html", "--out", str(page))
    html = page.read_text(encoding="utf-8")
    assert code == ExitCode.OK
    assert html.count("<svg") == 3  # seats by product and state, activity, and the trend
    assert "Reclaimable seats over time" in html
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained

    code, output = linked.run(runner, "report", "licences")
    assert "reclaimable seats: " in output
    code, output = linked.run(runner, "report", "history")
    assert code == ExitCode.OK
    assert str(figures["reclaimable_seats"]) in output


def test_licences_plan_changes_nothing_and_lists_the_steps(
    linked: World, runner: CliRunner
) -> None:
    code, output = linked.run(runner, "licences", "plan", "--json")
    assert code == ExitCode.OK, output  # the policy is off by default: nothing to do
    assert json.loads(output)["actions"] == []


def test_the_plan_shows_the_tokens_each_leaver_holds(linked: World, runner: CliRunner) -> None:
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[licences]\nrevoke_leaver_tokens = true\n", "utf-8")
    linked.disable("person-000010")  # seeded with two API tokens
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.CHANGES, output
    words = " ".join(output.split())
    assert "person-000010@acme.example holds 2 API tokens: revoked by the licence pass" in words
    assert words.count("API token") == 1  # nobody else's


def test_the_seat_table_names_every_product_and_state_in_full_at_80_columns() -> None:
    """At a terminal's usual width, jira-software and jira-service-desk were both shown as
    'jira-s…' and the states as 'unlinke…', 'inacti…': which row is which product was lost."""
    from datetime import UTC, datetime

    from rich.console import Console

    from offboard.cli.report import report_table
    from offboard.core.licences import (
        AccountUsage,
        Ownership,
        ProductUse,
        ReportOptions,
        build_report,
    )

    now = datetime(2026, 12, 1, tzinfo=UTC)
    products = ("jira-software", "jira-service-desk", "confluence")
    uses = tuple(ProductUse(p, now) for p in products)
    usages = [AccountUsage(f"a-{n}", f"{n}@x.example", True, uses) for n in range(3000)]
    priced = ReportOptions(prices={"*": 5.0})  # 3000 orphans: 15000.00 a product, not '15000.…'
    report = build_report(usages, [], Ownership.index([], []), priced, now)
    console = Console(width=80, record=True)
    console.print(report_table(report))
    text = " ".join(console.export_text().split())
    for word in (*products, "unlinked", "SCIM", "inactive", "reclaim-", "monthly", "15000.00"):
        assert word in text, (word, text)
    assert "…" not in text


def test_the_inactivity_policy_does_not_act_without_a_mail_server(
    linked: World, runner: CliRunner
) -> None:
    """Removal waits for a warning that was sent: with no [licences.smtp] host, every warning
    failed, day after day, while the plan said 'warning sent'. Acting is refused at once,
    naming the key (the daemon's daily pass likewise refuses to start); a plan still shows
    the steps."""
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[licences.inactivity]\nenabled = true\n", "utf-8")
    code, output = linked.run(runner, "licences", "plan")
    assert code in (ExitCode.OK, ExitCode.CHANGES), output
    code, output = linked.run(runner, "licences", "apply", "--yes")
    assert code == ExitCode.CONFIG, output
    assert "[licences.smtp] host" in " ".join(output.split())


def test_the_daemon_refuses_a_daily_inactivity_pass_without_a_mail_server(
    tmp_path: Path,
) -> None:
    from datetime import time

    import pytest

    from offboard.cli.demo import demo_settings
    from offboard.cli.licence_wiring import daily_check
    from offboard.settings.values import ConfigError
    from offboard.store import open_store

    demo = demo_settings()  # the inactivity policy on, no [licences.smtp]
    licences = demo.licences.model_copy(update={"daily_at": time(6, 30)})
    settings = demo.model_copy(update={"licences": licences})
    store = open_store(tmp_path / "s.sqlite3")
    try:
        with pytest.raises(ConfigError, match=r"\[licences\.smtp\] host"):
            daily_check(settings, None, None, store, None)  # type: ignore[arg-type]
    finally:
        store.close()
