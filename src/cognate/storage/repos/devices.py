"""SQL for users' tracked devices. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.schema import devices

_D = devices


@dataclass(frozen=True, slots=True)
class DeviceRow:
    pk: int
    user_pk: int
    device_key: str
    group_key: str
    verifier_enc: str | None
    name: str | None
    remembered: str | None
    confirmed: bool
    created_at: int
    updated_at: int
    last_authenticated_at: int | None
    last_ip: str | None


def _row(r: Any) -> DeviceRow:
    return DeviceRow(
        r.pk,
        r.user_pk,
        r.device_key,
        r.group_key,
        r.verifier_enc,
        r.name,
        r.remembered,
        bool(r.confirmed),
        r.created_at,
        r.updated_at,
        r.last_authenticated_at,
        r.last_ip,
    )


_BY_KEY = sa.select(_D).where(_D.c.device_key == sa.bindparam("device_key"))


def by_key(conn: Connection, device_key: str) -> DeviceRow | None:
    r = conn.execute(_BY_KEY, {"device_key": device_key}).first()
    return _row(r) if r is not None else None


def fetch_by_key(fetch: Fetch, device_key: str) -> DeviceRow | None:
    rows = fetch(_BY_KEY, {"device_key": device_key})
    return _row(rows[0]) if rows else None


def insert(conn: Connection, **values: Any) -> None:
    conn.execute(sa.insert(_D).values(**values))


def update(conn: Connection, device_key: str, **values: Any) -> None:
    conn.execute(sa.update(_D).where(_D.c.device_key == device_key).values(**values))


def delete(conn: Connection, device_key: str) -> bool:
    return bool(conn.execute(sa.delete(_D).where(_D.c.device_key == device_key)).rowcount)


def page(conn: Connection, user_pk: int, after: int, limit: int) -> list[DeviceRow]:
    rows = conn.execute(
        sa.select(_D)
        .where(_D.c.user_pk == user_pk, _D.c.pk > after, _D.c.confirmed.is_(True))
        .order_by(_D.c.pk)
        .limit(limit)
    )
    return [_row(r) for r in rows]
