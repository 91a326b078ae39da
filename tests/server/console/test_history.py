"""History from the store: it survives a restart, filters and pages, and exports CSV and JSON
for auditors (no spreadsheet formula gets through)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from offboard.cli.demo import DOMAIN
from offboard.core.journal import JournalRecord, Phase, Status
from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, TOKEN, VIC, Console, console_of

ROWS = re.compile(r"<tr data-testid='history-row'>.*?</tr>", re.S)


async def test_history_survives_a_restart(linked: World) -> None:
    one = linked.keycloak_user("shared.one").id  # type: ignore[attr-defined]
    async for first in console_of(linked):
        async with first.client(ADA) as client:
            response = await client.post("/act/resolve", data={
                "csrf_token": TOKEN, "email": f"shared@{DOMAIN}", "identity_id": one,
                "reason": "decided before the restart"})  # fmt: skip
            assert response.status_code == 303
    async for second in console_of(linked):  # a new process: nothing in memory
        async with second.client(VIC) as client:
            page = (await client.get("/history", params={"person": one})).text
    rows = ROWS.findall(page)
    assert any("decided before the restart" in row for row in rows), page


def notes(console: Console, count: int) -> None:
    run_id = console.store.start_run("daemon", datetime.now(UTC))
    console.store.append_all([
        JournalRecord(at=datetime.now(UTC), run_id=run_id, action_key=f"filler:{n}",
                      phase=Phase.NOTE, status=Status.INFO, kind="note", detail=f"note {n}")
        for n in range(count)
    ])  # fmt: skip


async def test_filters_and_pages(console: Console) -> None:
    notes(console, 60)
    async with console.client(VIC) as client:
        everything = (await client.get("/history")).text
        assert len(ROWS.findall(everything)) == 50
        older = re.search(r"data-testid='next-page' href='/history\?([^']+)'", everything)
        assert older is not None
        second = (await client.get("/history?" + older.group(1).replace("&amp;", "&"))).text
        assert ROWS.findall(second)
        assert set(ROWS.findall(second)).isdisjoint(ROWS.findall(everything))
        assert "http-equiv='refresh'" in everything  # the newest page refreshes itself...
        assert "http-equiv='refresh'" not in second  # ...an older one stays where it is
        runs = re.findall(r"<tr data-testid='run'>.*?</tr>", everything, re.S)
        assert runs
        run_link = re.search(r"href='/history\?run_id=([0-9a-f]+)'>apply<", everything)
        assert run_link is not None
        of_run = (await client.get("/history", params={"run_id": run_link.group(1)})).text
        assert ROWS.findall(of_run)
        assert "<h2>Recent runs</h2>" in of_run
        links = (await client.get("/history", params={"rule": "matched-by-email"})).text
        assert ROWS.findall(links)
        assert all("matched-by-email" in row for row in ROWS.findall(links))
        nothing = (await client.get("/history", params={"status": "failed"})).text
        assert ROWS.findall(nothing) == []
        assert "Nothing in the journal matches." in nothing
        email = f"it-admin@{DOMAIN}"
        person = (await client.get("/history", params={"person": "IT-ADMIN@"})).text
        assert ROWS.findall(person)
        assert all(email in row for row in ROWS.findall(person))


def hostile(console: Console) -> None:
    run_id = console.store.start_run("daemon", datetime.now(UTC))
    for n, detail in enumerate(("=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)",
                                "\tTAB", "plain, with comma \"and quotes\"")):  # fmt: skip
        console.store.append(JournalRecord(
            at=datetime.now(UTC), run_id=run_id, action_key=f"note:{n}", phase=Phase.NOTE,
            status=Status.INFO, kind="note", identity_id=f"auditor-{n}", rule="export-test",
            detail=detail, email="=cmd|' /C calc'!A0",
        ))  # fmt: skip


async def test_exports_for_auditors(console: Console) -> None:
    hostile(console)
    async with console.client(VIC) as client:
        response = await client.get("/history.csv", params={"rule": "export-test"})
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        document = (await client.get("/history.json", params={"rule": "export-test"})).json()
        everything = (await client.get("/history.json")).json()
    assert len(rows) == 6
    details = {row["detail"] for row in rows}
    assert details == {"'=HYPERLINK(\"http://x\")", "'+1+1", "'-2", "'@SUM(A1)", "'\tTAB",
                       "plain, with comma \"and quotes\""}  # fmt: skip
    assert {row["email"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(not row[k].startswith(("=", "+", "-", "@")) for row in rows for k in row)
    assert len(document) == 6
    assert {item["detail"] for item in document} >= {'=HYPERLINK("http://x")', "-2"}  # as is
    assert [item["seq"] for item in everything] == sorted(
        (item["seq"] for item in everything), reverse=True
    )
    assert len(everything) == len(console.store.journal())  # past one page: every record


async def test_the_page_is_readable_on_a_phone(console: Console) -> None:
    async with console.client(ADA) as client:
        for path in ("/", "/history", "/person?id=x"):
            page = (await client.get(path)).text
            assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in page
            assert "@media (max-width:700px)" in page  # tables stack into cards
            assert "td::before{content:attr(data-label)" in page  # each cell says its column
            assert "overflow-wrap:anywhere" in page  # long ids and reasons wrap
            assert "<link" not in page  # no external asset
            assert "src=" not in page
        history = (await client.get("/history")).text
    assert "data-label='Why'" in history
    refresh = re.search(r"<script>(.*?)</script>", page, re.S)
    assert refresh is not None  # forms on the page: reloads by script, never while typing
    assert "activeElement" in refresh.group(1)
    assert "location.reload" in refresh.group(1)
