"""Helpers for the Atlassian adapter tests: documented sample payloads and a scripted server."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from offboard.adapters.atlassian_org import BearerKey, OrgAdapter
from offboard.adapters.http import build_client

SAMPLES = Path(__file__).parents[2] / "samples"
ORG = "org-1"
DIR = "dir-1"
BASE = "https://api.atlassian.test"
ORG_KEY = "ATCTT3xFfGN0-org-key-secret"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    """A vendor-documented payload from ``tests/samples``."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


class Script:
    """A loopback-free fake server: queued replies per (method, path); the last one repeats."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], list[Reply]] = defaultdict(list)
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *replies: Reply) -> Script:
        self.replies[(method, path)].extend(replies)
        return self

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"errors": [{"code": "ADMIN-404-1"}]})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    """No real waiting in fast tests; up to 5 attempts as in production."""
    with stamina.set_testing(True, attempts=5):
        yield


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def org(script: Script) -> AsyncIterator[OrgAdapter]:
    transport = httpx.MockTransport(script)
    async with build_client(BASE, auth=BearerKey(ORG_KEY), transport=transport) as client:
        yield OrgAdapter(client, ORG, DIR, key_owner_account_id="owner-1")
