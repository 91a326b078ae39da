"""Listed users cast to identities: names, attributes and the scope's vouched values."""

from __future__ import annotations

from typing import Any

import pytest

from offboard.adapters.keycloak.casting import NO_ATTRIBUTES, identity_from_listing
from offboard.adapters.keycloak.wire import UserRep


def _user(**fields: Any) -> UserRep:
    return UserRep.model_validate({"id": "u-1", "username": "ada", "enabled": True, **fields})


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [("Ada", "Lovelace", "Ada Lovelace"), ("Ada", None, "Ada"), (None, "Lovelace", "Lovelace"),
     ("", "Lovelace", "Lovelace"), (" Ada ", "", "Ada"), (" Ada", "Lovelace ", "Ada Lovelace"),
     (None, None, ""), ("", "", "")],
)  # fmt: skip
def test_the_display_name_is_first_and_last_name_as_held(
    first: str | None, last: str | None, shown: str
) -> None:
    assert identity_from_listing(_user(firstName=first, lastName=last)).display_name == shown


def test_a_brief_listing_shares_one_empty_attribute_mapping() -> None:
    """50,000 listed users without attributes hold one mapping between them, not 50,000."""
    one, two = identity_from_listing(_user()), identity_from_listing(_user(id="u-2"))
    assert one.attributes is NO_ATTRIBUTES
    assert two.attributes is NO_ATTRIBUTES


def test_vouched_values_join_the_attributes_without_touching_the_shared_empty_one() -> None:
    vouched = {"dept": "eng"}
    listed = identity_from_listing(_user(), vouched=vouched)
    assert dict(listed.attributes) == {"dept": ("eng",)}
    assert dict(NO_ATTRIBUTES) == {}
    held = identity_from_listing(_user(attributes={"dept": ["ops"]}), vouched=vouched)
    assert dict(held.attributes) == {"dept": ("ops", "eng")}
