"""The Keycloak distribution: fetch it with Maven, check its sha1, unpack it once into the
cache outside the repository, and find a JDK it supports. Used by tests/keycloak/server.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:tar.gz"
SUPPORTED_JAVA = (25, 21, 17)  # newest first; Keycloak 26 supports these


def cache_dir() -> Path:
    """Where the unpacked distribution and running instances live (outside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "offboard"


def dist_dir() -> Path:
    """The pristine unpacked distribution (never run in place)."""
    return cache_dir() / f"keycloak-{VERSION}"


def archive_path() -> Path:
    """The distribution archive in the local Maven repository."""
    repo = Path(os.environ.get("MAVEN_REPO", str(Path.home() / ".m2" / "repository")))
    name = f"keycloak-quarkus-dist-{VERSION}.tar.gz"
    return repo / "org" / "keycloak" / "keycloak-quarkus-dist" / VERSION / name


class KeycloakUnavailableError(RuntimeError):
    """Java or the distribution is missing, or the server did not come up."""


def fetch() -> Path:
    """Get the archive with Maven (if absent), verify its sha1 and unpack it once."""
    archive = archive_path()
    if not archive.exists():
        if shutil.which("mvn") is None:
            raise KeycloakUnavailableError(f"{archive} is missing and Maven (mvn) is not installed")
        subprocess.run(
            ["mvn", "-q", "dependency:get", f"-Dartifact={ARTIFACT}", "-Dtransitive=false"],
            check=True,
        )
    target = dist_dir()
    marker = target / ".offboard-unpacked"
    if marker.exists():
        return target
    _verify_sha1(archive)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(partial, filter="tar")
    shutil.rmtree(target, ignore_errors=True)
    (partial / f"keycloak-{VERSION}").rename(target)
    partial.rmdir()
    marker.touch()
    return target


def _verify_sha1(archive: Path) -> None:
    expected = Path(str(archive) + ".sha1").read_text().split()[0].strip().lower()
    digest = hashlib.sha1(usedforsecurity=False)
    with archive.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise KeycloakUnavailableError(f"sha1 mismatch for {archive}: {digest.hexdigest()}")


def find_java_home() -> Path:
    """The newest installed JDK that Keycloak supports (OFFBOARD_KEYCLOAK_JAVA_HOME wins)."""
    forced = os.environ.get("OFFBOARD_KEYCLOAK_JAVA_HOME")
    if forced:
        return Path(forced)
    candidates: dict[int, Path] = {}
    roots = [Path("/usr/lib/jvm"), Path("/usr/local/lib/jvm")]
    if os.environ.get("JAVA_HOME"):
        roots.insert(0, Path(os.environ["JAVA_HOME"]).parent)
    for root in roots:
        for home in sorted(root.glob("*")) if root.is_dir() else []:
            major = _java_major(home)
            if major in SUPPORTED_JAVA and (home / "bin" / "java").exists():
                candidates.setdefault(major, home)
    for major in SUPPORTED_JAVA:
        if major in candidates:
            return candidates[major]
    raise KeycloakUnavailableError(
        f"no JDK {'/'.join(map(str, SUPPORTED_JAVA))} found in /usr/lib/jvm"
    )


def _java_major(home: Path) -> int | None:
    release = home / "release"
    if not release.is_file():
        return None
    for line in release.read_text().splitlines():
        if line.startswith("JAVA_VERSION="):
            version = line.split("=", 1)[1].strip('"')
            head = version.split(".")[0]
            return int(head) if head.isdigit() else None
    return None
