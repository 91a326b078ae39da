"""Every Atlassian wire field with a default reads ``null`` as absent, at no cost per item.

Atlassian sends ``null`` for what its clients type as nullish; a field with a default must
take it as left out (``answers.OrAbsent``), or a whole walk fails on one ``null``. A page's
list of items is the exception: a validator there makes pydantic build the whole page as
Python objects first (50,000 accounts, each read half again as slowly), and a page whose
items are ``null`` is refused as malformed instead.
"""

from __future__ import annotations

import inspect
import typing

import pytest
from pydantic_core import PydanticUndefined

from offboard.adapters.answers import OrAbsent, WireModel
from offboard.adapters.atlassian_org import usage_wire
from offboard.adapters.atlassian_org import wire as org_wire
from offboard.adapters.atlassian_org.wire import DirectoryUserPage
from offboard.adapters.atlassian_scim import wire as scim_wire

ITEM_LISTS = {("data", list), ("resources", list)}
"""A page's items: refused when ``null``, never validated item by item in Python."""


def _fields_with_defaults() -> list[tuple[str, str, object]]:
    found = []
    for module in (org_wire, usage_wire, scim_wire):
        for name, model in vars(module).items():
            if not (inspect.isclass(model) and issubclass(model, WireModel)):
                continue
            if model.__module__ != module.__name__:
                continue
            for field, info in model.model_fields.items():
                nullish = type(None) in typing.get_args(info.annotation)
                default = info.default is not PydanticUndefined or info.default_factory
                if default and not nullish:
                    found.append((f"{name}.{field}", field, info))
    return found


@pytest.mark.parametrize(("where", "field", "info"), _fields_with_defaults())
def test_a_field_with_a_default_takes_null_as_absent(where: str, field: str, info: object) -> None:
    origin = typing.get_origin(info.annotation) or info.annotation  # type: ignore[attr-defined]
    marked = any(m is OrAbsent for m in info.metadata)  # type: ignore[attr-defined]
    if (field, origin) in ITEM_LISTS:
        assert not marked, f"{where}: a page's items must not carry a validator"
    else:
        assert marked, f"{where} has a default: annotate it Annotated[..., OrAbsent]"


def test_null_links_and_nullish_fields_read_as_absent() -> None:
    body = (
        b'{"data": [{"accountId": "a1", "email": null, "managementSource": null,'
        b' "deactivatedOn": null}], "links": null}'
    )
    page = DirectoryUserPage.model_validate_json(body)
    assert page.data[0].email is None
    assert page.links.next is None


def test_a_page_whose_items_are_null_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        DirectoryUserPage.model_validate_json(b'{"data": null, "links": {}}')
