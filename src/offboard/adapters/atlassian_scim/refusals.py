"""SCIM refusals in words: a 400 or 409 ``ScimError`` said as the problem and its fix.

The shared error mapping keeps the (scrubbed) body in the message; for a SCIM write that
is a JSON document an operator has to decode. Atlassian documents ``scimType`` values
(``uniqueness`` on POST when the user exists, ``invalidValue`` for a bad payload, an email
off the verified domains among them), so each gets one sentence on what to do. The words
replace the body through the mapping's ``explain`` hook (``adapters.http.error_for``), so the
error keeps its class: a 409 stays a :class:`ConflictError`, which a create's race relies on.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError
from scim2_models import Error as ScimErrorBody

from offboard.adapters.http import MAX_BODY_CHARS, scrub

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


def refusal_words(response: httpx.Response) -> str | None:
    """``<scimType>: <detail>. <what to do>`` of a ``ScimError`` answer; None when the body
    is not one (the mapping then keeps the body as it is)."""
    try:
        body = ScimErrorBody.model_validate(response.json())
    except (ValueError, UnicodeDecodeError, ValidationError):
        return None
    kind = body.scim_type or "refused"
    detail = scrub((body.detail or "").rstrip("."))[:MAX_BODY_CHARS]
    hint = HINTS.get(body.scim_type or "")
    words = f"{kind}: Atlassian refused it" + (f": {detail}" if detail else "")
    return words + (f". {hint[0].upper()}{hint[1:]}" if hint else "")
