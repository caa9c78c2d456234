"""SQL for pools' log delivery configurations. No policy."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import log_delivery_configs, user_pools

_L = log_delivery_configs

_GET = sa.select(_L.c.configurations).where(_L.c.pool_pk == sa.bindparam("pool_pk"))
_WITH_POOL = (
    sa.select(user_pools.c.id, _L.c.configurations)
    .select_from(user_pools.outerjoin(_L, _L.c.pool_pk == user_pools.c.pk))
    .where(user_pools.c.pk == sa.bindparam("pool_pk"))
)


def get(conn: Connection, pool_pk: int) -> list[dict[str, Any]]:
    row = conn.execute(_GET, {"pool_pk": pool_pk}).first()
    return list(loads(row.configurations)) if row is not None else []


def with_pool_id(conn: Connection, pool_pk: int) -> tuple[str, list[dict[str, Any]]] | None:
    """The pool's id and configurations; None if the pool is gone."""
    row = conn.execute(_WITH_POOL, {"pool_pk": pool_pk}).first()
    if row is None:
        return None
    return str(row.id), list(loads(row.configurations)) if row.configurations else []


def put(
    conn: Connection,
    pool_pk: int,
    configurations: list[dict[str, Any]],
    now: int,
    *,
    postgres: bool,
) -> None:
    insert = (postgresql.insert if postgres else sqlite.insert)(_L).values(
        pool_pk=pool_pk, configurations=dumps(configurations), updated_at=now
    )
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[_L.c.pool_pk],
            set_={
                "configurations": insert.excluded.configurations,
                "updated_at": insert.excluded.updated_at,
            },
        )
    )
