"""Bring a database's schema up to this code's version, or refuse one that is newer.

`cognate migrate` and `cognate serve` both call `upgrade`. On PostgreSQL the work runs
under an advisory lock, so several processes starting at once migrate exactly once; on
SQLite the `BEGIN IMMEDIATE` write transaction serializes them. A database stamped with
a revision this code does not know was migrated by a newer Cognate: it is refused rather
than touched, which is what upgrading stateless processes one by one needs.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cognate.storage.db import Database

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_ID = 0x636F676E617465  # "cognate"


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of Cognate."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _check_known(conn: Connection) -> str | None:
    current = current_revision(conn)
    if current is None:
        return None
    script = ScriptDirectory.from_config(_config())
    try:
        script.get_revision(current)
    except Exception as exc:  # alembic raises several types for unknown revisions
        raise SchemaError(
            f"the database schema is at revision {current}, which this Cognate does not "
            f"know (its newest is {head_revision()}): it was migrated by a newer Cognate. "
            "Upgrade Cognate instead."
        ) from exc
    return current


def upgrade(db: Database) -> tuple[str | None, str]:
    """Apply pending migrations; return (revision before, revision after)."""

    def run(conn: Connection) -> tuple[str | None, str]:
        if not db.is_sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        before = _check_known(conn)
        head = head_revision()
        if before != head:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return before, head

    return db.write("migrate", run)


def require_current(db: Database) -> None:
    """Raise SchemaError unless the database is exactly at this code's head revision."""

    def check(conn: Connection) -> None:
        current = _check_known(conn)
        if current != head_revision():
            raise SchemaError(
                f"the database schema is at {current or 'no revision'}, this Cognate needs "
                f"{head_revision()}: run `cognate migrate`"
            )

    db.read("check_schema", check)
