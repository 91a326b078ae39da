"""A current store is recognised without alembic; anything else still goes through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from offboard.store.migrating import (
    HEAD_REVISION,
    _alembic_config,
    is_current,
    migrate,
)


def test_head_revision_is_alembics_head() -> None:
    """The fast path's idea of the newest revision is the one alembic would migrate to."""
    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION


def test_a_migrated_store_is_current_and_an_older_one_is_not(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.connect() as connection:
        assert not is_current(connection)  # empty
    migrate(engine)
    with engine.begin() as connection:
        assert is_current(connection)
        connection.execute(text("update alembic_version set version_num = '0006'"))
        assert not is_current(connection)
    engine.dispose()


def test_opening_a_current_store_imports_no_alembic(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    code = (
        "import sys\n"
        "from offboard.store import open_store\n"
        f"open_store({str(store)!r}).close()\n"  # creates and migrates: alembic comes in
        "for name in [m for m in sys.modules if m.startswith('alembic')]:\n"
        "    del sys.modules[name]\n"
        f"open_store({str(store)!r}).close()\n"
        "print(any(m.startswith('alembic') for m in sys.modules))\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"
