"""A bounded-concurrency walk over an offset-paged listing (``first``/``max``).

Keycloak has no cursor: pages are addressed by offset, so several can be fetched at once.
Each page asks for one item more than its size. That extra item must turn up again in the
next page: if it does not, a deletion between the two reads shifted the offsets and somebody
may have been skipped. Insertions only repeat items, which the caller de-duplicates. The
extra item also tells where the listing ends, so no empty page has to be fetched after the
last one. A failed page, users after a short page, or a shifted boundary becomes a problem in
words. The walk never raises for these and never hides them.
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
"""Fetch up to ``limit`` items from ``offset``: (offset, limit)."""


@dataclass(slots=True)
class PageWalk(Generic[Item]):
    """Pages as read, by offset (each with its look-ahead item), and what went wrong."""

    key: Callable[[Item], str]
    pages: dict[int, Sequence[Item]] = field(default_factory=dict)
    lookahead: dict[int, Item] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    end: int | None = None
    """Offset of the first short page: the listing ends there."""
    requests: int = 0

    @property
    def items(self) -> list[Item]:
        """Every item read, look-ahead items included (they may be the only sight of a user)."""
        found = [item for offset in sorted(self.pages) for item in self.pages[offset]]
        return found + list(self.lookahead.values())

    def problems(self, what: str, page_size: int) -> list[str]:
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
        found.extend(self._shifted_boundaries(what, page_size))
        return found

    def _shifted_boundaries(self, what: str, page_size: int) -> list[str]:
        shifted = []
        for offset, item in sorted(self.lookahead.items()):
            following = self.pages.get(offset + page_size)
            if following is not None and self.key(item) not in {self.key(i) for i in following}:
                shifted.append(offset + page_size)
        if not shifted:
            return []
        return [
            f"{what}: the listing shifted at offset {shifted[0]} ({len(shifted)} page "
            "boundaries); users were deleted during the walk and some may have been skipped"
        ]


async def walk_pages(
    fetch: FetchPage[Item],
    *,
    key: Callable[[Item], str],
    page_size: int,
    concurrency: int,
    max_pages: int,
    progress: Progress | None = None,
    expected: int | None = None,
) -> PageWalk[Item]:
    """Fetch pages 0, size, 2·size… with up to ``concurrency`` in flight, until a short page."""
    walk: PageWalk[Item] = PageWalk(key)
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
                answer = await fetch(offset, page_size + 1)
            except OffboardError as error:
                walk.failed[offset] = str(error)
                continue
            walk.pages[offset] = answer[:page_size]
            if len(answer) > page_size:
                walk.lookahead[offset] = answer[page_size]
            elif walk.end is None or offset < walk.end:
                walk.end = offset
            done += len(walk.pages[offset])
            if progress is not None:
                progress(done, expected)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return walk
