"""Which Keycloak users offboard looks after: the whole realm, some groups, or an attribute."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeycloakScope:
    """At most one of ``group_paths`` and ``attributes``; neither means the whole realm.

    Group scope takes the direct members of each group (``/staff/eng``), not of its subgroups:
    list subgroups explicitly. The attribute filter is Keycloak's ``q=key:value`` query.
    """

    group_paths: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.group_paths and self.attributes:
            raise ValueError("choose a group scope or an attribute filter, not both")
        for path in self.group_paths:
            if not path.strip("/"):
                raise ValueError(f"group path {path!r} names no group")
        for key, value in self.attributes.items():
            if not key or " " in key or ":" in key or " " in value:
                raise ValueError(f"attribute filter {key!r}:{value!r} cannot be expressed in q=")

    @property
    def query(self) -> str | None:
        """The ``q`` parameter for an attribute scope."""
        if not self.attributes:
            return None
        return " ".join(f"{key}:{value}" for key, value in sorted(self.attributes.items()))

    def describe(self) -> str:
        if self.group_paths:
            return "members of " + ", ".join(self.group_paths)
        if self.attributes:
            return f"users matching q={self.query}"
        return "all users of the realm"
