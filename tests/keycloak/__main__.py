"""`scripts/keycloak`: fetch, start, stop and inspect a real Keycloak server for the tests."""

from __future__ import annotations

import argparse
import sys

from tests.keycloak import server

USAGE = """\
commands:
  fetch    get keycloak-quarkus-dist {version} with Maven into ~/.m2, verify its sha1 and
           unpack it into {dist} (fast when cached)
  start    start a fresh server on free loopback ports with the test realm '{realm}',
           wait until it is ready and print its base URL; the state (with the test-only
           secrets, mode 0600) goes to {state}, where the test fixture finds and reuses it
  stop     stop that server cleanly and delete its instance directory
  status   say whether it runs, and where

Environment: OFFBOARD_KEYCLOAK_JAVA_HOME forces a JDK (default: newest of 25, 21, 17 found
in /usr/lib/jvm); XDG_CACHE_HOME moves the cache; MAVEN_REPO moves the Maven repository.
"""


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="scripts/keycloak",
        description="A real Keycloak server for the offboard tests.",
        epilog=USAGE.format(
            version=server.VERSION,
            dist=server.dist_dir(),
            realm=server.REALM,
            state=server.state_file(),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["fetch", "start", "stop", "status"])
    parser.add_argument("--timeout", type=float, default=server.START_TIMEOUT_S)
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args.timeout)
    except server.KeycloakUnavailableError as error:
        print(f"keycloak: {error}", file=sys.stderr)
        return 1


def _fetch(_: float) -> int:
    print(server.fetch())
    return 0


def _start(timeout_s: float) -> int:
    running = server.load_state()
    if running is not None:
        print(running.base_url)
        return 0
    info = server.start_server(timeout_s)
    server.save_state(info)
    print(info.base_url)
    return 0


def _stop(_: float) -> int:
    path = server.state_file()
    if path.exists():
        info = server.read_state()
        server.stop_server(info)
        path.unlink()
    print("stopped")
    return 0


def _status(_: float) -> int:
    running = server.load_state()
    if running is None:
        print("not running")
        return 3
    print(f"running: {running.base_url} (realm {running.realm}, pid {running.pid})")
    return 0


COMMANDS = {"fetch": _fetch, "start": _start, "stop": _stop, "status": _status}

if __name__ == "__main__":
    sys.exit(main())
