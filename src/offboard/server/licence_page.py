"""The licence view of the operations listener: the latest stored check and the trend.

Read from the store's licence history at each request and rendered here: HTML with no
script (the trend drawn by the report's own SVG renderer), and the same figures as JSON.
Every value shown is escaped: the history is data, whatever wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from html import escape

from offboard.core.licence_rendering import trend_of, trend_svg
from offboard.core.licences import RECLAIMABLE, SeatState
from offboard.core.printable import printable

History = list[tuple[datetime, dict[str, object]]]
LicenceReader = Callable[[int], History]
"""The store's ``licence_reports(limit)``: the latest checks, newest first."""

HISTORY_CHECKS = 90
NONE_YET = (
    "No licence check is stored yet. The daemon runs one daily when licences.daily_at is "
    "set; offboard report licences --record runs one now and keeps it."
)
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1em;color:#222;max-width:60em}"
    "table{border-collapse:collapse;margin-bottom:1.5em;max-width:100%}"
    "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;overflow-wrap:anywhere}"
    "td:first-child,th:first-child{text-align:left}"
    "svg{max-width:100%;height:auto}"
)


def licence_document(history: History) -> dict[str, object]:
    """``/licences.json``: the latest check's figures and the trend, oldest first."""
    if not history:
        return {"latest": None, "trend": [], "message": NONE_YET}
    taken_at, figures = history[0]
    trend = [
        {
            "taken_at": at.isoformat(),
            "reclaimable_seats": _number(f.get("reclaimable_seats")),
            "reclaimable_monthly_cost": _number(f.get("reclaimable_monthly_cost")),
        }
        for at, f in reversed(history)
    ]
    return {"latest": {**figures, "taken_at": taken_at.isoformat()}, "trend": trend}


def render_licence_page(history: History) -> str:
    """``/licences``: the whole page as a string."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>offboard: licences</title><style>{_STYLE}</style></head><body>",
        "<p><a href='/'>daemon status</a></p><h1>Licence check</h1>",
    ]
    if not history:
        parts.append(f"<p>{_cell(NONE_YET)}</p>")
    else:
        parts.append(_latest(*history[0]))
        parts.append("<h2>Reclaimable seats over time</h2>")
        parts.append(trend_svg(trend_of(history)))
        parts.append(_trend_table(history))
    parts.append("</body></html>")
    return "".join(parts)


def _latest(taken_at: datetime, figures: dict[str, object]) -> str:
    by_state = _mapping(figures.get("seats_by_state"))
    accounts = _mapping(figures.get("accounts_by_state"))
    cost = f"{_number(figures.get('reclaimable_monthly_cost'))} {figures.get('currency', '')}"
    head = (
        f"<p>Latest check: {_cell(taken_at.isoformat(timespec='minutes'))}; inactive means "
        f"unused for {_cell(str(figures.get('inactive_days', '?')))} days or more.</p>"
        f"<p><strong>{_cell(str(_number(figures.get('reclaimable_seats'))))}</strong> "
        f"reclaimable seats; monthly cost that could be reclaimed: "
        f"<strong>{_cell(cost.strip())}</strong>.</p>"
    )
    states = _table(
        ("held by", "seats", "accounts"),
        [
            (
                state.value,
                str(_number(by_state.get(state.value))),
                str(_number(accounts.get(state.value))),
            )
            for state in RECLAIMABLE
        ],
    )
    products = _table(
        ("product", *(s.value for s in SeatState), "reclaimable"),
        [_product_row(str(name), _mapping(seats)) for name, seats in _products(figures)],
    )
    return head + states + "<h2>Seats by product</h2>" + products


def _products(figures: dict[str, object]) -> Iterable[tuple[object, object]]:
    return sorted(_mapping(figures.get("seats")).items(), key=lambda item: str(item[0]))


def _product_row(product: str, seats: dict[object, object]) -> tuple[str, ...]:
    counts = [_number(seats.get(state.value)) for state in SeatState]
    reclaimable = sum(_number(seats.get(state.value)) for state in RECLAIMABLE)
    return (product, *(str(c) for c in counts), str(reclaimable))


def _trend_table(history: History) -> str:
    rows = [
        (
            at.isoformat(timespec="minutes"),
            str(_number(f.get("reclaimable_seats"))),
            f"{_number(f.get('reclaimable_monthly_cost'))} {f.get('currency', '')}".strip(),
        )
        for at, f in history[:10]
    ]
    return _table(("taken at (latest 10)", "reclaimable seats", "monthly cost"), rows)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_cell(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td>none</td></tr>'}</table>"


def _cell(text: str) -> str:
    return escape(printable(text))


def _mapping(value: object) -> dict[object, object]:
    return dict(value) if isinstance(value, dict) else {}


def _number(value: object) -> int | float:
    """A count or an amount as stored; anything else (a damaged row) shows as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return value
