"""SQL for sign-in challenge sessions (`auth_sessions`). No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import auth_sessions


@dataclass(frozen=True, slots=True)
class AuthSessionRow:
    pool_pk: int
    client_pk: int
    user_pk: int | None
    challenge: str
    state_enc: str
    expires_at: int


_TAKE = (
    sa.update(auth_sessions)
    .where(
        auth_sessions.c.token_hash == sa.bindparam("b_hash"),
        auth_sessions.c.client_pk == sa.bindparam("b_client_pk"),
        auth_sessions.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("b_now"))
    .returning(
        auth_sessions.c.pool_pk,
        auth_sessions.c.client_pk,
        auth_sessions.c.user_pk,
        auth_sessions.c.challenge,
        auth_sessions.c.state_enc,
        auth_sessions.c.expires_at,
    )
)
_TAKE_ANY_CLIENT = (
    sa.update(auth_sessions)
    .where(
        auth_sessions.c.token_hash == sa.bindparam("b_hash"),
        auth_sessions.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("b_now"))
    .returning(
        auth_sessions.c.pool_pk,
        auth_sessions.c.client_pk,
        auth_sessions.c.user_pk,
        auth_sessions.c.challenge,
        auth_sessions.c.state_enc,
        auth_sessions.c.expires_at,
    )
)
_EXISTS = sa.select(auth_sessions.c.used_at).where(
    auth_sessions.c.token_hash == sa.bindparam("token_hash"),
    auth_sessions.c.client_pk == sa.bindparam("client_pk"),
)
_RELEASE = (
    sa.update(auth_sessions)
    .where(auth_sessions.c.token_hash == sa.bindparam("b_hash"))
    .values(used_at=None)
)
_INSERT = sa.insert(auth_sessions)
_PURGE = sa.delete(auth_sessions).where(auth_sessions.c.expires_at < sa.bindparam("now"))


def insert(conn: Connection, **values: Any) -> None:
    """Store a session; `values` are the `auth_sessions` columns except pk."""
    conn.execute(_INSERT, values)


def take(
    conn: Connection, token_hash: str, client_pk: int | None, now: int
) -> AuthSessionRow | None:
    """Mark the session with this token hash used (only the client's, unless `client_pk`
    is None: operations that name no client) and return it; None when there is no unused
    one (see `known`)."""
    if client_pk is None:
        r = conn.execute(_TAKE_ANY_CLIENT, {"b_hash": token_hash, "b_now": now}).first()
    else:
        params = {"b_hash": token_hash, "b_client_pk": client_pk, "b_now": now}
        r = conn.execute(_TAKE, params).first()
    if r is None:
        return None
    return AuthSessionRow(r.pool_pk, r.client_pk, r.user_pk, r.challenge, r.state_enc, r.expires_at)


def known(conn: Connection, token_hash: str, client_pk: int | None) -> bool:
    """Whether there is a session with this token hash (the client's, unless None), used
    or not."""
    if client_pk is None:
        query = sa.select(auth_sessions.c.pk).where(auth_sessions.c.token_hash == token_hash)
        return conn.execute(query).first() is not None
    params = {"token_hash": token_hash, "client_pk": client_pk}
    return conn.execute(_EXISTS, params).first() is not None


def release(conn: Connection, token_hash: str) -> None:
    """Make a used session usable again."""
    conn.execute(_RELEASE, {"b_hash": token_hash})


def continue_as(
    conn: Connection, token_hash: str, challenge: str, state_enc: str, expires_at: int
) -> None:
    """Turn a used session into the unused session of the next step."""
    conn.execute(
        sa.update(auth_sessions)
        .where(auth_sessions.c.token_hash == token_hash)
        .values(challenge=challenge, state_enc=state_enc, expires_at=expires_at, used_at=None)
    )


def purge_expired(conn: Connection, now: int) -> int:
    return conn.execute(_PURGE, {"now": now}).rowcount


def peek(conn: Connection, token_hash: str, now: int) -> AuthSessionRow | None:
    """The unused, unexpired session with this token hash, left as it is."""
    r = conn.execute(
        sa.select(
            auth_sessions.c.pool_pk,
            auth_sessions.c.client_pk,
            auth_sessions.c.user_pk,
            auth_sessions.c.challenge,
            auth_sessions.c.state_enc,
            auth_sessions.c.expires_at,
        ).where(
            auth_sessions.c.token_hash == token_hash,
            auth_sessions.c.used_at.is_(None),
            auth_sessions.c.expires_at > now,
        )
    ).first()
    if r is None:
        return None
    return AuthSessionRow(r.pool_pk, r.client_pk, r.user_pk, r.challenge, r.state_enc, r.expires_at)


def delete(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(auth_sessions).where(auth_sessions.c.token_hash == token_hash))
