"""Who is looking at the console, as the login layer left it on the request.

The login layer (OpenID Connect against the company's Keycloak) authenticates each request
to the console and sets two things on ``request.state``: ``console_user`` (a
:class:`ConsoleUser`) and ``csrf_token`` (the token every form posts back in a field named
:data:`CSRF_FIELD`). Pages and forms read them only through the functions here, so the
pages never depend on how the login is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

VIEWER = "viewer"
OPERATOR = "operator"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class ConsoleUser:
    """A logged-in person: their Keycloak subject, names and console roles."""

    subject: str
    username: str
    name: str
    email: str | None
    roles: frozenset[str]

    @property
    def can_act(self) -> bool:
        """Operators may act (release, override, link, retry); viewers only see."""
        return OPERATOR in self.roles

    @property
    def actor(self) -> str:
        """How the journal names this person: ``console:<username> (sub <subject>)``.

        The username for people to read; the subject because a realm may let users edit
        their username (a journal that said only ``console:bob`` could be made to name
        someone else), while Keycloak's subject never changes."""
        return f"console:{self.username} (sub {self.subject})"


def console_user(request: Request) -> ConsoleUser | None:
    """The logged-in person, or None when the login layer let the request through without
    one (only the probes and the login pages themselves)."""
    user = getattr(request.state, "console_user", None)
    return user if isinstance(user, ConsoleUser) else None


def csrf_token(request: Request) -> str:
    """The token to embed in every form of this response (empty without a session)."""
    token = getattr(request.state, "csrf_token", "")
    return token if isinstance(token, str) else ""
