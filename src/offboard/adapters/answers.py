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
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from offboard.ports import PermanentError

M = TypeVar("M", bound=BaseModel)
_SHOWN = 3
"""Problems named in one message; the rest are counted."""


class WireModel(BaseModel):
    """Base of the vendor wire models: unknown fields ignored, ``null`` taken as absent.

    Atlassian sends ``null`` for fields its clients type as nullish (``deactivatedOn``,
    ``managementSource``, ...); a ``null`` ``links`` or ``email`` means nothing else than one
    left out. Dropping them lets the field's default apply, while a required field still
    fails loudly (:func:`parse_answer`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


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
