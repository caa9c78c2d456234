"""SQL for app clients and their secrets. No policy: the domain decides, this module stores.

Statements on the request path are built once and executed with bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos.pools import PoolRow
from cognate.storage.schema import client_secrets, user_pool_clients, user_pools


@dataclass(frozen=True, slots=True)
class ClientRow:
    pk: int
    pool_pk: int
    client_id: str
    name: str
    settings: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class SecretRow:
    pk: int
    secret_id: str
    secret_enc: str
    generated: bool
    created_at: int


_COLUMNS = (
    user_pool_clients.c.pk,
    user_pool_clients.c.pool_pk,
    user_pool_clients.c.client_id,
    user_pool_clients.c.name,
    user_pool_clients.c.settings,
    user_pool_clients.c.created_at,
    user_pool_clients.c.updated_at,
)


_BY_ID = (
    user_pool_clients.c.client_id == sa.bindparam("client_id"),
    user_pool_clients.c.pool_pk == sa.bindparam("pool_pk"),
)
_GET = sa.select(*_COLUMNS).where(*_BY_ID)
_BY_CLIENT_ID = sa.select(*_COLUMNS).where(
    user_pool_clients.c.client_id == sa.bindparam("client_id")
)
_GET_FOR_UPDATE = _GET.with_for_update()
_INSERT = sa.insert(user_pool_clients)
_UPDATE = (
    sa.update(user_pool_clients)
    .where(user_pool_clients.c.pk == sa.bindparam("client_pk"))
    .values(
        name=sa.bindparam("new_name"),
        settings=sa.bindparam("new_settings"),
        updated_at=sa.bindparam("now"),
    )
)
_DELETE = sa.delete(user_pool_clients).where(user_pool_clients.c.pk == sa.bindparam("client_pk"))
_LIST = (
    sa.select(user_pool_clients.c.pk, user_pool_clients.c.client_id, user_pool_clients.c.name)
    .where(
        user_pool_clients.c.pool_pk == sa.bindparam("pool_pk"),
        user_pool_clients.c.pk > sa.bindparam("after"),
    )
    .order_by(user_pool_clients.c.pk)
    .limit(sa.bindparam("limit"))
)
_SECRETS = (
    sa.select(
        client_secrets.c.pk,
        client_secrets.c.secret_id,
        client_secrets.c.secret_enc,
        client_secrets.c.generated,
        client_secrets.c.created_at,
    )
    .where(client_secrets.c.client_pk == sa.bindparam("client_pk"))
    .order_by(client_secrets.c.pk)
)
_ADD_SECRET = sa.insert(client_secrets)
_DELETE_SECRET = sa.delete(client_secrets).where(
    client_secrets.c.client_pk == sa.bindparam("client_pk"),
    client_secrets.c.secret_id == sa.bindparam("id"),
)


def row_of(r: Any) -> ClientRow:
    """A ClientRow from a row with the `user_pool_clients` columns (by name)."""
    return _row(r)


def _row(r: Any) -> ClientRow:
    return ClientRow(
        r.pk, r.pool_pk, r.client_id, r.name, loads(r.settings), r.created_at, r.updated_at
    )


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    client_id: str,
    name: str,
    settings: dict[str, Any],
    now: int,
) -> int:
    result = conn.execute(
        _INSERT,
        {
            "pool_pk": pool_pk,
            "client_id": client_id,
            "name": name,
            "settings": dumps(settings),
            "created_at": now,
            "updated_at": now,
        },
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get(
    conn: Connection, pool_pk: int, client_id: str, *, for_update: bool = False
) -> ClientRow | None:
    query = _GET_FOR_UPDATE if for_update else _GET
    r = conn.execute(query, {"client_id": client_id, "pool_pk": pool_pk}).first()
    return _row(r) if r is not None else None


def by_client_id(conn: Connection, client_id: str) -> ClientRow | None:
    """A client found by its id alone (unsigned requests name only the client)."""
    r = conn.execute(_BY_CLIENT_ID, {"client_id": client_id}).first()
    return _row(r) if r is not None else None


def update(conn: Connection, pk: int, *, name: str, settings: dict[str, Any], now: int) -> None:
    conn.execute(
        _UPDATE, {"client_pk": pk, "new_name": name, "new_settings": dumps(settings), "now": now}
    )


def delete(conn: Connection, pk: int) -> bool:
    return conn.execute(_DELETE, {"client_pk": pk}).rowcount == 1


def list_page(
    conn: Connection, pool_pk: int, after_pk: int, limit: int
) -> list[tuple[int, str, str]]:
    """(pk, client_id, name) of the next `limit` clients after `after_pk`."""
    rows = conn.execute(_LIST, {"pool_pk": pool_pk, "after": after_pk, "limit": limit})
    return [(r.pk, r.client_id, r.name) for r in rows]


# --------------------------------------------------------------------------- secrets


def secrets(conn: Connection, client_pk: int) -> list[SecretRow]:
    """The client's secrets, oldest first."""
    rows = conn.execute(_SECRETS, {"client_pk": client_pk})
    return [
        SecretRow(r.pk, r.secret_id, r.secret_enc, bool(r.generated), r.created_at) for r in rows
    ]


def add_secret(
    conn: Connection, client_pk: int, *, secret_id: str, secret_enc: str, generated: bool, now: int
) -> None:
    conn.execute(
        _ADD_SECRET,
        {
            "client_pk": client_pk,
            "secret_id": secret_id,
            "secret_enc": secret_enc,
            "generated": generated,
            "created_at": now,
        },
    )


def delete_secret(conn: Connection, client_pk: int, secret_id: str) -> bool:
    return conn.execute(_DELETE_SECRET, {"client_pk": client_pk, "id": secret_id}).rowcount == 1


# --------------------------------------------------------------------------- one-query reads

_CLIENT_WITH_POOL = (
    sa.select(
        *(c.label(f"c_{c.name}") for c in _COLUMNS),
        *(c.label(f"p_{c.name}") for c in user_pools.c),
        sa.exists().where(client_secrets.c.client_pk == user_pool_clients.c.pk).label("has_secret"),
    )
    .select_from(user_pool_clients.join(user_pools, user_pools.c.pk == user_pool_clients.c.pool_pk))
    .where(user_pool_clients.c.client_id == sa.bindparam("client_id"))
)


@dataclass(frozen=True, slots=True)
class ClientWithPool:
    client: ClientRow
    pool: PoolRow
    has_secret: bool


def fetch_with_pool(fetch: Fetch, client_id: str) -> ClientWithPool | None:
    """An app client, its pool and whether it has a secret, in one statement."""
    rows = fetch(_CLIENT_WITH_POOL, {"client_id": client_id})
    if not rows:
        return None
    r = rows[0]
    client = ClientRow(
        r.c_pk,
        r.c_pool_pk,
        r.c_client_id,
        r.c_name,
        loads(r.c_settings),
        r.c_created_at,
        r.c_updated_at,
    )
    pool = PoolRow(
        r.p_pk,
        r.p_id,
        r.p_region,
        r.p_name,
        loads(r.p_settings),
        loads(r.p_tags),
        r.p_created_at,
        r.p_updated_at,
    )
    return ClientWithPool(client, pool, bool(r.has_secret))
