"""Business rules of the user management API (reference §2) and directory actions (§1.5-1.6)."""

from __future__ import annotations

from offboard_emulators.atlassian.model import Account, ApiKey
from offboard_emulators.atlassian.state import (
    AtlassianState,
    ConflictError,
    NotFoundError,
    RefusedError,
)

PRIVILEGES = (
    "profile",
    "profile.write",
    "profile.read",
    "email.set",
    "lifecycle.enablement",
    "lifecycle.delete",
    "apiToken.read",
    "apiToken.delete",
)
PROFILE_FIELDS = (
    "name",
    "nickname",
    "zoneinfo",
    "locale",
    "extended_profile.job_title",
    "extended_profile.organization",
    "extended_profile.department",
    "extended_profile.location",
)
DEFAULT_DISABLE_MESSAGE = "Your account has been deactivated by your organization admin."


def manageable_account(state: AtlassianState, key: ApiKey, account_id: str) -> Account:
    """The target account if this key may manage it at all; else ``RefusedError``/``NotFoundError``.

    Scoped keys are refused (measured by jira.js); accounts of another org are
    ``forbidden``; accounts on an unverified domain are ``forbidden.targetUnverified``.
    """
    if key.scopes:
        raise RefusedError("forbidden")
    account = state.account(account_id)
    if account.account_status == "closed":
        raise NotFoundError(account_id)
    if account.org_id != key.org_id:
        raise RefusedError("forbidden")
    if state.claim_status(account) != "managed":
        domain = state.orgs[account.org_id].domain_named(account.email_domain)
        raise RefusedError("forbidden.targetUnverified" if domain else "forbidden")
    return account


def restriction(state: AtlassianState, key: ApiKey, account: Account, privilege: str) -> str | None:
    """The restriction reason key for ``privilege`` on ``account``, or ``None`` if allowed."""
    lifecycle = privilege.startswith("lifecycle.")
    if lifecycle and account.account_id == key.owner_account_id:
        return "administrative.notMyself"
    if lifecycle and account.management_source == "google":
        return "externalDirectory.google"
    settings = state.orgs[account.org_id].settings
    if (
        lifecycle
        and settings.scim_lifecycle_restricted
        and state.scim_links.get(account.account_id)
    ):
        return "externalDirectory.scim"
    if privilege == "lifecycle.enablement" and account.export_control_blocked:
        return "blocked.exportControl"
    synced_fields = privilege in ("email.set", "profile.write", "profile")
    if synced_fields and state.scim_links.get(account.account_id):
        return "externalDirectory.scim"
    return None


def _require(state: AtlassianState, key: ApiKey, account_id: str, privilege: str) -> Account:
    account = manageable_account(state, key, account_id)
    reason = restriction(state, key, account, privilege)
    if reason is not None:
        raise RefusedError("forbidden.action", reason)
    return account


def permissions(
    state: AtlassianState, key: ApiKey, account_id: str, wanted: list[str]
) -> dict[str, object]:
    """The ``GET /users/{id}/manage`` map for the requested privileges (all when none)."""
    account = manageable_account(state, key, account_id)
    result: dict[str, object] = {}
    for privilege in wanted or list(PRIVILEGES):
        reason = restriction(state, key, account, privilege)
        rule: dict[str, object] = {"allowed": reason is None}
        if reason is not None:
            rule["reason"] = {"key": reason}
        if privilege in ("profile", "profile.write"):
            result[privilege] = dict.fromkeys(PROFILE_FIELDS, rule)
        else:
            result[privilege] = rule
    return result


def disable(state: AtlassianState, key: ApiKey, account_id: str, message: str | None) -> None:
    """Deactivate; disabling an inactive account is a no-op unless the org asks for 409."""
    with state.lock:
        account = _require(state, key, account_id, "lifecycle.enablement")
        if account.account_status != "active":
            if state.orgs[account.org_id].settings.disable_inactive_conflict:
                raise ConflictError("ALREADY_INACTIVE", "The account is already deactivated.")
            return
        if account.lifecycle_conflict:
            raise ConflictError("OWNS_ENTITLEMENTS", "The account owns sites or entitlements.")
        state.before_write(account)
        account.account_status = "inactive"
        account.deactivated_on = state.clock()
        account.deactivated_by = "admin"
        account.disable_message = message or DEFAULT_DISABLE_MESSAGE
        state.changed()


def enable(state: AtlassianState, key: ApiKey, account_id: str) -> None:
    """Reactivate; refused while a deletion is pending or the SCIM link deactivated it."""
    with state.lock:
        account = _require(state, key, account_id, "lifecycle.enablement")
        if account.pending_deletion_at is not None:
            raise ConflictError("PENDING_DELETION", "Cancel the deletion before enabling.")
        if account.deactivated_by == "scim" and state.scim_links.get(account.account_id):
            raise RefusedError("forbidden.action", "externalDirectory.scim")
        state.before_write(account)
        account.account_status = "active"
        account.deactivated_on = None
        account.deactivated_by = None
        account.disable_message = None
        state.changed()


def delete(state: AtlassianState, key: ApiKey, account_id: str) -> None:
    """Start the 14-day deletion window; the account looks deactivated meanwhile."""
    with state.lock:
        account = _require(state, key, account_id, "lifecycle.delete")
        if account.lifecycle_conflict:
            raise ConflictError("OWNS_ENTITLEMENTS", "The account owns sites or entitlements.")
        if account.pending_deletion_at is None:
            state.before_write(account)
            account.pending_deletion_at = state.clock()
            account.account_status = "inactive"
            state.changed()


def cancel_delete(state: AtlassianState, key: ApiKey, account_id: str) -> None:
    """Stop a pending deletion; the account returns to its status before the deletion."""
    with state.lock:
        account = _require(state, key, account_id, "lifecycle.delete")
        if account.pending_deletion_at is not None:
            account.pending_deletion_at = None
            account.account_status = "inactive" if account.deactivated_on else "active"
            state.changed()


def set_membership(
    state: AtlassianState, org_id: str, directory_id: str, account_id: str, status: str | None
) -> None:
    """Suspend (``suspended``), restore (``active``) or remove (``None``) a membership.

    ``directory_id`` ``-`` acts on every directory the account belongs to.
    """
    with state.lock:
        org = state.org(org_id)
        account = state.account(account_id)
        if account.org_id != org_id:
            raise NotFoundError(account_id)
        if directory_id == "-":
            targets = [d for d in org.directories.values() if account_id in d.memberships]
        else:
            targets = [state.directory(org, directory_id)]
        targets = [d for d in targets if account_id in d.memberships]
        if not targets:
            raise NotFoundError(account_id)
        repeat = status is not None and all(d.memberships[account_id] == status for d in targets)
        if repeat and org.settings.membership_repeat_conflict:
            raise ConflictError("MEMBERSHIP_UNCHANGED", f"The membership is already {status}.")
        state.before_write(account)
        for directory in targets:
            if status is None:
                del directory.memberships[account_id]
            else:
                directory.memberships[account_id] = status
        state.changed()
