"""SQL for resource servers. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import resource_servers

_R = resource_servers


@dataclass(frozen=True, slots=True)
class ResourceServerRow:
    pk: int
    identifier: str
    name: str
    scopes: list[dict[str, str]]


def _row(r: Any) -> ResourceServerRow:
    return ResourceServerRow(r.pk, r.identifier, r.name, loads(r.scopes))


_COLUMNS = (_R.c.pk, _R.c.identifier, _R.c.name, _R.c.scopes)
_GET = sa.select(*_COLUMNS).where(
    _R.c.pool_pk == sa.bindparam("pool_pk"), _R.c.identifier == sa.bindparam("identifier")
)
_ALL = sa.select(*_COLUMNS).where(_R.c.pool_pk == sa.bindparam("pool_pk")).order_by(_R.c.pk)
_PAGE = (
    sa.select(*_COLUMNS)
    .where(_R.c.pool_pk == sa.bindparam("pool_pk"), _R.c.pk > sa.bindparam("after"))
    .order_by(_R.c.pk)
    .limit(sa.bindparam("limit"))
)
_COUNT = sa.select(sa.func.count()).select_from(_R).where(_R.c.pool_pk == sa.bindparam("pool_pk"))


def get(conn: Connection, pool_pk: int, identifier: str) -> ResourceServerRow | None:
    r = conn.execute(_GET, {"pool_pk": pool_pk, "identifier": identifier}).first()
    return _row(r) if r is not None else None


def of_pool(conn: Connection, pool_pk: int) -> list[ResourceServerRow]:
    return [_row(r) for r in conn.execute(_ALL, {"pool_pk": pool_pk})]


def page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[ResourceServerRow]:
    rows = conn.execute(_PAGE, {"pool_pk": pool_pk, "after": after, "limit": limit})
    return [_row(r) for r in rows]


def count(conn: Connection, pool_pk: int) -> int:
    return int(conn.execute(_COUNT, {"pool_pk": pool_pk}).scalar_one())


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    identifier: str,
    name: str,
    scopes: list[dict[str, str]],
    now: int,
) -> None:
    conn.execute(
        sa.insert(_R).values(
            pool_pk=pool_pk,
            identifier=identifier,
            name=name,
            scopes=dumps(scopes),
            created_at=now,
            updated_at=now,
        )
    )


def update(conn: Connection, pk: int, *, name: str, scopes: list[dict[str, str]], now: int) -> None:
    conn.execute(
        sa.update(_R).where(_R.c.pk == pk).values(name=name, scopes=dumps(scopes), updated_at=now)
    )


def delete(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_R).where(_R.c.pk == pk))
