"""``/history``: the journal from the store, searchable, filterable, paged; and its exports.

Read from the store at every request, so it survives restarts. Each page is one bounded
query (newest first, keyset-paged); ``/history.csv`` and ``/history.json`` stream the same
filters page after page up to :data:`EXPORT_MAX` records. CSV cells that a spreadsheet
would run as a formula (starting with ``= + - @``, tab or carriage return) get a leading
apostrophe.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlencode

from offboard.core.history import MAX_PAGE, JournalQuery
from offboard.core.journal import JournalRecord
from offboard.server.console.backend import ConsoleBackend, JournalSearch
from offboard.server.console.items import moment
from offboard.server.console.layout import attr, esc, page, person, table
from offboard.server.console_user import ConsoleUser

EXPORT_MAX = 100_000
PAGE = 50
RUNS_SHOWN = 20
FIELDS = ("seq", "at", "run_id", "phase", "status", "kind", "rule", "identity_id",
          "account_id", "email", "reason", "detail", "http_status", "action_key")  # fmt: skip
_FILTERS = ("person", "rule", "status", "phase", "run_id")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def query_of(params: Mapping[str, str], limit: int = PAGE) -> JournalQuery:
    """The filters of a request; anything malformed is ignored, never an error."""
    before = params.get("before", "")
    number = int(before) if before.isdigit() and len(before) < 19 else None
    person, rule, status, phase, run_id = (params.get(name, "") for name in _FILTERS)
    return JournalQuery(person, rule, status, phase, run_id, before=number, limit=limit)


async def render(
    params: Mapping[str, str], backend: ConsoleBackend, user: ConsoleUser | None
) -> str:
    """The history page: a filter form, one page of records, the link to the next."""
    query = query_of(params)
    if backend.search is None:
        return page("History", "<p class='muted'>No store is wired.</p>", user)
    records = await asyncio.to_thread(backend.search, query)
    book = backend.name_book()
    names = await book.names(r.identity_id for r in records) if book else {}
    rows = []
    for r in records:
        named = names.get(r.identity_id or "")
        who = person(named.name if named else "", r.email or (named.email if named else None),
                     r.identity_id, r.account_id)  # fmt: skip
        rows.append((esc(moment(r.at)), who, esc(r.kind),
                     esc(r.phase.value), esc(r.status.value), esc(r.rule),
                     esc(r.detail or r.reason)))  # fmt: skip
    headers = ("At", "Who", "Action", "Step", "Outcome", "Rule", "Why")
    body = _filters(query) + table(headers, rows, row_testid="history-row", raw=True,
                                   empty="Nothing in the journal matches.")  # fmt: skip
    if query.before is None and backend.sides is not None:
        body += "<h2>Recent runs</h2>" + await _runs(backend)
    if query.before is not None:
        newest = {k: getattr(query, k) for k in _FILTERS if getattr(query, k)}
        href = "/history" + (f"?{urlencode(newest)}" if newest else "")
        body += f"<p><a data-testid='newest-page' href='{esc(href)}'>Newest records</a></p>"
    if len(records) == query.limit and records[-1].seq is not None:
        body += f"<p><a data-testid='next-page' href='/history?{_link(query, records[-1].seq)}'>"
        body += "Older records</a></p>"
    return page("History", body, user, refresh=query.before is None)


async def _runs(backend: ConsoleBackend) -> str:
    """The latest runs, each linking to its journal records."""
    assert backend.sides is not None
    runs = await asyncio.to_thread(backend.sides.store.runs, RUNS_SHOWN)
    rows = [
        (esc(moment(run.started_at)),
         f"<a href='/history?{esc(urlencode({'run_id': run.id}))}'>{esc(run.kind)}</a>",
         esc(run.status), esc(_summary(run.summary)))
        for run in runs
    ]  # fmt: skip
    return table(("Started", "Run", "Status", "Summary"), rows, row_testid="run", raw=True,
                 empty="No run yet.")  # fmt: skip


def _summary(summary: Mapping[str, object]) -> str:
    text = ", ".join(f"{key}: {value}" for key, value in summary.items())
    return text if len(text) <= 300 else text[:299] + "…"


def _filters(query: JournalQuery) -> str:
    def field(name: str, label: str, value: str) -> str:
        return (f"<label>{esc(label)} <input type='text' name='{name}' "
                f"value='{attr(value)}'></label> ")  # fmt: skip

    exports = urlencode({k: getattr(query, k) for k in _FILTERS if getattr(query, k)})
    return (
        "<form method='get' action='/history' data-testid='history-filter'>"
        + field("person", "Person (email, Keycloak id or account id)", query.person)
        + field("rule", "Rule", query.rule)
        + field("status", "Outcome", query.status)
        + field("phase", "Step", query.phase)
        + _run_filter(query.run_id)
        + "<button type='submit'>Search</button></form>"
        + f"<p>Export for auditors: <a href='/history.csv?{esc(exports)}'>CSV</a> "
        f"<a href='/history.json?{esc(exports)}'>JSON</a></p>"
    )


def _run_filter(run_id: str) -> str:
    """The run shown, said on the page and kept by a search (else it silently widened)."""
    if not run_id:
        return ""
    return (f"<p>Run <code>{esc(run_id)}</code> only ({_plain_link('/history', 'all runs')})"
            f"<input type='hidden' name='run_id' value='{attr(run_id)}'></p>")  # fmt: skip


def _plain_link(href: str, words: str) -> str:
    return f"<a href='{esc(href)}'>{esc(words)}</a>"


def _link(query: JournalQuery, before: int) -> str:
    values = {k: getattr(query, k) for k in _FILTERS if getattr(query, k)}
    return esc(urlencode({**values, "before": before}))


def document(record: JournalRecord) -> dict[str, object]:
    """One record as the exports give it."""
    return {
        "seq": record.seq, "at": record.at.isoformat(), "run_id": record.run_id,
        "phase": record.phase.value, "status": record.status.value, "kind": record.kind,
        "rule": record.rule, "identity_id": record.identity_id,
        "account_id": record.account_id, "email": record.email, "reason": record.reason,
        "detail": record.detail, "http_status": record.http_status,
        "action_key": record.action_key,
    }  # fmt: skip


def safe_cell(value: object) -> str:
    """A CSV cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


async def _records(search: JournalSearch, query: JournalQuery) -> AsyncIterator[JournalRecord]:
    """Every matching record, newest first, one bounded page at a time."""
    sent = 0
    current = JournalQuery(query.person, query.rule, query.status, query.phase, query.run_id,
                           query.before, MAX_PAGE)  # fmt: skip
    while sent < EXPORT_MAX:
        batch = await asyncio.to_thread(search, current)
        for record in batch[: EXPORT_MAX - sent]:
            yield record
        sent += len(batch)
        if len(batch) < current.limit or batch[-1].seq is None:
            return
        current = current.following(batch[-1].seq)


async def csv_lines(search: JournalSearch, query: JournalQuery) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    async for record in _records(search, query):
        values = document(record)
        writer.writerow([safe_cell(values[name]) for name in FIELDS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def json_lines(search: JournalSearch, query: JournalQuery) -> AsyncIterator[str]:
    """A JSON array, written record by record."""
    yield "["
    first = True
    async for record in _records(search, query):
        yield ("" if first else ",\n") + json.dumps(document(record))
        first = False
    yield "]\n"
