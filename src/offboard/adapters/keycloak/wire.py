"""Keycloak Admin REST API payloads, as the 26.x OpenAPI document describes them.

Only the fields offboard reads are declared; everything else is ignored, so that a newer
server adding fields never breaks a read. Required fields are the ones we refuse to guess.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TokenResponse(WireModel):
    """Answer of the OIDC token endpoint to a client-credentials grant."""

    access_token: SecretStr
    expires_in: int = Field(default=300, ge=1)


class UserRep(WireModel):
    """``UserRepresentation``; the brief form carries id, username, email, enabled, timestamps."""

    id: str = Field(min_length=1)
    username: str = ""
    email: str | None = None
    enabled: bool
    """Required: a user whose enabled flag is missing is never taken as enabled or disabled."""
    createdTimestamp: int | None = None  # noqa: N815 - wire name
    federationLink: str | None = None  # noqa: N815 - wire name
    serviceAccountClientId: str | None = None  # noqa: N815 - wire name
    attributes: dict[str, list[str]] | None = None
    firstName: str | None = None  # noqa: N815 - wire name
    lastName: str | None = None  # noqa: N815 - wire name


class GroupRep(WireModel):
    """``GroupRepresentation``: the fields needed to page members and name the group."""

    id: str
    name: str = ""
    path: str = ""


class AdminEventRep(WireModel):
    """``AdminEventRepresentation``; ``resourcePath`` is ``users/{id}`` for user changes."""

    id: str | None = None
    time: int
    realmId: str | None = None  # noqa: N815 - wire name
    operationType: str = ""  # noqa: N815 - wire name
    resourceType: str = ""  # noqa: N815 - wire name
    resourcePath: str = ""  # noqa: N815 - wire name


class UserEventRep(WireModel):
    """``EventRepresentation`` (user, or "login", events)."""

    id: str | None = None
    time: int
    realmId: str | None = None  # noqa: N815 - wire name
    type: str = ""
    userId: str | None = None  # noqa: N815 - wire name


class EventsConfigRep(WireModel):
    """``RealmEventsConfigRepresentation`` from ``events/config``."""

    eventsEnabled: bool = False  # noqa: N815 - wire name
    eventsExpiration: int | None = None  # noqa: N815 - wire name
    enabledEventTypes: list[str] = Field(default_factory=list)  # noqa: N815 - wire name
    adminEventsEnabled: bool = False  # noqa: N815 - wire name
    adminEventsDetailsEnabled: bool = False  # noqa: N815 - wire name


class RealmRep(WireModel):
    """The part of ``RealmRepresentation`` the self-check and the confirmation read."""

    id: str | None = None
    """The realm's internal id: what events (and webhooks) name it by."""
    realm: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)
    bruteForceProtected: bool = True  # noqa: N815 - wire name
    """Missing is taken as on: only a realm that says it is off can skip lockout checks."""
    duplicateEmailsAllowed: bool = False  # noqa: N815 - wire name


class BruteForceStatus(WireModel):
    """``attack-detection/brute-force/users/{id}``: a free-form map; ``disabled`` is the lockout."""

    disabled: bool = False
    numFailures: int = 0  # noqa: N815 - wire name


USER = TypeAdapter(UserRep)
USERS = TypeAdapter(list[UserRep])
GROUP = TypeAdapter(GroupRep)
GROUPS = TypeAdapter(list[GroupRep])
ADMIN_EVENTS = TypeAdapter(list[AdminEventRep])
USER_EVENTS = TypeAdapter(list[UserEventRep])
COUNT = TypeAdapter(int)
BRUTE_FORCE = TypeAdapter(BruteForceStatus)
EVENTS_CONFIG = TypeAdapter(EventsConfigRep)
REALM = TypeAdapter(RealmRep)


class ProfileAttributePermissions(WireModel):
    view: list[str] = Field(default_factory=list)
    edit: list[str] = Field(default_factory=list)


class ProfileAttribute(WireModel):
    """One attribute the realm's user profile declares (Keycloak 24+)."""

    name: str
    permissions: ProfileAttributePermissions = Field(default_factory=ProfileAttributePermissions)


class UserProfileConfig(WireModel):
    """``GET users/profile``: declared attributes, and what happens to the others."""

    attributes: list[ProfileAttribute] = Field(default_factory=list)
    unmanagedAttributePolicy: str | None = None  # noqa: N815 - wire name
    """Unset: unmanaged attributes are off, and Keycloak drops any attribute not declared."""


class GroupTree(WireModel):
    """A group as ``GET groups?search=`` lists it, with the subgroups that lead to a match."""

    name: str = ""
    path: str = ""
    subGroups: list[GroupTree] = Field(default_factory=list)  # noqa: N815 - wire name


USER_PROFILE = TypeAdapter(UserProfileConfig)
GROUP_TREES = TypeAdapter(list[GroupTree])


class CheckedUserRep(UserRep):
    """A listed user with ``access``: what the caller may do to them (the self-check's)."""

    access: dict[str, bool] = Field(default_factory=dict)


CHECKED_USERS = TypeAdapter(list[CheckedUserRep])
