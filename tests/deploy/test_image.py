"""The container image: built with buildah from the Containerfile on a Debian-made base, then
`offboard --version` and `offboard demo` run inside it as a non-root user that writes nowhere
but /tmp and its state volume."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from importlib.metadata import version

import pytest

from offboard.settings.runtime import DaemonSettings
from tests.deploy.tools import missing, script

TAG = "localhost/offboard:dev"
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104  (the container's: probes and scrapers reach it)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    if shutil.which("buildah") is None or shutil.which("debootstrap") is None:
        missing("buildah and debootstrap", "run `scripts/image tools` as root")
    try:
        script("image", "build", TAG, timeout=1500)
    except subprocess.CalledProcessError as error:
        pytest.fail(f"the image build failed:\n{error.stderr[-4000:]}")
    yield TAG
    script("image", "clean", check=False)


def test_the_image_says_its_version(image: str) -> None:
    ran = script("image", "run", image, "--version")
    assert ran.stdout.strip() == f"offboard {version('offboard')}"


def test_the_demo_runs_inside_writing_only_to_tmp_and_its_volume(image: str) -> None:
    ran = script("image", "run", image, "demo", check=False)
    assert ran.returncode == 0, ran.stderr[-4000:]
    assert "every action done and read back" in ran.stdout


def test_the_image_runs_offboard_as_a_non_root_user_with_a_health_check(image: str) -> None:
    config = json.loads(script("image", "config", image).stdout)
    user = config["User"].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0  # numeric, so Kubernetes' runAsNonRoot can verify it
    assert config["Entrypoint"] == ["offboard"]
    assert config["Cmd"] == ["run"]
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert "/var/lib/offboard" in config["Volumes"]


def test_the_image_serves_operations_outside_and_webhooks_only_once_configured(
    image: str,
) -> None:
    config = json.loads(script("image", "config", image).stdout)
    assert set(config["ExposedPorts"]) == {"8080/tcp", "8443/tcp"}
    env = dict(item.split("=", 1) for item in config["Env"])
    daemon = DaemonSettings.model_validate(
        {
            name.removeprefix("OFFBOARD_DAEMON__").lower(): value
            for name, value in env.items()
            if name.startswith("OFFBOARD_DAEMON__")
        }
    )  # what `run` makes of the image's defaults: it starts with them
    assert (daemon.listen_host, daemon.listen_port) == (EVERY_ADDRESS, 8080)
    assert daemon.webhook_host == "127.0.0.1"  # beyond loopback only with TLS configured
    assert daemon.webhook_port == 8443
    assert str(daemon.listen_port) in " ".join(config["Healthcheck"]["Test"])


def test_the_image_holds_the_runtime_only(image: str) -> None:
    assert script("image", "has", image, "/opt/offboard/bin/offboard", check=False).returncode == 0
    for build_only in ("/opt/offboard/bin/pip", "/wheels", "/src", "/var/cache/pip"):
        assert script("image", "has", image, build_only, check=False).returncode == 1, build_only
