"""The read-only status page: server-rendered HTML, no JavaScript, everything escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from offboard.service.status import DaemonStatus

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    ".bad{color:#a00}.ok{color:#070}"
)


def render_status_page(status: DaemonStatus, not_ready: Sequence[str]) -> str:
    """The whole page as a string."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>offboard</title>",
        f"<style>{_STYLE}</style></head><body><h1>offboard daemon</h1>",
        "<p><a href='/licences'>Licence check: seats to reclaim, and the trend</a></p>",
        _summary(status, not_ready),
        "<h2>Hold and budget</h2>",
        _hold(status),
        "<h2>Blocked plans</h2>",
        _blocked(status),
        "<h2>Deprovisioning latency</h2>",
        _latency(status),
        "<h2>Recent reconciliations</h2>",
        _passes(status),
        "<h2>Recent actions</h2>",
        _actions(status),
        "</body></html>",
    ]
    return "".join(parts)


def _summary(status: DaemonStatus, not_ready: Sequence[str]) -> str:
    role = "leader" if status.leader else "standby"
    ready = (
        "<span class='ok'>ready</span>"
        if not not_ready
        else "<span class='bad'>not ready: " + escape("; ".join(not_ready)) + "</span>"
    )
    lag = "n/a" if status.last_event_lag is None else f"{status.last_event_lag:.1f} s"
    return (
        f"<p>Role: <b>{role}</b>. {ready}. Started {escape(status.started_at.isoformat())}. "
        f"Event lag: {escape(lag)}.</p>"
    )


def _hold(status: DaemonStatus) -> str:
    state = status.guards
    if state is None:
        return "<p>Not read from the store yet.</p>"
    budget = _table(
        ("Window", "Used", "Left", "Limit"),
        [(u.name, str(u.used), str(u.left), str(u.limit)) for u in state.usage],
    )
    anomaly = (
        f"<p class='bad'>Re-checks paused: {escape(state.source_anomaly)}</p>"
        if state.source_anomaly
        else ""
    )
    anomaly += "".join(
        f"<p class='bad'>HOLD #{other.id} on {escape(other.category)} since "
        f"{escape(other.since.isoformat())}: {escape(other.message)}. {len(other.waiting)} "
        f"writes waiting; release with <code>offboard hold release --category "
        f"{escape(other.category)} --reason ...</code>.</p>"
        for other in state.other_holds
    )
    hold = state.hold
    if hold is None:
        none = "No deprovisioning hold." if state.other_holds else "No hold."
        return f"<p class='ok'>{none}</p>{anomaly}{budget}"
    head = (
        f"<p class='bad'>HOLD #{hold.id} since {escape(hold.since.isoformat())} "
        f"({escape(', '.join(hold.guards))}): {escape(hold.message)}. "
        f"{len(hold.people)} people waiting; a human releases it with "
        "<code>offboard hold release --reason ...</code>.</p>"
    )
    waiting = _table(
        ("Since", "Action", "Email", "Identity", "Account"),
        [
            (w.since.isoformat(), w.kind, w.email or "", w.identity_id, w.account_id)
            for w in hold.waiting
        ],
    )
    return head + anomaly + budget + waiting


def _blocked(status: DaemonStatus) -> str:
    if not status.blocked:
        return "<p class='ok'>No plan is blocked.</p>"
    rows = (
        (
            b.scope,
            b.at.isoformat(),
            ", ".join(b.guards),
            str(len(b.waiting)),
            " | ".join(b.messages),
        )
        for b in status.blocked.values()
    )
    headers = ("Scope", "Since", "Guards", "Still waiting", "Why (and the override)")
    return _table(headers, rows)


def _latency(status: DaemonStatus) -> str:
    summary = status.latency()
    if not summary.count:
        return "<p>No deprovisioning confirmed yet.</p>"
    figures = (summary.p50, summary.p95, summary.max)
    cells = [f"{value:.2f} s" if value is not None else "n/a" for value in figures]
    return _table(("Samples", "p50", "p95", "max"), [(str(summary.count), *cells)])


def _passes(status: DaemonStatus) -> str:
    rows = (
        (
            p.kind,
            p.started_at.isoformat(),
            f"{p.duration:.2f} s",
            "complete" if p.complete else "incomplete",
            ", ".join(p.blocked_guards) or "-",
            str(len(p.actions)),
            "; ".join(p.problems),
        )
        for p in status.passes
    )
    headers = ("Kind", "Started", "Took", "Result", "Blocked by", "Actions", "Problems")
    return _table(headers, rows)


def _actions(status: DaemonStatus) -> str:
    rows = (
        (a.at.isoformat(), a.kind, a.identity_id or "", a.account_id or "", a.outcome, a.detail)
        for a in status.actions
    )
    return _table(("At", "Kind", "Identity", "Account", "Outcome", "Detail"), rows)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td>none yet</td></tr>'}</table>"
