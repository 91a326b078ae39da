"""The ``[keycloak]`` and ``[atlassian]`` sections: where offboard reads and acts."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from offboard.core.policy import Scope
from offboard.settings.values import (
    Duration,
    Section,
    check_group_path,
    keycloak_root,
    read_secret,
    secure_url,
)


class KeycloakSettings(Section):
    """The Keycloak realm offboard reads identities and admin events from."""

    base_url: str = Field(examples=["https://sso.example.com"])
    """Keycloak's base URL, e.g. ``https://sso.example.com`` (without ``/admin``); credentials
    in it (``user:password@``) are refused."""
    realm: str = Field(examples=["staff"])
    """The realm whose users are offboarded."""
    client_id: str = "offboard"
    """Confidential client with a service account (client-credentials grant)."""
    client_secret: SecretStr | None = None
    """The client's secret; prefer ``client_secret_file`` or the environment."""
    client_secret_file: Path | None = None
    """A file holding the client secret (e.g. a systemd credential)."""
    scope_groups: list[str] = Field(default_factory=list)
    """Only direct members of these groups are in scope: full paths as Keycloak's Groups page
    shows them, e.g. ``/staff/eng`` (case-sensitive, no trailing ``/``)."""
    scope_attribute: str | None = None
    """Only users with this attribute value are in scope, as ``name=value`` (not with groups).
    On Keycloak 24+ the realm's user profile must declare the attribute (or unmanaged
    attributes be on): an undeclared one is dropped, and ``config check`` says so."""
    page_size: int = Field(default=1000, ge=1, le=1000)
    """Users per page when listing the realm (brief representations; 1000 measured about four
    times faster than 100 on a 10k-user realm, see benchmarks/bench_keycloak.py)."""
    verify_tls: Literal[True] = True
    """TLS certificates are always verified; use ``ca_bundle`` for a private CA."""
    ca_bundle: Path | None = None
    """A PEM file of CA certificates to trust in addition to the system store."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for one HTTP response."""

    @model_validator(mode="after")
    def _resolve(self) -> KeycloakSettings:
        object.__setattr__(self, "base_url", keycloak_root(secure_url("base_url", self.base_url)))
        if not self.realm.strip() or "/" in self.realm:
            # It becomes a URL path segment: "" or "a/b" would ask another endpoint.
            raise ValueError(f"realm: {self.realm!r} is not a realm name (not empty, no '/')")
        secret = read_secret(self.client_secret, self.client_secret_file, "client_secret")
        if secret is None:
            raise ValueError(
                "client_secret: missing (set OFFBOARD_KEYCLOAK__CLIENT_SECRET or "
                "keycloak.client_secret_file)"
            )
        object.__setattr__(self, "client_secret", secret)
        if self.scope_attribute is not None and not re.fullmatch(
            r"[^\s:=]+=[^\s]+", self.scope_attribute
        ):
            raise ValueError("scope_attribute: must read name=value (no blanks, no colon)")
        if self.scope_groups and self.scope_attribute:
            raise ValueError("scope_attribute: choose scope_groups or scope_attribute, not both")
        for group in self.scope_groups:
            check_group_path("scope_groups", group, "/staff/eng")
        return self

    @property
    def scope(self) -> Scope:
        attribute = None
        if self.scope_attribute:
            name, _, value = self.scope_attribute.partition("=")
            attribute = (name.strip(), value.strip())
        return Scope(groups=frozenset(self.scope_groups), attribute=attribute)


class AtlassianSettings(Section):
    """The Atlassian Cloud organization whose accounts offboard manages."""

    base_url: str = "https://api.atlassian.com"
    """The admin API's base URL; only changed to point at an emulator."""
    org_id: str = Field(examples=["0a1b2c3d-4e5f-6789-abcd-ef0123456789"])
    """The organization id (admin.atlassian.com → Settings → API keys shows it)."""
    directory_id: str | None = None
    """The org directory to act in; unset: the org's only one, or all of them (``-``)."""
    api_key: SecretStr | None = None
    """An organization API key created WITHOUT scopes; prefer ``api_key_file``."""
    api_key_file: Path | None = None
    """A file holding the organization API key."""
    key_owner_account_id: str | None = None
    """The account owning the API key: never acted on (else learned from Atlassian's refusal)."""
    directory_read: Literal["auto", "walk", "targeted"] = "auto"
    """How a full run reads Atlassian: ``walk`` the whole directory, or ``targeted`` searches
    for only the accounts its plan needs (by id and by email); ``auto``: the cheaper, in
    requests. Both give the same deprovisioning decisions; the licence check always walks."""
    api_key_expires_on: date | None = None
    """The org API key's expiry date (shown at creation): warnings 30, 14 and 7 days ahead."""
    scim_directory_id: str | None = None
    """The Atlassian SCIM directory of SCIM-linked accounts, if any."""
    scim_api_key: SecretStr | None = None
    """That SCIM directory's API key; without it SCIM-linked leavers are blocked."""
    scim_api_key_file: Path | None = None
    """A file holding the SCIM directory's API key."""
    scim_api_key_expires_on: date | None = None
    """The SCIM directory key's expiry date: warnings 30, 14 and 7 days ahead."""
    max_rate_limit_pause: Duration = timedelta(minutes=5)
    """Longest rate-limit pause (more than zero, at most 1h); a longer reset fails the call
    instead of stalling."""
    rate_limit_per_second: float = Field(default=10.0, gt=0, le=1000)
    """Requests per second offboard allows itself towards Atlassian."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for one HTTP response."""

    @model_validator(mode="after")
    def _resolve(self) -> AtlassianSettings:
        if not timedelta(0) < self.max_rate_limit_pause <= timedelta(hours=1):
            raise ValueError("max_rate_limit_pause: must be more than zero and at most 1h")
        object.__setattr__(self, "base_url", secure_url("base_url", self.base_url))
        key = read_secret(self.api_key, self.api_key_file, "api_key")
        if key is None:
            raise ValueError(
                "api_key: missing (set OFFBOARD_ATLASSIAN__API_KEY or atlassian.api_key_file)"
            )
        object.__setattr__(self, "api_key", key)
        scim = read_secret(self.scim_api_key, self.scim_api_key_file, "scim_api_key")
        object.__setattr__(self, "scim_api_key", scim)
        if scim is not None and not self.scim_directory_id:
            raise ValueError("scim_directory_id: missing (scim_api_key is set)")
        return self

    @property
    def scim_configured(self) -> bool:
        return self.scim_directory_id is not None and self.scim_api_key is not None
