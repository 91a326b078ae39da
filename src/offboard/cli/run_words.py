"""A run's stored summary in words for people: `3 deactivate, 1 blocked; applied: 3 verified`.

The store keeps the summary as data (for scripts: `journal runs --format json`); this is
what a human reads in `offboard journal runs` and `journal show`.
"""

from __future__ import annotations

from collections.abc import Mapping


def summary_words(summary: Mapping[str, object]) -> str:
    """The parts of a run summary that matter, in a fixed order; unknown keys are left out."""
    parts = [
        _plan_part(summary),
        _counts("applied", summary.get("applied")),
        _listed("blocked by", summary.get("blocked_by")),
        _listed("problems", summary.get("problems")),
        _recovered(summary.get("recovered")),
        _who(summary),
        "interrupted" if summary.get("interrupted") else "",
        _text("error", summary.get("error")),
        _text("plan", _short(summary.get("fingerprint"))),
    ]
    return "; ".join(part for part in parts if part)


def _plan_part(summary: Mapping[str, object]) -> str:
    by_kind = summary.get("actions_by_kind")
    if not isinstance(by_kind, Mapping):
        return ""
    words = [f"{count} {kind}" for kind, count in by_kind.items() if kind not in ("link",)]
    links = by_kind.get("link")
    if links:
        words.append(f"{links} new links")
    for key in ("blocked", "skipped"):
        count = summary.get(key)
        if isinstance(count, int) and count:
            words.append(f"{count} {key}")
    return ", ".join(words) or "nothing to do"


def _counts(label: str, counts: object) -> str:
    if not isinstance(counts, Mapping) or not counts:
        return ""
    return f"{label}: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _listed(label: str, items: object) -> str:
    if not isinstance(items, list) or not items:
        return ""
    return f"{label}: " + ", ".join(str(item) for item in items)


def _recovered(items: object) -> str:
    if not isinstance(items, Mapping) or not items:
        return ""
    return f"recovered {len(items)} from a crash"


def _who(summary: Mapping[str, object]) -> str:
    actor, reason = summary.get("actor"), summary.get("reason")
    if not actor:
        return ""
    return f"by {actor}" + (f": {reason}" if reason else "")


def _text(label: str, value: object) -> str:
    return f"{label} {value}" if value else ""


def _short(fingerprint: object) -> str:
    return str(fingerprint)[:12] if fingerprint else ""
