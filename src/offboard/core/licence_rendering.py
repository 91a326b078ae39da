"""The licence report as CSV, JSON, a summary for the store, and a self-contained HTML page.

The page draws its charts as inline SVG made here (no script, no network): seats by product
and state as stacked bars, and the activity histogram. Pure functions of the report.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from html import escape

from offboard.core.licences import (
    HISTOGRAM_BUCKETS,
    NEVER,
    RECLAIMABLE,
    LicenceReport,
    SeatState,
)

COLOURS = {
    SeatState.LEAVER: "#c0392b",
    SeatState.UNLINKED_SCIM: "#8e44ad",
    SeatState.ORPHAN: "#d35400",
    SeatState.INACTIVE: "#f1c40f",
    SeatState.ACTIVE: "#27ae60",
}
CSV_COLUMNS = ("account_id", "email", "state", "products", "idle_days", "identity_id")


def summary(report: LicenceReport) -> dict[str, object]:
    """The figures kept in the store's history and printed as JSON."""
    return {
        "taken_at": report.taken_at.isoformat(),
        "inactive_days": report.options.inactive_days,
        "accounts": len(report.lines),
        "accounts_by_state": {s.value: report.accounts_in(s) for s in SeatState},
        "seats": {product: dict(states) for product, states in report.seats.items()},
        "seats_by_state": {s.value: report.seats_in(s) for s in SeatState},
        "reclaimable_seats": report.reclaimable_seats,
        "reclaimable_monthly_cost": report.reclaimable_cost(),
        "unpriced_products": list(report.unpriced_products()),
        "currency": report.options.currency,
        "histogram": dict(report.histogram),
    }


def to_json(report: LicenceReport, *, with_accounts: bool = True) -> str:
    document = summary(report)
    if with_accounts:
        document["lines"] = [
            dict(zip(CSV_COLUMNS, _row(line), strict=True))
            for line in report.lines
            if line.state is not SeatState.ACTIVE
        ]
    return json.dumps(document, indent=2, sort_keys=True)


def _row(line: object) -> tuple[object, ...]:
    return tuple(
        "|".join(value) if isinstance(value, tuple) else value
        for value in (getattr(line, name) for name in CSV_COLUMNS)
    )


