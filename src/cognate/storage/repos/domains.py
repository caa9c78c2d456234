"""SQL for user pool domains (prefix and custom). No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import user_pool_domains, user_pools


@dataclass(frozen=True, slots=True)
class DomainRow:
    pk: int
    pool_pk: int
    pool_id: str
    domain: str
    kind: str
    settings: dict[str, Any]
    version: str
    created_at: int
    updated_at: int


_COLUMNS = (
    user_pool_domains.c.pk,
    user_pool_domains.c.pool_pk,
    user_pools.c.id.label("pool_id"),
    user_pool_domains.c.domain,
    user_pool_domains.c.kind,
    user_pool_domains.c.settings,
    user_pool_domains.c.version,
    user_pool_domains.c.created_at,
    user_pool_domains.c.updated_at,
)


def _row(r: Any) -> DomainRow:
    return DomainRow(
        r.pk,
        r.pool_pk,
        r.pool_id,
        r.domain,
        r.kind,
        loads(r.settings),
        r.version,
        r.created_at,
        r.updated_at,
    )


def _select() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).join(user_pools, user_pools.c.pk == user_pool_domains.c.pool_pk)


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    domain: str,
    kind: str,
    scope: str,
    settings: dict[str, Any],
    version: str,
    now: int,
) -> None:
    conn.execute(
        sa.insert(user_pool_domains).values(
            pool_pk=pool_pk,
            domain=domain,
            kind=kind,
            scope=scope,
            settings=dumps(settings),
            version=version,
            created_at=now,
            updated_at=now,
        )
    )


def find(conn: Connection, domain: str, scopes: tuple[str, ...]) -> DomainRow | None:
    r = conn.execute(
        _select().where(user_pool_domains.c.domain == domain, user_pool_domains.c.scope.in_(scopes))
    ).first()
    return _row(r) if r is not None else None


def of_pool(conn: Connection, pool_pk: int) -> list[DomainRow]:
    rows = conn.execute(
        _select().where(user_pool_domains.c.pool_pk == pool_pk).order_by(user_pool_domains.c.pk)
    )
    return [_row(r) for r in rows]


def update(conn: Connection, pk: int, *, settings: dict[str, Any], version: str, now: int) -> None:
    conn.execute(
        sa.update(user_pool_domains)
        .where(user_pool_domains.c.pk == pk)
        .values(settings=dumps(settings), version=version, updated_at=now)
    )


def delete(conn: Connection, pk: int) -> bool:
    return (
        conn.execute(sa.delete(user_pool_domains).where(user_pool_domains.c.pk == pk)).rowcount == 1
    )
