"""Bearer authentication with an Atlassian org API key."""

from __future__ import annotations

from offboard.adapters.http import BearerAuth


class BearerKey(BearerAuth):
    """The org API key (created without scopes) as ``Authorization: Bearer``; never logged."""
