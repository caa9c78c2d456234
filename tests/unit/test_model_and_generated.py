"""The generated error classes, the operation table and the migrations match their sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cognate.operation_table import AREAS
from cognate.storage import migrate
from cognate.storage.db import Database
from cognate.storage.schema import metadata
from cognate.wire.model import operation_names

ROOT = Path(__file__).resolve().parents[2]


def test_generated_exceptions_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_api.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_operation_table_names_every_operation_once() -> None:
    listed = [op for _area, ops in AREAS for op in ops]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(operation_names())


def test_migrations_build_exactly_the_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/m.db", pool_size=1)
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}
    db.dispose()


def test_revisions_list_every_migration_script_in_order() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    in_order = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert list(migrate.REVISIONS) == in_order
    assert migrate.head_revision() == script.get_current_head()


def test_a_current_database_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/current.db"
    db = Database(url, pool_size=1)
    migrate.upgrade(db)
    db.dispose()
    code = (
        "import sys\n"
        "from cognate.app import build_runtime\n"
        "from cognate.config import Settings\n"
        f"build_runtime(Settings(db={url!r}))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
