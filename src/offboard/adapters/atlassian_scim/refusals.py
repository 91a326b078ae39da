"""SCIM refusals in words: a 400 or 409 ``ScimError`` said as the problem and its fix.

The shared error mapping keeps the (scrubbed) body in the message; for a SCIM write that
is a JSON document an operator has to decode. Atlassian documents ``scimType`` values
(``uniqueness`` on POST when the user exists, ``invalidValue`` for a bad payload, an email
off the verified domains among them), so each gets one sentence on what to do. The error
keeps its class: a 409 stays a :class:`ConflictError`, which a create's race relies on.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from scim2_models import Error as ScimErrorBody

from offboard.ports import AuthenticationError, NotFoundError, PermanentError

HINTS = {
    "uniqueness": (
        "another SCIM user or Atlassian account already holds this userName or email: "
        "free that address in Atlassian, or change it in Keycloak"
    ),
    "invalidValue": (
        "Atlassian refused a value: a user's email must be on a domain verified in Atlassian, "
        "names within its limits, a group at most its size"
    ),
    "mutability": "the attribute cannot be changed through SCIM",
    "invalidSyntax": "the request was not a SCIM document Atlassian accepts",
    "invalidPath": "the PATCH names an attribute Atlassian does not know",
    "noTarget": "the PATCH names nothing to change",
    "tooMany": "the request asked for more than Atlassian returns at once",
}


def _scim_error(message: str, status: int) -> ScimErrorBody | None:
    """The ``ScimError`` body kept at the end of ``message``, if it holds one."""
    marker = f"HTTP {status}: "
    _, found, body = message.partition(marker)
    if not found:
        return None
    try:
        return ScimErrorBody.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return None


def explained(error: PermanentError) -> PermanentError:
    """``error`` again with its SCIM refusal in words (400 and 409 only); else unchanged."""
    status = error.status
    if status not in (400, 409) or isinstance(error, AuthenticationError | NotFoundError):
        return error
    body = _scim_error(str(error), status)
    if body is None:
        return error
    what = str(error).partition(f": HTTP {status}: ")[0]
    kind = body.scim_type or "refused"
    detail = (body.detail or "").rstrip(".")
    hint = HINTS.get(body.scim_type or "")
    words = f"{what}: Atlassian refused it (HTTP {status} {kind})"
    words += f": {detail}" if detail else ""
    words += f". {hint[0].upper()}{hint[1:]}" if hint else ""
    return type(error)(words, status=status)
