"""SQL for per-pool signing keys. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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
