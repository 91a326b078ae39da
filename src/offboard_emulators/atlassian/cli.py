"""Command line: ``python -m offboard_emulators.atlassian --port N [--seed FILE]``."""

from __future__ import annotations

import argparse

import uvicorn

from offboard_emulators.atlassian.app import create_app
from offboard_emulators.atlassian.fixture import load_fixture, seed
from offboard_emulators.atlassian.state import AtlassianState
from offboard_emulators.common.server import LOOPBACK


def build_parser() -> argparse.ArgumentParser:
    """The emulator's options."""
    parser = argparse.ArgumentParser(
        prog="python -m offboard_emulators.atlassian",
        description="Emulate api.atlassian.com (Organizations, User management, SCIM) locally.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="address to listen on (default loopback)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    parser.add_argument("--seed", metavar="FILE", help="JSON fixture to load at start")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the emulator in the foreground until interrupted."""
    options = build_parser().parse_args(argv)
    state = AtlassianState()
    if options.seed:
        seed(state, load_fixture(options.seed))
    uvicorn.run(create_app(state), host=options.host, port=options.port, log_level="warning")
