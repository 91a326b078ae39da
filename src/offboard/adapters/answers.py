"""Reading a vendor's answer into its wire model, or saying plainly why it cannot be read.

The wire models ignore fields a vendor adds (a new field never breaks a read) but require
the ones offboard decides on. When an answer lacks one, or holds something else there
(HTML from a proxy, a ``null`` where an id belongs), pydantic's own report is a dump of
its internals; an operator needs the call, the field and the fact that offboard refused to
guess. The error is a :class:`offboard.ports.PermanentError`: asking again gives the same
answer, and every caller already handles that family (a snapshot marks itself incomplete,
an action is recorded as failed) rather than an unexpected exception.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticUseDefault

from offboard.ports import PermanentError

M = TypeVar("M", bound=BaseModel)
_SHOWN = 3
"""Problems named in one message; the rest are counted."""


def _absent_if_null(value: Any) -> Any:
    if value is None:
        raise PydanticUseDefault  # the field's default, as for a field left out
    return value


OrAbsent = BeforeValidator(_absent_if_null)
"""On a field with a default (``links: Annotated[Links, OrAbsent] = Links()``): ``null``
reads as absent. A nullish field (``str | None = None``) needs none: pydantic takes its
``null`` itself, in Rust. Never on a page's list of items: pydantic would then build the
whole list as Python objects before validating it (reading an account went from 2.5 to
3.8 µs); a page whose ``data`` is ``null`` is refused as malformed. A validator on the whole
model doubled the cost (5.2 µs)."""


class WireModel(BaseModel):
    """Base of the vendor wire models: unknown fields ignored, ``null`` taken as absent.

    Atlassian sends ``null`` for fields its clients type as nullish (``deactivatedOn``,
    ``managementSource``, ...); a ``null`` ``links`` or ``email`` means nothing else than one
    left out. Nullish fields take it as None; a field with another default carries
    :data:`OrAbsent`; a required field still fails loudly (:func:`parse_answer`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class MalformedAnswerError(PermanentError):
    """The vendor answered with a success whose body lacks or mistypes a required field."""


def _place(location: tuple[int | str, ...]) -> str:
    """``data[3].accountId`` for pydantic's ``("data", 3, "accountId")``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "the body"


def describe(error: ValidationError) -> str:
    """The first few problems, each as ``field: missing`` or ``field: what was wrong``."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False)[:_SHOWN]:
        what = "missing" if problem["type"] == "missing" else problem["msg"].lower()
        problems.append(f"{_place(problem['loc'])}: {what}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def parse_answer(
    model: type[M], response: httpx.Response, what: str, *, vendor: str = "Atlassian"
) -> M:
    """``response``'s JSON body as ``model``; :class:`MalformedAnswerError` when it is not one."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        raise MalformedAnswerError(
            f"{what}: {vendor} answered HTTP {response.status_code} with a body offboard "
            f"cannot read ({describe(error)}); nothing was taken from it",
            status=response.status_code,
        ) from None
