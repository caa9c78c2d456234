"""SQL for app clients and their secrets. No policy: the domain decides, this module stores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import client_secrets, user_pool_clients


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


def _row(r: Any) -> ClientRow:
    return ClientRow(
        r.pk, r.pool_pk, r.client_id, r.name, json.loads(r.settings), r.created_at, r.updated_at
    )


def _dumps(settings: dict[str, Any]) -> str:
    return json.dumps(settings, separators=(",", ":"))


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
        sa.insert(user_pool_clients).values(
            pool_pk=pool_pk,
            client_id=client_id,
            name=name,
            settings=_dumps(settings),
            created_at=now,
            updated_at=now,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get(
    conn: Connection, pool_pk: int, client_id: str, *, for_update: bool = False
) -> ClientRow | None:
    query = sa.select(*_COLUMNS).where(
        user_pool_clients.c.client_id == client_id, user_pool_clients.c.pool_pk == pool_pk
    )
    if for_update:
        query = query.with_for_update()
    r = conn.execute(query).first()
    return _row(r) if r is not None else None


def update(conn: Connection, pk: int, *, name: str, settings: dict[str, Any], now: int) -> None:
    conn.execute(
        sa.update(user_pool_clients)
        .where(user_pool_clients.c.pk == pk)
        .values(name=name, settings=_dumps(settings), updated_at=now)
    )


def delete(conn: Connection, pk: int) -> bool:
    return (
        conn.execute(sa.delete(user_pool_clients).where(user_pool_clients.c.pk == pk)).rowcount == 1
    )


def list_page(
    conn: Connection, pool_pk: int, after_pk: int, limit: int
) -> list[tuple[int, str, str]]:
    """(pk, client_id, name) of the next `limit` clients after `after_pk`."""
    rows = conn.execute(
        sa.select(user_pool_clients.c.pk, user_pool_clients.c.client_id, user_pool_clients.c.name)
        .where(user_pool_clients.c.pool_pk == pool_pk, user_pool_clients.c.pk > after_pk)
        .order_by(user_pool_clients.c.pk)
        .limit(limit)
    )
    return [(r.pk, r.client_id, r.name) for r in rows]


# --------------------------------------------------------------------------- secrets


def secrets(conn: Connection, client_pk: int) -> list[SecretRow]:
    """The client's secrets, oldest first."""
    rows = conn.execute(
        sa.select(
            client_secrets.c.pk,
            client_secrets.c.secret_id,
            client_secrets.c.secret_enc,
            client_secrets.c.generated,
            client_secrets.c.created_at,
        )
        .where(client_secrets.c.client_pk == client_pk)
        .order_by(client_secrets.c.pk)
    )
    return [
        SecretRow(r.pk, r.secret_id, r.secret_enc, bool(r.generated), r.created_at) for r in rows
    ]


def add_secret(
    conn: Connection, client_pk: int, *, secret_id: str, secret_enc: str, generated: bool, now: int
) -> None:
    conn.execute(
        sa.insert(client_secrets).values(
            client_pk=client_pk,
            secret_id=secret_id,
            secret_enc=secret_enc,
            generated=generated,
            created_at=now,
        )
    )


def delete_secret(conn: Connection, client_pk: int, secret_id: str) -> bool:
    result = conn.execute(
        sa.delete(client_secrets).where(
            client_secrets.c.client_pk == client_pk, client_secrets.c.secret_id == secret_id
        )
    )
    return result.rowcount == 1
