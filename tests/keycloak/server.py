"""Run a real Keycloak server from the Maven distribution, for the tests and by hand.

`scripts/keycloak` is the command line of this module (fetch, start, stop, status); the
`keycloak_server` pytest fixture (tests/keycloak/fixture.py) calls `start_server` and
`stop_server` directly. Every server gets a fresh copy of the unpacked distribution, free
loopback ports, the in-memory dev database, the realm `tests/keycloak/realm-offboard-test.json`
and freshly generated test-only secrets, so servers never share state.
The state file (mode 0600, it holds the secrets) lets a test session reuse a server that was
started by hand with `scripts/keycloak start`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from offboard_emulators.common.server import free_port as free_port
from offboard_emulators.common.server import free_ports as free_ports
from tests.keycloak.distribution import VERSION as VERSION
from tests.keycloak.distribution import KeycloakUnavailableError as KeycloakUnavailableError
from tests.keycloak.distribution import cache_dir, fetch, find_java_home
from tests.keycloak.distribution import dist_dir as dist_dir

REALM = "offboard-test"
CLIENT_ID = "offboard"
LOGIN_CLIENT_ID = "offboard-login"
REALM_FILE = Path(__file__).with_name("realm-offboard-test.json")
HEAP = "-Xms256m -Xmx1g"
START_TIMEOUT_S = 480.0  # a cold start took 273 s+ at load 17 on two cores


def state_file() -> Path:
    """Describes the server started by hand (`scripts/keycloak start`)."""
    return cache_dir() / "keycloak-server.json"


@dataclass(frozen=True)
class ServerInfo:
    """Everything a client needs to talk to one running server (holds test-only secrets)."""

    base_url: str
    management_url: str
    realm: str
    client_id: str
    client_secret: str
    login_client_id: str
    admin_username: str
    admin_password: str
    pid: int
    home: str

    def __repr__(self) -> str:  # keep the secrets out of logs and pytest output
        return f"ServerInfo(base_url={self.base_url!r}, realm={self.realm!r}, pid={self.pid})"


_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Children started by this process. A Popen dropped while its child runs warns (an error
under the suite's warnings-as-errors), so each is kept until it is reaped, or for good."""


