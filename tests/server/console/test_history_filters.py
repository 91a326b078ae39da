"""The history page says which run it is showing, keeps that filter when searching, and an
older page leads back to the newest."""

from __future__ import annotations

import re

from tests.server.console.conftest import VIC, Console
from tests.server.console.test_history import notes

ROWS = re.compile(r"<tr data-testid='history-row'>.*?</tr>", re.S)


async def test_a_run_s_records_say_so_and_a_search_keeps_the_run(console: Console) -> None:
    notes(console, 60)
    async with console.client(VIC) as client:
        everything = (await client.get("/history")).text
        run_link = re.search(r"href='/history\?run_id=([0-9a-f]+)'>apply<", everything)
        assert run_link is not None
        run_id = run_link.group(1)
        of_run = (await client.get("/history", params={"run_id": run_id})).text
        form = re.search(r"<form[^>]*data-testid='history-filter'.*?</form>", of_run, re.S)
        assert form is not None
        assert f"name='run_id' value='{run_id}'" in form.group(0)  # a search keeps the run
        assert "Run <code>" in of_run  # and the page says which run it shows
        older = re.search(r"data-testid='next-page' href='/history\?([^']+)'", everything)
        assert older is not None
        second = (await client.get("/history?" + older.group(1).replace("&amp;", "&"))).text
        assert "data-testid='newest-page' href='/history'" in second
        started = re.findall(r"<tr data-testid='run'><td data-label='Started'>([^<]*)<", everything)
        assert started
        assert all(at.endswith(" UTC") for at in started), started  # as every time on the page
