"""SQL for a pool's identity providers, their IdpIdentifiers and the provider links of
AdminLinkProviderForUser. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import identity_providers, idp_identifiers, provider_links

_P = identity_providers
_I = idp_identifiers
_L = provider_links


@dataclass(frozen=True, slots=True)
class ProviderRow:
    pk: int
    pool_pk: int
    name: str
    provider_type: str
    details: dict[str, str]  # ProviderDetails without the secrets
    secrets_enc: str | None  # the secret members, sealed together as JSON
    attribute_mapping: dict[str, str]
    idp_identifiers: list[str]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class LinkRow:
    pk: int
    provider_name: str
    attribute_name: str
    attribute_value: str
    user_pk: int
    created_at: int


def _provider(r: Any) -> ProviderRow:
    return ProviderRow(
        r.pk,
        r.pool_pk,
        r.name,
        r.provider_type,
        loads(r.details),
        r.secrets_enc,
        loads(r.attribute_mapping),
        loads(r.idp_identifiers),
        r.created_at,
        r.updated_at,
    )


def _link(r: Any) -> LinkRow:
    return LinkRow(
        r.pk, r.provider_name, r.attribute_name, r.attribute_value, r.user_pk, r.created_at
    )


_BY_NAME = sa.select(_P).where(
    _P.c.pool_pk == sa.bindparam("pool_pk"), _P.c.name == sa.bindparam("name")
)
_BY_IDENTIFIER = (
    sa.select(_P)
    .join(_I, _I.c.provider_pk == _P.c.pk)
    .where(_I.c.pool_pk == sa.bindparam("pool_pk"), _I.c.identifier == sa.bindparam("identifier"))
)
_PAGE = (
    sa.select(_P)
    .where(_P.c.pool_pk == sa.bindparam("pool_pk"), _P.c.pk > sa.bindparam("after"))
    .order_by(_P.c.pk)
    .limit(sa.bindparam("limit"))
)
_NAMES = sa.select(_P.c.name).where(_P.c.pool_pk == sa.bindparam("pool_pk"))
_COUNT = sa.select(sa.func.count()).select_from(_P).where(_P.c.pool_pk == sa.bindparam("pool_pk"))
_IDENTIFIER_OWNERS = sa.select(_I.c.identifier, _I.c.provider_pk).where(
    _I.c.pool_pk == sa.bindparam("pool_pk"),
    _I.c.identifier.in_(sa.bindparam("identifiers", expanding=True)),
)
_LINK_OF = sa.select(_L).where(
    _L.c.pool_pk == sa.bindparam("pool_pk"),
    _L.c.provider_name == sa.bindparam("provider_name"),
    _L.c.attribute_value == sa.bindparam("value"),
)
_LINKS_OF_USER = sa.select(_L).where(_L.c.user_pk == sa.bindparam("user_pk")).order_by(_L.c.pk)


def by_name(conn: Connection, pool_pk: int, name: str) -> ProviderRow | None:
    r = conn.execute(_BY_NAME, {"pool_pk": pool_pk, "name": name}).first()
    return _provider(r) if r is not None else None


def by_identifier(conn: Connection, pool_pk: int, identifier: str) -> ProviderRow | None:
    r = conn.execute(_BY_IDENTIFIER, {"pool_pk": pool_pk, "identifier": identifier}).first()
    return _provider(r) if r is not None else None


def names(conn: Connection, pool_pk: int) -> frozenset[str]:
    return frozenset(r.name for r in conn.execute(_NAMES, {"pool_pk": pool_pk}))


def page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[ProviderRow]:
    rows = conn.execute(_PAGE, {"pool_pk": pool_pk, "after": after, "limit": limit})
    return [_provider(r) for r in rows]


def count(conn: Connection, pool_pk: int) -> int:
    return int(conn.execute(_COUNT, {"pool_pk": pool_pk}).scalar_one())


def identifier_owners(conn: Connection, pool_pk: int, identifiers: list[str]) -> dict[str, int]:
    """Which provider (pk) holds each of `identifiers` already."""
    if not identifiers:
        return {}
    rows = conn.execute(_IDENTIFIER_OWNERS, {"pool_pk": pool_pk, "identifiers": identifiers})
    return {r.identifier: r.provider_pk for r in rows}


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    name: str,
    provider_type: str,
    details: dict[str, str],
    secrets_enc: str | None,
    attribute_mapping: dict[str, str],
    identifiers: list[str],
    now: int,
) -> int:
    result = conn.execute(
        sa.insert(_P).values(
            pool_pk=pool_pk,
            name=name,
            provider_type=provider_type,
            details=dumps(details),
            secrets_enc=secrets_enc,
            attribute_mapping=dumps(attribute_mapping),
            idp_identifiers=dumps(identifiers),
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    pk = int(key[0])
    _put_identifiers(conn, pool_pk, pk, identifiers)
    return pk


def update(
    conn: Connection,
    row: ProviderRow,
    *,
    details: dict[str, str],
    secrets_enc: str | None,
    attribute_mapping: dict[str, str],
    identifiers: list[str],
    now: int,
) -> None:
    conn.execute(
        sa.update(_P)
        .where(_P.c.pk == row.pk)
        .values(
            details=dumps(details),
            secrets_enc=secrets_enc,
            attribute_mapping=dumps(attribute_mapping),
            idp_identifiers=dumps(identifiers),
            updated_at=now,
        )
    )
    if identifiers != row.idp_identifiers:
        conn.execute(sa.delete(_I).where(_I.c.provider_pk == row.pk))
        _put_identifiers(conn, row.pool_pk, row.pk, identifiers)


def set_secrets(conn: Connection, pk: int, secrets_enc: str | None) -> None:
    conn.execute(sa.update(_P).where(_P.c.pk == pk).values(secrets_enc=secrets_enc))


def _put_identifiers(conn: Connection, pool_pk: int, pk: int, identifiers: list[str]) -> None:
    if identifiers:
        conn.execute(
            sa.insert(_I),
            [{"pool_pk": pool_pk, "provider_pk": pk, "identifier": i} for i in identifiers],
        )


def delete(conn: Connection, row: ProviderRow) -> None:
    conn.execute(sa.delete(_I).where(_I.c.provider_pk == row.pk))
    conn.execute(sa.delete(_L).where(_L.c.pool_pk == row.pool_pk, _L.c.provider_name == row.name))
    conn.execute(sa.delete(_P).where(_P.c.pk == row.pk))


# --------------------------------------------------------------------------- links


def link_of(conn: Connection, pool_pk: int, provider_name: str, value: str) -> LinkRow | None:
    params = {"pool_pk": pool_pk, "provider_name": provider_name, "value": value}
    r = conn.execute(_LINK_OF, params).first()
    return _link(r) if r is not None else None


def links_of_user(conn: Connection, user_pk: int) -> list[LinkRow]:
    return [_link(r) for r in conn.execute(_LINKS_OF_USER, {"user_pk": user_pk})]


def add_link(
    conn: Connection,
    *,
    pool_pk: int,
    provider_name: str,
    attribute_name: str,
    value: str,
    user_pk: int,
    now: int,
) -> None:
    conn.execute(
        sa.insert(_L).values(
            pool_pk=pool_pk,
            provider_name=provider_name,
            attribute_name=attribute_name,
            attribute_value=value,
            user_pk=user_pk,
            created_at=now,
        )
    )


def delete_link(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_L).where(_L.c.pk == pk))
