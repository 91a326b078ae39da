"""A joiner offboard provisioned is linked to the account the SCIM create named, and only
when neither the person nor the account is linked already."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.service.provisioning_links import link_joiners
from offboard.store import open_store

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def test_only_unlinked_people_and_accounts_are_paired(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.sqlite3")
    try:
        earlier = NOW.replace(year=2025)
        store.upsert_links(
            [
                Link(IdentityId("kc-old"), AccountId("acc-9"), "old@acme.test", earlier),
                Link(IdentityId("kc-b"), AccountId("acc-8"), "b@acme.test", earlier),
            ]
        )
        created = {
            "kc-a": ("acc-1", "a@acme.test"),  # both free: linked
            "kc-b": ("acc-2", "b@acme.test"),  # the person is linked elsewhere: left alone
            "kc-c": ("acc-9", "c@acme.test"),  # the account is someone else's: left alone
        }
        made = link_joiners(created, store, NOW)
        assert [(link.identity_id, link.account_id) for link in made] == [("kc-a", "acc-1")]
        (stored,) = store.links(identity_ids=["kc-a"])
        assert (stored.account_id, stored.email, stored.linked_at) == ("acc-1", "a@acme.test", NOW)
        assert [link.account_id for link in store.links(identity_ids=["kc-b"])] == ["acc-8"]
        assert link_joiners({}, store, NOW) == []
    finally:
        store.close()
