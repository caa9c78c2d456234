"""Bring a database's schema up to this code's version, or refuse one that is newer.

`cognate migrate` and `cognate serve` both call `upgrade`. On PostgreSQL the work runs
under an advisory lock, so several processes starting at once migrate exactly once; on
SQLite the `BEGIN IMMEDIATE` write transaction serializes them. A database stamped with
a revision this code does not know was migrated by a newer Cognate: it is refused rather
than touched, which is what upgrading stateless processes one by one needs.

Alembic is imported only when there is something to apply: a process that finds its
database current (every worker, every restart) reads `alembic_version` itself against
`REVISIONS`, and never pays Alembic's memory. A test keeps `REVISIONS` equal to the
migration scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVISIONS = ("0001",)
"""Every migration's revision id, oldest first (the scripts in migrations/versions)."""
_ADVISORY_LOCK_ID = 0x636F676E617465  # "cognate"
_VERSION_TABLE = sa.table("alembic_version", sa.column("version_num"))


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of Cognate."""


def head_revision() -> str:
    return REVISIONS[-1]


def current_revision(conn: Connection) -> str | None:
    """The revision the database is stamped with (None for an empty database)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.select(_VERSION_TABLE.c.version_num)).scalar_one_or_none()


def _check_known(conn: Connection) -> str | None:
    current = current_revision(conn)
    if current is not None and current not in REVISIONS:
        raise SchemaError(
            f"the database schema is at revision {current}, which this Cognate does not "
            f"know (its newest is {head_revision()}): it was migrated by a newer Cognate. "
            "Upgrade Cognate instead."
        )
    return current


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database) -> tuple[str | None, str]:
    """Apply pending migrations; return (revision before, revision after)."""

    def run(conn: Connection) -> tuple[str | None, str]:
        if not db.is_sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        before = _check_known(conn)
        head = head_revision()
        if before != head:
            from alembic import command

            config = alembic_config()
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
