"""Atlassian Organizations (v1/v2) and User management APIs, with the org API key."""

from offboard.adapters.atlassian_org.auth import BearerKey
from offboard.adapters.atlassian_org.checks import self_check
from offboard.adapters.atlassian_org.client import OrgAdapter

__all__ = ["BearerKey", "OrgAdapter", "self_check"]
