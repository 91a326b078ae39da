"""Atlassian user provisioning (SCIM 2.0) API, with a directory key."""

from offboard.adapters.atlassian_scim.client import ScimAdapter
from offboard.adapters.atlassian_scim.wire import ScimUser

__all__ = ["ScimAdapter", "ScimUser"]
