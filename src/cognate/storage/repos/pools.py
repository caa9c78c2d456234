"""SQL for user pools (with their tags). No policy: the domain decides, this module stores.

Statements on the request path are built once at import and executed with bound
parameters: SQLAlchemy then reuses their compiled form, and no request pays for building
statement objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import user_pool_domains, user_pools, users


@dataclass(frozen=True, slots=True)
class PoolRow:
    pk: int
    id: str
    region: str
    name: str
    settings: dict[str, Any]
    tags: dict[str, str]
    created_at: int
    updated_at: int
    prefix_domain: str | None = None
    custom_domain: str | None = None


def _domain_of_kind(kind: str) -> Any:
    return (
        sa.select(user_pool_domains.c.domain)
        .where(user_pool_domains.c.pool_pk == user_pools.c.pk, user_pool_domains.c.kind == kind)
        .scalar_subquery()
    )


_COLUMNS = (
    user_pools.c.pk,
    user_pools.c.id,
    user_pools.c.region,
    user_pools.c.name,
    user_pools.c.settings,
    user_pools.c.tags,
    user_pools.c.created_at,
    user_pools.c.updated_at,
)
_BY_ID = (user_pools.c.id == sa.bindparam("pool_id"), user_pools.c.region == sa.bindparam("region"))
_GET = sa.select(*_COLUMNS).where(*_BY_ID)
_GET_FOR_UPDATE = _GET.with_for_update()
_BY_PK = sa.select(*_COLUMNS).where(user_pools.c.pk == sa.bindparam("pool_pk"))
_DESCRIBE = sa.select(
    *_COLUMNS,
    _domain_of_kind("prefix").label("prefix_domain"),
    _domain_of_kind("custom").label("custom_domain"),
    sa.select(sa.func.count())
    .select_from(users)
    .where(users.c.pool_pk == user_pools.c.pk)
    .scalar_subquery()
    .label("user_count"),
).where(*_BY_ID)
_INSERT = sa.insert(user_pools)
_UPDATE = sa.update(user_pools).where(user_pools.c.pk == sa.bindparam("pool_pk"))
_DELETE = sa.delete(user_pools).where(user_pools.c.pk == sa.bindparam("pool_pk"))
_LIST = (
    sa.select(*_COLUMNS)
    .where(user_pools.c.region == sa.bindparam("region"), user_pools.c.pk > sa.bindparam("after"))
    .order_by(user_pools.c.pk)
    .limit(sa.bindparam("limit"))
)


def _row(r: Any, *, with_domains: bool = False) -> PoolRow:
    return PoolRow(
        r.pk,
        r.id,
        r.region,
        r.name,
        loads(r.settings),
        loads(r.tags),
        r.created_at,
        r.updated_at,
        r.prefix_domain if with_domains else None,
        r.custom_domain if with_domains else None,
    )


def insert(
    conn: Connection,
    *,
    pool_id: str,
    region: str,
    name: str,
    settings: dict[str, Any],
    tags: dict[str, str],
    now: int,
) -> int:
    result = conn.execute(
        _INSERT,
        {
            "id": pool_id,
            "region": region,
            "name": name,
            "settings": dumps(settings),
            "tags": dumps(tags),
            "created_at": now,
            "updated_at": now,
        },
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get(conn: Connection, pool_id: str, region: str, *, for_update: bool = False) -> PoolRow | None:
    query = _GET_FOR_UPDATE if for_update else _GET
    r = conn.execute(query, {"pool_id": pool_id, "region": region}).first()
    return _row(r) if r is not None else None


def fetch_get(fetch: Fetch, pool_id: str, region: str) -> PoolRow | None:
    """`get` by `Database.fetch`: one statement outside a transaction."""
    rows = fetch(_GET, {"pool_id": pool_id, "region": region})
    return _row(rows[0]) if rows else None


def by_pk(conn: Connection, pool_pk: int, *, for_update: bool = False) -> PoolRow | None:
    query = _BY_PK.with_for_update() if for_update else _BY_PK
    r = conn.execute(query, {"pool_pk": pool_pk}).first()
    return _row(r) if r is not None else None


def fetch_described(fetch: Fetch, pool_id: str, region: str) -> tuple[PoolRow, int] | None:
    """The pool with its domains and its number of users: DescribeUserPool in one statement."""
    rows = fetch(_DESCRIBE, {"pool_id": pool_id, "region": region})
    if not rows:
        return None
    return _row(rows[0], with_domains=True), int(rows[0].user_count)


def update(
    conn: Connection,
    pk: int,
    *,
    now: int,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    values: dict[str, Any] = {"pool_pk": pk, "updated_at": now}
    if name is not None:
        values["name"] = name
    if settings is not None:
        values["settings"] = dumps(settings)
    if tags is not None:
        values["tags"] = dumps(tags)
    conn.execute(_UPDATE, values)


def set_tags(conn: Connection, pk: int, tags: dict[str, str]) -> None:
    """Replace the tags without touching LastModifiedDate (tagging is not a pool change)."""
    conn.execute(_UPDATE, {"pool_pk": pk, "tags": dumps(tags)})


def delete(conn: Connection, pk: int) -> bool:
    return conn.execute(_DELETE, {"pool_pk": pk}).rowcount == 1


def list_page(conn: Connection, region: str, after_pk: int, limit: int) -> list[PoolRow]:
    rows = conn.execute(_LIST, {"region": region, "after": after_pk, "limit": limit})
    return [_row(r) for r in rows]


def ids(conn: Connection) -> list[tuple[int, str]]:
    """Every pool's (pk, id), in creation order."""
    rows = conn.execute(sa.select(user_pools.c.pk, user_pools.c.id).order_by(user_pools.c.pk))
    return [(r.pk, r.id) for r in rows]
