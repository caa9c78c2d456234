"""SQL for app clients' terms documents. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import terms, user_pool_clients

_T = terms
_C = user_pool_clients


@dataclass(frozen=True, slots=True)
class TermsRow:
    pk: int
    client_pk: int
    client_id: str
    terms_id: str
    name: str
    source: str
    enforcement: str
    links: dict[str, str]
    created_at: int
    updated_at: int


_FROM = _T.join(_C, _C.c.pk == _T.c.client_pk)
_COLUMNS = (
    _T.c.pk,
    _T.c.client_pk,
    _C.c.client_id,
    _T.c.terms_id,
    _T.c.name,
    _T.c.source,
    _T.c.enforcement,
    _T.c.links,
    _T.c.created_at,
    _T.c.updated_at,
)
_BY_ID = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_T.c.pool_pk == sa.bindparam("pool_pk"), _T.c.terms_id == sa.bindparam("terms_id"))
)
_BY_NAME = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_T.c.client_pk == sa.bindparam("client_pk"), _T.c.name == sa.bindparam("name"))
)
_OF_CLIENT = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_T.c.client_pk == sa.bindparam("client_pk"))
    .order_by(_T.c.pk)
)
_PAGE = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_T.c.pool_pk == sa.bindparam("pool_pk"), _T.c.pk > sa.bindparam("after"))
    .order_by(_T.c.pk)
    .limit(sa.bindparam("limit"))
)


def _row(r: Any) -> TermsRow:
    return TermsRow(
        r.pk,
        r.client_pk,
        r.client_id,
        r.terms_id,
        r.name,
        r.source,
        r.enforcement,
        loads(r.links),
        r.created_at,
        r.updated_at,
    )


def by_id(conn: Connection, pool_pk: int, terms_id: str) -> TermsRow | None:
    r = conn.execute(_BY_ID, {"pool_pk": pool_pk, "terms_id": terms_id}).first()
    return _row(r) if r is not None else None


def by_name(conn: Connection, client_pk: int, name: str) -> TermsRow | None:
    r = conn.execute(_BY_NAME, {"client_pk": client_pk, "name": name}).first()
    return _row(r) if r is not None else None


def of_client(conn: Connection, client_pk: int) -> list[TermsRow]:
    return [_row(r) for r in conn.execute(_OF_CLIENT, {"client_pk": client_pk})]


def page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[TermsRow]:
    rows = conn.execute(_PAGE, {"pool_pk": pool_pk, "after": after, "limit": limit})
    return [_row(r) for r in rows]


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    client_pk: int,
    terms_id: str,
    name: str,
    source: str,
    enforcement: str,
    links: dict[str, str],
    now: int,
) -> None:
    conn.execute(
        sa.insert(_T).values(
            pool_pk=pool_pk,
            client_pk=client_pk,
            terms_id=terms_id,
            name=name,
            source=source,
            enforcement=enforcement,
            links=dumps(links),
            created_at=now,
            updated_at=now,
        )
    )


def update(
    conn: Connection,
    pk: int,
    *,
    name: str,
    source: str,
    enforcement: str,
    links: dict[str, str],
    now: int,
) -> None:
    conn.execute(
        sa.update(_T)
        .where(_T.c.pk == pk)
        .values(
            name=name, source=source, enforcement=enforcement, links=dumps(links), updated_at=now
        )
    )


def delete(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_T).where(_T.c.pk == pk))
