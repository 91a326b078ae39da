"""Alerting as code: the rules pass ``promtool check rules`` and its unit tests, the chart
renders exactly the same rules, and the Grafana dashboard queries only what a running
daemon's ``/metrics`` exposes, in PromQL that promtool parses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from offboard.cli.run import assemble
from offboard.settings import Settings
from tests.deploy.tools import ROOT, missing, script

RULES = ROOT / "deploy" / "prometheus" / "offboard-rules.yaml"
CHART_RULES = ROOT / "deploy" / "helm" / "offboard" / "files" / "offboard-rules.yaml"
RULE_TESTS = Path(__file__).parent / "alerting" / "offboard-rules-test.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "offboard-dashboard.json"
CHART = ROOT / "deploy" / "helm" / "offboard"
WANTED_ALERTS = {
    "OffboardHoldActive", "OffboardGuardTripped", "OffboardActionsFailing", "OffboardNotReady",
    "OffboardNoLeader", "OffboardLeaderMissing", "OffboardEventCursorStale",
    "OffboardRateLimited", "OffboardCredentialExpiring", "OffboardNotificationsFailing",
}  # fmt: skip
_METRIC = re.compile(r"\boffboard_[a-z_]+\b")
_SUFFIXES = {"counter": ("",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@pytest.fixture(scope="module")
def promtool() -> str:
    try:
        return script("promtool", timeout=3000).stdout.strip().splitlines()[-1]
    except (subprocess.CalledProcessError, OSError) as error:
        missing("promtool", f"scripts/promtool could not build it: {error}")
        raise


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_rules_cover_every_condition_that_needs_a_human() -> None:
    assert {rule["alert"] for rule in rules()} >= WANTED_ALERTS


def test_plain_prometheus_and_the_chart_read_one_file() -> None:
    assert RULES.resolve() == CHART_RULES.resolve()
    template = (CHART / "templates" / "prometheusrule.yaml").read_text()
    assert '.Files.Get "files/offboard-rules.yaml"' in template
    assert "alert:" not in template  # no second copy of any rule


def test_promtool_checks_the_rules(promtool: str) -> None:
    done = subprocess.run([promtool, "check", "rules", str(RULES)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_promtool_unit_tests_of_the_alerts_pass(promtool: str, tmp_path: Path) -> None:
    shutil.copy(RULES, tmp_path / "offboard-rules.yaml")
    shutil.copy(RULE_TESTS, tmp_path / "tests.yaml")
    done = subprocess.run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_refuses_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    """The check can fail: a misspelt function is reported."""
    broken = RULES.read_text().replace("increase(", "increas(", 1)
    (tmp_path / "broken.yaml").write_text(broken)
    done = subprocess.run([promtool, "check", "rules", str(tmp_path / "broken.yaml")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    assert "increas" in done.stdout + done.stderr


def test_the_rendered_chart_carries_exactly_the_rules_file() -> None:
    helm = _helm()
    done = subprocess.run(
        [helm, "template", "offboard", str(CHART), "--set", "secrets.existingSecret=s",
         "--set", "metrics.prometheusRule.enabled=true",
         "--show-only", "templates/prometheusrule.yaml"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    (rule,) = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    assert rule["spec"] == yaml.safe_load(RULES.read_text())


def _helm() -> str:
    try:
        return script("helm", timeout=1200).stdout.strip().splitlines()[-1]
    except (subprocess.CalledProcessError, OSError) as error:
        missing("helm", f"scripts/helm could not build it: {error}")
        raise


@pytest.fixture
async def exposed(tmp_path: Path) -> set[str]:
    """The metric names a daemon assembled by ``offboard run``'s wiring serves on /metrics."""
    settings = Settings.from_values({
        "keycloak": {"base_url": "http://127.0.0.1:9", "realm": "r", "client_id": "c",
                     "client_secret": "s"},
        "atlassian": {"org_id": "o", "api_key": "k", "base_url": "http://127.0.0.1:9"},
        "store": {"path": str(tmp_path / "state.db")},
    })  # fmt: skip
    async with AsyncExitStack() as stack:
        assembly = await assemble(settings, stack)
        transport = httpx.ASGITransport(app=assembly.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
            text = (await client.get("/metrics")).text
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names |= {name + suffix for suffix in _SUFFIXES.get(kind, ("",))}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def dashboard_queries() -> list[tuple[str, str]]:
    document = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in document["panels"] for t in p["targets"]]


async def test_every_dashboard_query_uses_metrics_the_daemon_exposes(exposed: set[str]) -> None:
    assert "offboard_notifications_failed_total" in exposed
    for title, expr in dashboard_queries():
        used = set(_METRIC.findall(expr))
        assert used, title
        assert used <= exposed, f"{title}: {used - exposed} not on /metrics"


async def test_every_alert_uses_metrics_the_daemon_exposes(exposed: set[str]) -> None:
    for rule in rules():
        used = set(_METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exposed, f"{rule['alert']}: {used - exposed} not on /metrics"


def test_the_dashboard_has_grafanas_basics() -> None:
    document = json.loads(DASHBOARD.read_text())
    assert {"title", "uid", "schemaVersion", "panels", "templating", "time"} <= set(document)
    assert isinstance(document["schemaVersion"], int)
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", document["uid"])
    (variable,) = document["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in document["panels"]:
        assert panel["type"] in {"stat", "timeseries", "gauge", "table", "bargauge"}
        assert panel["datasource"]["uid"] == "${datasource}"
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {(grid["x"] + i, grid["y"] + j) for i in range(grid["w"]) for j in range(grid["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        refs = [target["refId"] for target in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]


def test_promtool_parses_every_dashboard_query(promtool: str, tmp_path: Path) -> None:
    """Each query as a recording rule (Grafana's $__rate_interval as 5m), checked by promtool."""
    recorded = [
        {"record": f"offboard_dashboard:q{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    done = subprocess.run([promtool, "check", "rules", str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
