"""`python -m offboard_emulators.keycloak --port N [--seed FILE]`: serve the emulator."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.seed import add_bulk_users


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until interrupted (loopback by default)."""
    parser = argparse.ArgumentParser(
        prog="python -m offboard_emulators.keycloak",
        description="Keycloak Admin API emulator (token endpoint, users, events, brute force).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8180)
    parser.add_argument(
        "--seed",
        type=Path,
        help="realm-import JSON (the format kc.sh --import-realm reads; ${NAME} from the env)",
    )
    parser.add_argument("--bulk-users", type=int, default=0, help="add N generated users")
    args = parser.parse_args(argv)
    state = EmulatorState.from_seed_file(args.seed) if args.seed else EmulatorState()
    if args.bulk_users:
        add_bulk_users(state.realm, args.bulk_users)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
