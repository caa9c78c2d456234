"""SQL for passkeys: users' WebAuthn credentials (`webauthn_credentials`) and their pending
registrations (`webauthn_registrations`). No policy."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import pitr
from cognate.storage.schema import webauthn_credentials, webauthn_registrations

_C = webauthn_credentials
_R = webauthn_registrations


@dataclass(frozen=True, slots=True)
class CredentialRow:
    pk: int
    user_pk: int
    credential_id: str  # base64url, as clients name it
    public_key: str  # base64url of the COSE public key
    sign_count: int
    relying_party_id: str
    friendly_name: str | None
    attachment: str | None
    transports: list[str]
    created_at: int


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    user_pk: int
    client_id: str
    challenge: str  # base64url
    relying_party_id: str
    expires_at: int


def _credential(r: sa.Row[tuple[object, ...]]) -> CredentialRow:
    m = r._mapping
    return CredentialRow(
        m["pk"],
        m["user_pk"],
        m["credential_id"],
        m["public_key"],
        m["sign_count"],
        m["relying_party_id"],
        m["friendly_name"],
        m["attachment"],
        list(loads(m["transports"]) or []) if m["transports"] else [],
        m["created_at"],
    )


# ----------------------------------------------------------------------------- credentials


def of_user(
    conn: Connection, user_pk: int, *, after_pk: int = 0, limit: int | None = None
) -> list[CredentialRow]:
    query = sa.select(_C).where(_C.c.user_pk == user_pk, _C.c.pk > after_pk).order_by(_C.c.pk)
    if limit is not None:
        query = query.limit(limit)
    return [_credential(r) for r in conn.execute(query)]


def count(conn: Connection, user_pk: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(_C.c.user_pk == user_pk)).scalar_one())


def by_id(conn: Connection, credential_id: str) -> CredentialRow | None:
    r = conn.execute(sa.select(_C).where(_C.c.credential_id == credential_id)).first()
    return _credential(r) if r is not None else None


def insert(
    conn: Connection,
    *,
    user_pk: int,
    credential_id: str,
    public_key: str,
    sign_count: int,
    relying_party_id: str,
    friendly_name: str | None,
    attachment: str | None,
    transports: list[str],
    now: int,
) -> None:
    pitr.capture_user(conn, user_pk)
    conn.execute(
        sa.insert(_C).values(
            user_pk=user_pk,
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            relying_party_id=relying_party_id,
            friendly_name=friendly_name,
            attachment=attachment,
            transports=dumps(transports),
            created_at=now,
        )
    )


def set_sign_count(conn: Connection, pk: int, sign_count: int) -> None:
    conn.execute(sa.update(_C).where(_C.c.pk == pk).values(sign_count=sign_count))


def delete(conn: Connection, user_pk: int, credential_id: str) -> bool:
    pitr.capture_user(conn, user_pk)
    result = conn.execute(
        sa.delete(_C).where(_C.c.user_pk == user_pk, _C.c.credential_id == credential_id)
    )
    return bool(result.rowcount)


# ----------------------------------------------------------------------------- registrations


def put_registration(conn: Connection, row: RegistrationRow) -> None:
    conn.execute(sa.delete(_R).where(_R.c.user_pk == row.user_pk))
    conn.execute(
        sa.insert(_R).values(
            user_pk=row.user_pk,
            client_id=row.client_id,
            challenge=row.challenge,
            relying_party_id=row.relying_party_id,
            expires_at=row.expires_at,
        )
    )


def take_registration(conn: Connection, user_pk: int) -> RegistrationRow | None:
    """The user's pending registration, removed (a challenge is answered once)."""
    r = conn.execute(sa.select(_R).where(_R.c.user_pk == user_pk).with_for_update()).first()
    if r is None:
        return None
    conn.execute(sa.delete(_R).where(_R.c.user_pk == user_pk))
    return RegistrationRow(r.user_pk, r.client_id, r.challenge, r.relying_party_id, r.expires_at)
