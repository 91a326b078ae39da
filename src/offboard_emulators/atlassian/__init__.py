"""Emulator of Atlassian Cloud's admin APIs (Organizations v1/v2, User management, SCIM).

It follows Atlassian's published documents (see docs/emulators/atlassian.md), never the
offboard adapter. Entry points: :func:`create_app`, :func:`main`, and
``offboard_emulators.common.server.serve_in_thread``.
"""

from offboard_emulators.atlassian.app import EmulatorParts, create_app
from offboard_emulators.atlassian.cli import main
from offboard_emulators.atlassian.fixture import generate_accounts, load_fixture, seed
from offboard_emulators.atlassian.state import AtlassianState

__all__ = [
    "AtlassianState",
    "EmulatorParts",
    "create_app",
    "generate_accounts",
    "load_fixture",
    "main",
    "seed",
]
