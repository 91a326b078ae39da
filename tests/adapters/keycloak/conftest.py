"""Fixtures for the Keycloak adapter's unit tests: a fake realm and a source wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import stamina
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from tests.adapters.keycloak.fake import BASE, REALM, SECRET, FakeKeycloak


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    """Retries happen, without the waits."""
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture
def fake() -> FakeKeycloak:
    return FakeKeycloak()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


async def no_sleep(_: float) -> None:
    return None


def make_source(
    fake: FakeKeycloak, clock: FixedClock | None = None, **options: object
) -> KeycloakSource:
    scope = options.pop("scope", KeycloakScope())
    assert isinstance(scope, KeycloakScope)
    return KeycloakSource(
        BASE,
        REALM,
        "offboard",
        SecretStr(SECRET),
        scope=scope,
        transport=fake.transport(),
        clock=clock,
        sleep=options.pop("sleep", no_sleep),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def source(fake: FakeKeycloak, clock: FixedClock) -> AsyncIterator[KeycloakSource]:
    async with make_source(fake, clock, page_size=10, concurrency=3) as made:
        yield made
