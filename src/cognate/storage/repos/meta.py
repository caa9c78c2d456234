"""SQL for the installation facts table (`cognate_meta`). No policy."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import meta


def get(conn: Connection, name: str) -> str | None:
    value = conn.execute(sa.select(meta.c.value).where(meta.c.name == name)).scalar_one_or_none()
    return None if value is None else str(value)


def insert_if_absent(conn: Connection, name: str, value: str) -> str:
    """Store `value` under `name` unless a value is there; return the stored value."""
    existing = get(conn, name)
    if existing is not None:
        return existing
    conn.execute(sa.insert(meta).values(name=name, value=value))
    return value