def to_csv(report: LicenceReport, *, every_account: bool = False) -> str:
    """One row per account holding a reclaimable seat (or every account)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in report.lines:
        if every_account or line.state is not SeatState.ACTIVE:
            writer.writerow(["" if v is None else v for v in _row(line)])
    return out.getvalue()


def product_rows(report: LicenceReport) -> list[tuple[str, ...]]:
    """Per product: seats in each state, reclaimable seats and their monthly cost."""
    rows = []
    for product, states in report.seats.items():
        reclaimable = sum(states.get(s.value, 0) for s in RECLAIMABLE)
        cost = reclaimable * report.options.price_of(product)
        counts = tuple(str(states.get(s.value, 0)) for s in SeatState)
        priced = report.options.priced(product) or not reclaimable
        rows.append((product, *counts, str(reclaimable), f"{cost:.2f}" if priced else "unpriced"))
    return rows


def _bars(report: LicenceReport) -> str:
    """Stacked horizontal bars: one per product, one segment per state."""
    products = list(report.seats)
    widest = max((sum(s.values()) for s in report.seats.values()), default=0) or 1
    height = 28 * len(products) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" '
        'role="img" aria-label="Seats by product and state">'
    ]
    for row, product in enumerate(products):
        y = 10 + row * 28
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(product)}</text>')
        x = 160.0
        for state in SeatState:
            count = report.seats[product].get(state.value, 0)
            width = 560 * count / widest
            if count:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="20" '
                    f'fill="{COLOURS[state]}"><title>{escape(product)} {state.value}: '
                    f"{count}</title></rect>"
                )
            x += width
    legend_y = height - 12
    for index, state in enumerate(SeatState):
        x = 160 + index * 110
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" fill="{COLOURS[state]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{legend_y}" font-size="11">{state.value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram(report: LicenceReport) -> str:
    """Billable accounts by days since last use, as vertical bars."""
    names = [name for name, _ in HISTOGRAM_BUCKETS] + [NEVER]
    tallest = max(report.histogram.values(), default=0) or 1
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="240" role="img" '
        'aria-label="Accounts by days since last use">'
    ]
    for index, name in enumerate(names):
        count = report.histogram.get(name, 0)
        bar = 170 * count / tallest
        x = 20 + index * 100
        parts.append(
            f'<rect x="{x}" y="{200 - bar:.1f}" width="70" height="{bar:.1f}" fill="#2c7fb8">'
            f"<title>{name} days: {count}</title></rect>"
        )
        parts.append(f'<text x="{x}" y="{195 - bar:.1f}" font-size="11">{count}</text>')
        parts.append(f'<text x="{x}" y="218" font-size="12">{name}</text>')
    parts.append('<text x="20" y="236" font-size="11">days since last use</text></svg>')
    return "".join(parts)


def trend_of(history: Sequence[tuple[datetime, dict[str, object]]]) -> list[tuple[datetime, int]]:
    """Reclaimable seats per recorded check (the store's history, newest first), oldest first."""
    points = []
    for taken_at, figures in reversed(history):
        seats = figures.get("reclaimable_seats", 0)
        points.append((taken_at, seats if isinstance(seats, int) else 0))
    return points


def trend_svg(points: Sequence[tuple[datetime, int]]) -> str:
    """Reclaimable seats per recorded check, oldest left, as bars (scales down with viewBox)."""
    tallest = max((seats for _, seats in points), default=0) or 1
    width = max(4.0, min(40.0, 700 / max(len(points), 1)))
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="200" viewBox="0 0 760 200" '
        'role="img" aria-label="Reclaimable seats over time">'
    ]
    for index, (at, seats) in enumerate(points):
        bar = 150 * seats / tallest
        parts.append(
            f'<rect x="{20 + index * width:.1f}" y="{170 - bar:.1f}" width="{width * 0.8:.1f}" '
            f'height="{bar:.1f}" fill="#8e44ad"><title>{at:%Y-%m-%d}: {seats}</title></rect>'
        )
    if points:
        first, last = points[0][0], points[-1][0]
        parts.append(f'<text x="20" y="190" font-size="11">{first:%Y-%m-%d}</text>')
        parts.append(f'<text x="660" y="190" font-size="11">{last:%Y-%m-%d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PRODUCT_HEADER = ("product", *(s.value for s in SeatState), "reclaimable", "monthly cost")
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
)


def to_html(report: LicenceReport, trend: Sequence[tuple[datetime, int]] = ()) -> str:
    """One page, no external resource: figures, per-product table, charts, accounts.

    ``trend``: reclaimable seats of earlier checks (oldest first), drawn when given.
    """
    figures = summary(report)
    cost = f"{report.reclaimable_cost():.2f} {escape(report.options.currency)}"
    accounts = [
        (
            line.account_id,
            line.email or "",
            line.state.value,
            ", ".join(line.products),
            "never" if line.idle_days is None else str(line.idle_days),
        )
        for line in report.lines
        if line.state is not SeatState.ACTIVE
    ][:1000]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Licence report {escape(str(figures['taken_at']))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Licence report</h1><p>Taken at {escape(str(figures['taken_at']))}; inactive "
        f"means unused for {report.options.inactive_days} days or more.</p>"
        f"<p><strong>{report.reclaimable_seats}</strong> reclaimable seats of "
        f"{sum(sum(s.values()) for s in report.seats.values())}; monthly cost that could "
        f"be reclaimed: <strong>{cost}</strong>.</p>"
        "<h2>Seats by product and state</h2>"
        + _bars(report)
        + _table(PRODUCT_HEADER, product_rows(report))
        + "<h2>Activity</h2>"
        + _histogram(report)
        + ("<h2>Reclaimable seats over time</h2>" + trend_svg(trend) if trend else "")
        + f"<h2>Accounts holding reclaimable seats ({len(accounts)} shown)</h2>"
        + _table(("account", "email", "state", "products", "idle days"), accounts)
        + "</body></html>"
    )
