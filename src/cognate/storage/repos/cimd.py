"""SQL for CIMD policies and their cached client metadata documents. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import cimd_policies, client_metadata_urls, user_pool_clients

_P = cimd_policies
_U = client_metadata_urls
_C = user_pool_clients


@dataclass(frozen=True, slots=True)
class PolicyRow:
    pk: int
    pool_pk: int
    client_pk: int | None
    client_id: str | None  # None once the app client is deleted
    policy_id: str
    name: str
    cache_seconds: int | None
    url_patterns: list[str]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class CachedRow:
    pk: int
    url: str
    document: dict[str, Any]
    cached_at: int
    expires_at: int


def _policy(r: Any) -> PolicyRow:
    return PolicyRow(
        r.pk,
        r.pool_pk,
        r.client_pk,
        r.client_id,
        r.policy_id,
        r.name,
        r.cache_seconds,
        loads(r.url_patterns),
        r.created_at,
        r.updated_at,
    )


def _cached(r: Any) -> CachedRow:
    return CachedRow(r.pk, r.url, loads(r.document), r.cached_at, r.expires_at)


_POLICY = sa.select(*_P.c, _C.c.client_id).select_from(_P.outerjoin(_C, _C.c.pk == _P.c.client_pk))
_CACHED = sa.select(_U.c.pk, _U.c.url, _U.c.document, _U.c.cached_at, _U.c.expires_at)


def get(conn: Connection, pool_pk: int, policy_id: str) -> PolicyRow | None:
    query = _POLICY.where(_P.c.pool_pk == pool_pk, _P.c.policy_id == policy_id)
    r = conn.execute(query).first()
    return _policy(r) if r is not None else None


def of_pool(conn: Connection, pool_pk: int) -> list[PolicyRow]:
    query = _POLICY.where(_P.c.pool_pk == pool_pk).order_by(_P.c.pk)
    return [_policy(r) for r in conn.execute(query)]


def page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[PolicyRow]:
    query = _POLICY.where(_P.c.pool_pk == pool_pk, _P.c.pk > after).order_by(_P.c.pk).limit(limit)
    return [_policy(r) for r in conn.execute(query)]


def count(conn: Connection, pool_pk: int) -> int:
    query = sa.select(sa.func.count()).select_from(_P).where(_P.c.pool_pk == pool_pk)
    return int(conn.execute(query).scalar_one())


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    client_pk: int,
    policy_id: str,
    name: str,
    cache_seconds: int | None,
    url_patterns: list[str],
    now: int,
) -> None:
    conn.execute(
        sa.insert(_P).values(
            pool_pk=pool_pk,
            client_pk=client_pk,
            policy_id=policy_id,
            name=name,
            cache_seconds=cache_seconds,
            url_patterns=dumps(url_patterns),
            created_at=now,
            updated_at=now,
        )
    )


def update(conn: Connection, pk: int, **values: Any) -> None:
    if "url_patterns" in values:
        values["url_patterns"] = dumps(values["url_patterns"])
    conn.execute(sa.update(_P).where(_P.c.pk == pk).values(**values))


def delete(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_U).where(_U.c.policy_pk == pk))
    conn.execute(sa.delete(_P).where(_P.c.pk == pk))


# ---------------------------------------------------------------------- the document cache


def cached(conn: Connection, policy_pk: int, url: str) -> CachedRow | None:
    r = conn.execute(_CACHED.where(_U.c.policy_pk == policy_pk, _U.c.url == url)).first()
    return _cached(r) if r is not None else None


def cached_page(conn: Connection, policy_pk: int, after: int, limit: int) -> list[CachedRow]:
    query = _CACHED.where(_U.c.policy_pk == policy_pk, _U.c.pk > after).order_by(_U.c.pk)
    return [_cached(r) for r in conn.execute(query.limit(limit))]


def store(
    conn: Connection,
    policy_pk: int,
    url: str,
    document: dict[str, Any],
    cached_at: int,
    expires_at: int,
) -> None:
    """Insert or replace the cached document of `url` under the policy."""
    values = {"document": dumps(document), "cached_at": cached_at, "expires_at": expires_at}
    changed = conn.execute(
        sa.update(_U).where(_U.c.policy_pk == policy_pk, _U.c.url == url).values(**values)
    ).rowcount
    if not changed:
        conn.execute(sa.insert(_U).values(policy_pk=policy_pk, url=url, **values))


def forget(conn: Connection, policy_pk: int, url: str) -> bool:
    deleted = conn.execute(sa.delete(_U).where(_U.c.policy_pk == policy_pk, _U.c.url == url))
    return bool(deleted.rowcount)


def forget_all(conn: Connection, policy_pk: int) -> None:
    conn.execute(sa.delete(_U).where(_U.c.policy_pk == policy_pk))
