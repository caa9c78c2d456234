"""SQL for user pools and their tags. No policy: the domain decides, this module stores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import user_pool_tags, user_pools


@dataclass(frozen=True, slots=True)
class PoolRow:
    pk: int
    id: str
    region: str
    name: str
    settings: dict[str, Any]
    created_at: int
    updated_at: int


_COLUMNS = (
    user_pools.c.pk,
    user_pools.c.id,
    user_pools.c.region,
    user_pools.c.name,
    user_pools.c.settings,
    user_pools.c.created_at,
    user_pools.c.updated_at,
)


def _row(r: Any) -> PoolRow:
    return PoolRow(r.pk, r.id, r.region, r.name, json.loads(r.settings), r.created_at, r.updated_at)


def insert(
    conn: Connection,
    *,
    pool_id: str,
    region: str,
    name: str,
    settings: dict[str, Any],
    now: int,
) -> int:
    result = conn.execute(
        sa.insert(user_pools).values(
            id=pool_id,
            region=region,
            name=name,
            settings=json.dumps(settings, separators=(",", ":")),
            created_at=now,
            updated_at=now,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get(conn: Connection, pool_id: str, region: str, *, for_update: bool = False) -> PoolRow | None:
    query = sa.select(*_COLUMNS).where(user_pools.c.id == pool_id, user_pools.c.region == region)
    if for_update:
        query = query.with_for_update()
    r = conn.execute(query).first()
    return _row(r) if r is not None else None


def update(conn: Connection, pk: int, *, name: str, settings: dict[str, Any], now: int) -> None:
    conn.execute(
        sa.update(user_pools)
        .where(user_pools.c.pk == pk)
        .values(name=name, settings=json.dumps(settings, separators=(",", ":")), updated_at=now)
    )


def delete(conn: Connection, pk: int) -> bool:
    return conn.execute(sa.delete(user_pools).where(user_pools.c.pk == pk)).rowcount == 1


def list_page(conn: Connection, region: str, after_pk: int, limit: int) -> list[PoolRow]:
    rows = conn.execute(
        sa.select(*_COLUMNS)
        .where(user_pools.c.region == region, user_pools.c.pk > after_pk)
        .order_by(user_pools.c.pk)
        .limit(limit)
    )
    return [_row(r) for r in rows]


# --------------------------------------------------------------------------- tags


def tags(conn: Connection, pool_pk: int) -> dict[str, str]:
    rows = conn.execute(
        sa.select(user_pool_tags.c.key, user_pool_tags.c.value)
        .where(user_pool_tags.c.pool_pk == pool_pk)
        .order_by(user_pool_tags.c.key)
    )
    return {r.key: r.value for r in rows}


def put_tags(conn: Connection, pool_pk: int, new_tags: dict[str, str]) -> None:
    """Set the given tags, replacing the values of keys that already exist."""
    if not new_tags:
        return
    conn.execute(
        sa.delete(user_pool_tags).where(
            user_pool_tags.c.pool_pk == pool_pk, user_pool_tags.c.key.in_(list(new_tags))
        )
    )
    conn.execute(
        sa.insert(user_pool_tags),
        [{"pool_pk": pool_pk, "key": k, "value": v} for k, v in new_tags.items()],
    )


def delete_tags(conn: Connection, pool_pk: int, keys: list[str] | None = None) -> None:
    """Remove the given tag keys, or every tag when `keys` is None."""
    query = sa.delete(user_pool_tags).where(user_pool_tags.c.pool_pk == pool_pk)
    if keys is not None:
        query = query.where(user_pool_tags.c.key.in_(keys))
    conn.execute(query)


def count_tags(conn: Connection, pool_pk: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(user_pool_tags.c.pool_pk == pool_pk)
        ).scalar_one()
    )
