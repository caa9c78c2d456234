"""SQL for per-pool signing keys. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.schema import signing_keys


@dataclass(frozen=True, slots=True)
class KeyRow:
    pk: int
    kid: str
    purpose: str
    private_key_enc: str
    public_jwk: str
    certificate: str | None
    created_at: int


def _row(r: Any) -> KeyRow:
    return KeyRow(
        r.pk, r.kid, r.purpose, r.private_key_enc, r.public_jwk, r.certificate, r.created_at
    )


def active(conn: Connection, pool_pk: int, purpose: str) -> KeyRow | None:
    r = conn.execute(
        sa.select(signing_keys).where(
            signing_keys.c.pool_pk == pool_pk,
            signing_keys.c.purpose == purpose,
            signing_keys.c.retired_at.is_(None),
        )
    ).first()
    return _row(r) if r is not None else None


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    purpose: str,
    kid: str,
    private_key_enc: str,
    public_jwk: str,
    certificate: str | None,
    now: int,
) -> None:
    conn.execute(
        sa.insert(signing_keys).values(
            pool_pk=pool_pk,
            purpose=purpose,
            kid=kid,
            private_key_enc=private_key_enc,
            public_jwk=public_jwk,
            certificate=certificate,
            created_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class PublishedKey:
    pool_pk: int
    kid: str
    purpose: str
    public_jwk: str
    retired_at: int | None


_PUBLISHED = (
    sa.select(
        signing_keys.c.pool_pk,
        signing_keys.c.kid,
        signing_keys.c.purpose,
        signing_keys.c.public_jwk,
        signing_keys.c.retired_at,
    )
    .where(
        signing_keys.c.pool_pk == sa.bindparam("pool_pk"),
        signing_keys.c.purpose.in_([sa.bindparam("purpose_a"), sa.bindparam("purpose_b")]),
        sa.or_(
            signing_keys.c.retired_at.is_(None),
            signing_keys.c.retired_at > sa.bindparam("retired_after"),
        ),
    )
    .order_by(signing_keys.c.pk)
)
_BY_KID = sa.select(
    signing_keys.c.pool_pk,
    signing_keys.c.kid,
    signing_keys.c.purpose,
    signing_keys.c.public_jwk,
    signing_keys.c.retired_at,
).where(signing_keys.c.kid == sa.bindparam("kid"))


def published(
    fetch: Fetch, pool_pk: int, purposes: tuple[str, str], retired_after: int
) -> list[PublishedKey]:
    """A pool's active keys of two purposes, and those retired after `retired_after`."""
    rows = fetch(
        _PUBLISHED,
        {
            "pool_pk": pool_pk,
            "purpose_a": purposes[0],
            "purpose_b": purposes[1],
            "retired_after": retired_after,
        },
    )
    return [PublishedKey(*r) for r in rows]


def by_kid(fetch: Fetch, kid: str) -> PublishedKey | None:
    rows = fetch(_BY_KID, {"kid": kid})
    return PublishedKey(*rows[0]) if rows else None


def retire(conn: Connection, pool_pk: int, purpose: str, now: int) -> None:
    conn.execute(
        sa.update(signing_keys)
        .where(
            signing_keys.c.pool_pk == pool_pk,
            signing_keys.c.purpose == purpose,
            signing_keys.c.retired_at.is_(None),
        )
        .values(retired_at=now)
    )
