"""A full run reads the links in a thread while Keycloak is listed, not after it."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.snapshots import SourceSnapshot
from offboard.service.reconciling import listed_with_links

AT = datetime(2026, 12, 1, tzinfo=UTC)
LINKS = [Link(IdentityId("id-1"), AccountId("acc-1"), "one@example.com", AT)]
WAIT = 5.0
"""Bound on every wait: a serial run would fail the test after this, never hang it."""


class MeetingStore:
    """A store whose link read only answers once the listing has started, and says so."""

    def __init__(self, fail: bool = False) -> None:
        self.listing_started = threading.Event()
        self.read_started = threading.Event()
        self.fail = fail

    def links(self) -> list[Link]:
        self.read_started.set()
        assert self.listing_started.wait(WAIT), "the links were read before the listing began"
        if self.fail:
            raise RuntimeError("links table unreadable")
        return LINKS


async def _listing(store: MeetingStore, fail: bool = False) -> SourceSnapshot:
    store.listing_started.set()
    met = await asyncio.to_thread(store.read_started.wait, WAIT)
    assert met, "the listing ended before the links were read"
    if fail:
        raise ValueError("Keycloak went away")
    return SourceSnapshot((), AT, True)


async def test_both_reads_are_in_flight_at_once() -> None:
    store = MeetingStore()
    listed, links = await listed_with_links(_listing(store), store)  # type: ignore[arg-type]
    assert listed == SourceSnapshot((), AT, True)
    assert links == LINKS


async def test_a_failed_listing_is_the_error_raised() -> None:
    store = MeetingStore(fail=True)
    with pytest.raises(ValueError, match="Keycloak went away"):
        await listed_with_links(_listing(store, fail=True), store)  # type: ignore[arg-type]


async def test_a_failed_link_read_is_raised_after_a_good_listing() -> None:
    store = MeetingStore(fail=True)
    with pytest.raises(RuntimeError, match="links table unreadable"):
        await listed_with_links(_listing(store), store)  # type: ignore[arg-type]
