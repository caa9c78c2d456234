"""SQL for user pool replicas (CreateUserPoolReplica's rows) and the replica-region
lookups of request routing. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import user_pool_clients, user_pool_replicas, user_pools

_R = user_pool_replicas
_P = user_pools
_C = user_pool_clients


@dataclass(frozen=True, slots=True)
class ReplicaRow:
    pk: int
    region: str
    status: str
    tags: dict[str, str]
    ready_at: int


@dataclass(frozen=True, slots=True)
class Route:
    """What routing needs of a request naming a region other than the pool's own."""

    pool_id: str
    pool_region: str
    status: str | None
    """The replica's stored status in the request's region; None: no replica there."""
    ready_at: int


_COLUMNS = (_R.c.pk, _R.c.region, _R.c.status, _R.c.tags, _R.c.ready_at)
_GET = sa.select(*_COLUMNS).where(
    _R.c.pool_pk == sa.bindparam("pool_pk"), _R.c.region == sa.bindparam("region")
)
_ALL = sa.select(*_COLUMNS).where(_R.c.pool_pk == sa.bindparam("pool_pk")).order_by(_R.c.pk)

_BY_POOL = (
    sa.select(_P.c.id, _P.c.region, _R.c.status, _R.c.ready_at)
    .select_from(_P.join(_R, _R.c.pool_pk == _P.c.pk))
    .where(_P.c.id == sa.bindparam("pool_id"), _R.c.region == sa.bindparam("region"))
)
_BY_CLIENT = (
    sa.select(_P.c.id, _P.c.region, _R.c.status, _R.c.ready_at)
    .select_from(
        _C.join(_P, _P.c.pk == _C.c.pool_pk).outerjoin(
            _R, sa.and_(_R.c.pool_pk == _P.c.pk, _R.c.region == sa.bindparam("region"))
        )
    )
    .where(_C.c.client_id == sa.bindparam("client_id"))
)


def _row(r: Any) -> ReplicaRow:
    return ReplicaRow(r.pk, r.region, r.status, loads(r.tags), r.ready_at)


def route_by_pool(fetch: Fetch, pool_id: str, region: str) -> Route | None:
    """The replica of pool `pool_id` in `region`, or None."""
    rows = fetch(_BY_POOL, {"pool_id": pool_id, "region": region})
    if not rows:
        return None
    r = rows[0]
    return Route(r.id, r.region, r.status, r.ready_at)


def route_by_client(fetch: Fetch, client_id: str, region: str) -> Route | None:
    """The pool of app client `client_id` and its replica in `region` (status None when
    it has none); None for an unknown client."""
    rows = fetch(_BY_CLIENT, {"client_id": client_id, "region": region})
    if not rows:
        return None
    r = rows[0]
    return Route(r.id, r.region, r.status, r.ready_at or 0)


def get(conn: Connection, pool_pk: int, region: str) -> ReplicaRow | None:
    r = conn.execute(_GET, {"pool_pk": pool_pk, "region": region}).first()
    return _row(r) if r is not None else None


def of_pool(conn: Connection, pool_pk: int) -> list[ReplicaRow]:
    return [_row(r) for r in conn.execute(_ALL, {"pool_pk": pool_pk})]


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    region: str,
    status: str,
    tags: dict[str, str],
    ready_at: int,
    now: int,
) -> None:
    conn.execute(
        sa.insert(_R).values(
            pool_pk=pool_pk,
            region=region,
            status=status,
            tags=dumps(tags),
            ready_at=ready_at,
            created_at=now,
            updated_at=now,
        )
    )


def set_status(conn: Connection, pk: int, status: str, now: int) -> None:
    conn.execute(sa.update(_R).where(_R.c.pk == pk).values(status=status, updated_at=now))


def delete(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_R).where(_R.c.pk == pk))