def start_server(timeout_s: float = START_TIMEOUT_S, *, watch_pid: int | None = None) -> ServerInfo:
    """Start a fresh server and wait until it is ready; raises KeycloakUnavailableError.

    With `watch_pid`, a watchdog stops the server when that process dies (a test session
    killed by a timeout must not leave a JVM behind).
    """
    java_home = find_java_home()
    pristine = fetch()
    home = Path(cache_dir() / "instances" / f"{os.getpid()}-{secrets.token_hex(4)}")
    shutil.copytree(pristine, home, symlinks=True)
    (home / "data" / "import").mkdir(parents=True, exist_ok=True)
    shutil.copy(REALM_FILE, home / "data" / "import" / REALM_FILE.name)
    http_port, mgmt_port = free_ports(2)
    info = ServerInfo(
        base_url=f"http://127.0.0.1:{http_port}",
        management_url=f"http://127.0.0.1:{mgmt_port}",
        realm=REALM,
        client_id=CLIENT_ID,
        client_secret=secrets.token_urlsafe(24),
        login_client_id=LOGIN_CLIENT_ID,
        admin_username="offboard-test-admin",
        admin_password=secrets.token_urlsafe(18),
        pid=0,
        home=str(home),
    )
    env = {
        **os.environ,
        "JAVA_HOME": str(java_home),
        "JAVA_OPTS_KC_HEAP": HEAP,
        "KC_BOOTSTRAP_ADMIN_USERNAME": info.admin_username,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": info.admin_password,
        "OFFBOARD_TEST_CLIENT_SECRET": info.client_secret,
    }
    command = [
        str(home / "bin" / "kc.sh"),
        "start-dev",
        "--db=dev-mem",
        "--http-host=127.0.0.1",
        f"--http-port={http_port}",
        "--http-management-host=127.0.0.1",
        f"--http-management-port={mgmt_port}",
        "--health-enabled=true",
        "--import-realm",
    ]
    with (home / "server.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    _CHILDREN[process.pid] = process
    info = ServerInfo(**{**asdict(info), "pid": process.pid})
    if watch_pid is not None:
        _start_watchdog(watch_pid, process.pid)
    try:
        _wait_ready(info, process, timeout_s, lambda: _try_cache_dev_build(home, pristine))
    except BaseException:
        stop_server(info)
        raise
    return info


def _start_watchdog(watched: int, group: int) -> None:
    """A detached shell that stops the server's process group once `watched` has exited."""
    script = (
        f"while kill -0 {watched} 2>/dev/null; do sleep 2; done; kill -TERM -{group} 2>/dev/null"
    )
    watchdog = subprocess.Popen(
        ["/bin/sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _CHILDREN[watchdog.pid] = watchdog  # outlives the session on purpose


BUILD_DONE = "Running the server in development mode"


def _try_cache_dev_build(home: Path, pristine: Path) -> None:
    """Best effort: a race with another session's cache write only costs a slower start."""
    with contextlib.suppress(OSError):
        _cache_dev_build(home, pristine)


def _cache_dev_build(home: Path, pristine: Path) -> None:
    """Keep the first start-dev build in the pristine tree: later starts skip ~45-80 s."""
    marker = pristine / ".offboard-dev-build"
    if marker.exists():
        return
    staging = pristine / "lib" / f"quarkus.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(home / "lib" / "quarkus", staging)
    target, old = pristine / "lib" / "quarkus", pristine / "lib" / f"quarkus.{os.getpid()}.old"
    target.rename(old)  # two renames: a concurrent copy of the tree sees one build or the other
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    marker.touch()


def _wait_ready(
    info: ServerInfo,
    process: subprocess.Popen[bytes],
    timeout_s: float,
    on_built: Callable[[], None],
) -> None:
    """Poll until ready; call `on_built` once the dev build is done (even if boot then fails)."""
    deadline = time.monotonic() + timeout_s
    url = f"{info.base_url}/realms/{info.realm}/.well-known/openid-configuration"
    built = False
    while time.monotonic() < deadline:
        if not built and BUILD_DONE in _log_tail(Path(info.home), lines=400):
            built = True
            on_built()
        if process.poll() is not None:
            tail = _log_tail(Path(info.home))
            raise KeycloakUnavailableError(f"Keycloak exited with {process.returncode}:\n{tail}")
        if _http_ok(f"{info.management_url}/health/ready") and _http_ok(url):
            return
        time.sleep(1.0)
    raise KeycloakUnavailableError(
        f"Keycloak not ready after {timeout_s:.0f} s:\n{_log_tail(Path(info.home))}"
    )


def _http_ok(url: str) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(url, timeout=2.0) as response,  # noqa: S310 (loopback only)
    ):
        return bool(response.status == 200)
    return False


def _log_tail(home: Path, lines: int = 30) -> str:
    log = home / "server.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def stop_server(info: ServerInfo, timeout_s: float = 30.0) -> None:
    """Stop the server (SIGTERM, then SIGKILL) and delete its instance directory."""
    if info.pid and _alive(info.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGKILL)
        process = _CHILDREN.pop(info.pid, None)
        if process is not None:
            process.wait(timeout_s)
        else:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.pid, 0)
    home = Path(info.home)
    if home.parent == cache_dir() / "instances":
        shutil.rmtree(home, ignore_errors=True)


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def save_state(info: ServerInfo) -> None:
    """Remember a hand-started server; the file is private because it holds the secrets."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(info), f)


def read_state() -> ServerInfo:
    """What the state file says, alive or not."""
    return ServerInfo(**json.loads(state_file().read_text()))


def load_state() -> ServerInfo | None:
    """The hand-started server if its state file exists and the process is alive."""
    if not state_file().exists():
        return None
    info = read_state()
    return info if _alive(info.pid) and _http_ok(f"{info.management_url}/health/ready") else None
