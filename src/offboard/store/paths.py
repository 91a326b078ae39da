"""Where the store lives by default, and how a path or URL becomes a database URL.

A location with ``scheme://`` is a database URL; anything else is a SQLite file path. The
store holds every linked person's email and ids, so a file offboard creates is 0600 in a
folder it creates 0700, whatever the umask. Locations are shown with any password hidden.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from offboard.settings.locations import store_url_problem
from offboard.store.errors import StoreLocationError

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
"""A bare ``postgresql://`` means the driver offboard ships (psycopg 3), not psycopg2."""


def default_state_path() -> Path:
    """``$XDG_STATE_HOME/offboard/offboard.sqlite3``, else ``~/.local/state/offboard/...``."""
    state_home = os.environ.get("XDG_STATE_HOME") or ""
    base = Path(state_home) if state_home.strip() else Path.home() / ".local" / "state"
    return base / "offboard" / "offboard.sqlite3"


def is_url(url_or_path: str | Path) -> bool:
    """True for ``scheme://...``; a Path object is always a file path."""
    return isinstance(url_or_path, str) and "://" in url_or_path


def shown(url_or_path: str | Path) -> str:
    """The location as it may be printed: a URL's password hidden, a path as it is."""
    if is_url(url_or_path):
        try:
            return make_url(str(url_or_path)).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            return f"{str(url_or_path).partition('://')[0]}://(unparsable, hidden)"
    text = str(url_or_path)
    if isinstance(url_or_path, str) and _SCHEME.match(text) and "@" in text:
        return f"{text.partition(':')[0]}:(hidden)"  # a URL missing its //, password and all
    return text


def database_url(url_or_path: str | Path) -> URL:
    """A SQLAlchemy URL from either a URL (``postgresql+psycopg://...``) or a file path."""
    text = str(url_or_path)
    if is_url(url_or_path):
        problem = store_url_problem(text)
        if problem is not None:
            raise StoreLocationError(f"{shown(text)}: {problem}")
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise StoreLocationError(f"cannot parse the store URL {shown(text)}") from None
        return url.set(drivername=_DRIVERS.get(url.drivername, url.drivername))
    if isinstance(url_or_path, str) and _SCHEME.match(text) and not Path(text).exists():
        scheme = text.partition(":")[0]
        if len(scheme) > 1:  # not a Windows drive letter
            raise StoreLocationError(
                f"{shown(text)} looks like a {scheme} URL without '//' after '{scheme}:'; "
                f"write {scheme}://… for a database, or ./{scheme}:… for a file"
            )
    return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser()))


def new_sqlite_file(url_or_path: str | Path) -> Path | None:
    """The SQLite file that opening this location for writing would create (absolute), or
    None when it exists already or the store is not a SQLite file."""
    path = sqlite_path(database_url(url_or_path))
    return None if path is None or path.exists() else path.absolute()


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_private_file(path: Path) -> None:
    """Create the store file 0600 (and missing folders 0700) before SQLite opens it.

    SQLite gives its -wal and -shm files the mode of the database file, so those follow.
    """
    try:
        missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
            os.chmod(folder, FOLDER_MODE)  # mkdir's mode is cut by the umask
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        if path.is_dir():
            raise StoreLocationError(
                f"cannot create the store file {path}: it is a folder; point store.path or "
                "--store at a file inside it"
            ) from None
        return
    except OSError as error:
        # A file where a folder should be, a read-only or virtual file system, no permission:
        # the operator's location is wrong, not offboard (exit 8, never a traceback).
        raise StoreLocationError(
            f"cannot create the store file {path}: {error.strerror or error}"
            f"{_blocking_file(path)}; check store.path or --store"
        ) from None
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)


def _blocking_file(path: Path) -> str:
    """ ", where FILE is a file, not a folder" when a file stands where a folder must be."""
    for parent in path.parents:
        if parent.exists():
            return "" if parent.is_dir() else f" ({parent} is a file, not a folder)"
    return ""
