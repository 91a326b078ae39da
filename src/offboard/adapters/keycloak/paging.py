"""A bounded-concurrency walk over an offset-paged listing (``first``/``max``).

Keycloak has no cursor: pages are addressed by offset, so several can be fetched at once. The
walk ends at the first short page; anything that contradicts a clean end (a failed page, users
after a short page) becomes a problem in words, never an exception and never silence.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from offboard.ports import OffboardError, Progress

Item = TypeVar("Item")
MAX_FAILED_PAGES = 3
"""After this many pages failed (each after its retries), stop asking: the walk is incomplete."""
FetchPage = Callable[[int, int], Awaitable[Sequence[Item]]]
"""Fetch the page at (offset, size)."""


@dataclass(slots=True)
class PageWalk(Generic[Item]):
    """Pages as read, by offset, and what went wrong."""

    pages: dict[int, Sequence[Item]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    end: int | None = None
    """Offset of the first short page: the listing ends there."""
    requests: int = 0

    @property
    def items(self) -> list[Item]:
        return [item for offset in sorted(self.pages) for item in self.pages[offset]]

    def problems(self, what: str) -> list[str]:
        """Why this walk cannot be trusted as whole, in words."""
        found = [
            f"{what}: page at offset {offset} failed: {why}"
            for offset, why in sorted(self.failed.items())
        ]
        if self.end is None:
            found.append(f"{what}: the walk stopped before reaching the end of the listing")
            return found
        late = [offset for offset, page in self.pages.items() if offset > self.end and page]
        if late:
            found.append(
                f"{what}: a short page at offset {self.end} was followed by users at offset "
                f"{min(late)}; the listing moved during the walk"
            )
        return found


async def walk_pages(
    fetch: FetchPage[Item],
    *,
    page_size: int,
    concurrency: int,
    max_pages: int,
    progress: Progress | None = None,
    expected: int | None = None,
) -> PageWalk[Item]:
    """Fetch pages 0, size, 2·size… with up to ``concurrency`` in flight, until a short page."""
    walk: PageWalk[Item] = PageWalk()
    offsets = itertools.count(0, page_size)
    done = 0

    async def worker() -> None:
        nonlocal done
        for offset in offsets:
            if (
                offset >= max_pages * page_size
                or (walk.end is not None and offset > walk.end)
                or len(walk.failed) >= MAX_FAILED_PAGES
            ):
                return
            walk.requests += 1
            try:
                page = await fetch(offset, page_size)
            except OffboardError as error:
                walk.failed[offset] = str(error)
                continue
            walk.pages[offset] = page
            done += len(page)
            if progress is not None:
                progress(done, expected)
            if len(page) < page_size and (walk.end is None or offset < walk.end):
                walk.end = offset

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return walk
