"""Where the store lives by default, and how a path or URL becomes a database URL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url


def default_state_path() -> Path:
    """``$XDG_STATE_HOME/offboard/offboard.sqlite3``, else ``~/.local/state/offboard/...``."""
    state_home = os.environ.get("XDG_STATE_HOME") or ""
    base = Path(state_home) if state_home.strip() else Path.home() / ".local" / "state"
    return base / "offboard" / "offboard.sqlite3"


def database_url(url_or_path: str | Path) -> URL:
    """A SQLAlchemy URL from either a URL (``postgresql+psycopg://...``) or a file path."""
    text = str(url_or_path)
    if "://" in text:
        return make_url(text)
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite+pysqlite", database=str(path))
