"""A stale plan's people are re-read in batches, each read used only while it is fresh."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from offboard.core.identities import Identity, IdentityId
from offboard.core.snapshots import SourceSnapshot
from offboard.executor.fresh_reads import FreshReads
from offboard.ports import TemporaryError
from tests.executor.fakes import T0
from tests.executor.test_preflight import Keycloak, _person


@dataclass
class Batching(Keycloak):
    batches: list[list[str]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        if identity_id in self.failing:
            raise TemporaryError(f"read of {identity_id} failed", status=503)
        return await super().read_identity(identity_id)

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        wanted = list(candidates)
        self.batches.append(wanted)
        readable = [i for i in wanted if i not in self.failing]  # a failed read is left out
        return await super().confirm(snapshot, readable)


def people(n: int) -> Batching:
    return Batching({f"id-{i}": _person(i, enabled=False) for i in range(n)})


async def test_each_person_is_read_once_in_batches_of_fifty() -> None:
    keycloak = people(120)
    fresh = FreshReads(keycloak, timedelta(seconds=5))  # type: ignore[arg-type]
    ids = [IdentityId(f"id-{i}") for i in range(120)]
    fresh.expect(ids)
    for n, identity_id in enumerate(ids):
        got = await fresh.read(identity_id, T0 + timedelta(milliseconds=n))
        assert got is not None
        assert got.id == identity_id
    assert [len(b) for b in keycloak.batches] == [50, 50, 20]
    assert sorted(keycloak.reads) == sorted(ids)  # nobody read twice


async def test_a_read_older_than_the_limit_is_taken_again() -> None:
    keycloak = people(3)
    fresh = FreshReads(keycloak, timedelta(seconds=5))  # type: ignore[arg-type]
    fresh.expect([IdentityId("id-0"), IdentityId("id-1"), IdentityId("id-2")])
    await fresh.read(IdentityId("id-0"), T0)
    assert keycloak.batches == [["id-0", "id-1", "id-2"]]
    keycloak.people["id-1"] = _person(1, enabled=True)  # came back meanwhile
    later = await fresh.read(IdentityId("id-1"), T0 + timedelta(seconds=6))
    assert later is not None
    assert later.enabled  # the five-second-old read was not trusted
    assert keycloak.batches[1] == ["id-1", "id-2"]


async def test_a_deleted_person_reads_as_gone() -> None:
    keycloak = people(2)
    keycloak.people["id-1"] = None
    fresh = FreshReads(keycloak, timedelta(seconds=5))  # type: ignore[arg-type]
    fresh.expect([IdentityId("id-0"), IdentityId("id-1")])
    assert await fresh.read(IdentityId("id-0"), T0) is not None
    assert await fresh.read(IdentityId("id-1"), T0) is None


async def test_a_person_the_batch_could_not_read_fails_as_a_read_of_one() -> None:
    keycloak = people(2)
    keycloak.failing = {"id-1"}
    fresh = FreshReads(keycloak, timedelta(seconds=5))  # type: ignore[arg-type]
    fresh.expect([IdentityId("id-0"), IdentityId("id-1")])
    assert await fresh.read(IdentityId("id-0"), T0) is not None
    with pytest.raises(TemporaryError):
        await fresh.read(IdentityId("id-1"), T0)
