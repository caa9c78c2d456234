"""SQL for token sessions (one per sign-in) and their refresh tokens. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.users import UserRow, row_of
from cognate.storage.schema import (
    refresh_tokens,
    token_sessions,
    user_attributes,
    user_pool_clients,
    users,
)

_S = token_sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    pk: int
    session_id: str
    origin_jti: str
    pool_pk: int
    client_pk: int
    user_pk: int | None  # None once the user is deleted
    device_key: str | None
    auth_time: int
    created_at: int
    last_active_at: int
    expires_at: int
    revoked_at: int | None
    last_ip: str | None
    device_type: str | None


@dataclass(frozen=True, slots=True)
class AccessContext:
    """What an access token leads to: its session (None for tokens of clients without
    token revocation, which name none), its client, the user."""

    session: SessionRow | None
    client: ClientRow
    user: UserRow
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class RefreshHit:
    """A refresh token's session, the client it belongs to, when it was superseded, and
    the session's user with their attributes (None once the user is deleted)."""

    session: SessionRow
    client_id: str
    superseded_at: int | None
    user: UserRow | None
    attributes: dict[str, str]


_SESSION_COLUMNS = [c.label(f"s_{c.name}") for c in _S.c]


def _session(r: Any, prefix: str = "") -> SessionRow:
    return SessionRow(*(getattr(r, f"{prefix}{c.name}") for c in _S.c))


_USER_COLUMNS = [c.label(f"u_{c.name}") for c in users.c if c.name not in ("pending",)]
_BY_REFRESH = (
    sa.select(
        *_SESSION_COLUMNS,
        user_pool_clients.c.client_id.label("client_id"),
        refresh_tokens.c.superseded_at,
        *_USER_COLUMNS,
        user_attributes.c.name.label("a_name"),
        user_attributes.c.value.label("a_value"),
    )
    .select_from(
        refresh_tokens.join(_S, _S.c.pk == refresh_tokens.c.session_pk)
        .join(user_pool_clients, user_pool_clients.c.pk == _S.c.client_pk)
        .outerjoin(users, users.c.pk == _S.c.user_pk)
        .outerjoin(user_attributes, user_attributes.c.user_pk == users.c.pk)
    )
    .where(refresh_tokens.c.token_hash == sa.bindparam("token_hash"))
)
_CLIENT_COLUMNS = [c.label(f"c_{c.name}") for c in user_pool_clients.c]
_ACCESS = (
    sa.select(
        *_SESSION_COLUMNS,
        *_USER_COLUMNS,
        *_CLIENT_COLUMNS,
        user_attributes.c.name.label("a_name"),
        user_attributes.c.value.label("a_value"),
    )
    .select_from(
        _S.join(users, users.c.pk == _S.c.user_pk)
        .join(user_pool_clients, user_pool_clients.c.pk == _S.c.client_pk)
        .outerjoin(user_attributes, user_attributes.c.user_pk == users.c.pk)
    )
    .where(_S.c.origin_jti == sa.bindparam("origin_jti"))
)
_BY_USER = (
    sa.select(*_S.c, user_pool_clients.c.client_id.label("client_id"))
    .select_from(_S.join(user_pool_clients, user_pool_clients.c.pk == _S.c.client_pk))
    .where(
        _S.c.user_pk == sa.bindparam("user_pk"),
        _S.c.expires_at > sa.bindparam("now"),
        _S.c.revoked_at.is_(None),
    )
    .order_by(_S.c.pk)
)
_INSERT = sa.insert(_S)
_INSERT_TOKEN = sa.insert(refresh_tokens)
_SUPERSEDE = (
    sa.update(refresh_tokens)
    .where(
        refresh_tokens.c.token_hash == sa.bindparam("b_hash"),
        refresh_tokens.c.superseded_at.is_(None),
    )
    .values(superseded_at=sa.bindparam("b_now"))
)
_TOUCH = sa.update(_S).where(_S.c.pk == sa.bindparam("b_session_pk"), _S.c.revoked_at.is_(None))
_REVOKE = (
    sa.update(_S)
    .where(_S.c.pk == sa.bindparam("session_pk"), _S.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_REVOKE_OF_USER = (
    sa.update(_S)
    .where(_S.c.user_pk == sa.bindparam("b_user_pk"), _S.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_PURGE = sa.delete(_S).where(_S.c.expires_at < sa.bindparam("before"))


def insert(conn: Connection, **values: Any) -> int:
    """Store a session; `values` are the `token_sessions` columns except pk."""
    pk = conn.execute(_INSERT, values).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def add_refresh_token(conn: Connection, session_pk: int, token_hash: str, now: int) -> None:
    conn.execute(
        _INSERT_TOKEN,
        {"token_hash": token_hash, "session_pk": session_pk, "created_at": now},
    )


def by_refresh_token(fetch: Fetch, token_hash: str) -> RefreshHit | None:
    rows = fetch(_BY_REFRESH, {"token_hash": token_hash})
    if not rows:
        return None
    r = rows[0]
    user = row_of(_Prefixed(r, "u_")) if r.u_pk is not None else None
    attributes = {row.a_name: row.a_value for row in rows if row.a_name is not None}
    return RefreshHit(_session(r, "s_"), r.client_id, r.superseded_at, user, attributes)


def supersede(conn: Connection, token_hash: str, now: int) -> bool:
    """Mark a refresh token replaced; False when another request already did."""
    return bool(conn.execute(_SUPERSEDE, {"b_hash": token_hash, "b_now": now}).rowcount)


def touch(conn: Connection, session_pk: int, **values: Any) -> bool:
    """Update a live session's activity columns; False when it was revoked or is gone."""
    return bool(conn.execute(_TOUCH, {"b_session_pk": session_pk, **values}).rowcount)


def access_context(fetch: Fetch, origin_jti: str) -> AccessContext | None:
    """The session an access token came from (revoked or not), its user and the user's
    attributes, in one statement; None when there is none (purged, user deleted)."""
    rows = fetch(_ACCESS, {"origin_jti": origin_jti})
    if not rows:
        return None
    first = rows[0]
    user = row_of(_Prefixed(first, "u_"))
    client = clients_repo.row_of(_Prefixed(first, "c_"))
    attributes = {r.a_name: r.a_value for r in rows if r.a_name is not None}
    return AccessContext(_session(first, "s_"), client, user, attributes)


def of_user(conn: Connection, user_pk: int, now: int) -> list[tuple[SessionRow, str]]:
    """A user's live sessions (unexpired, not revoked), oldest first, with client ids."""
    rows = conn.execute(_BY_USER, {"user_pk": user_pk, "now": now})
    return [(_session(r), r.client_id) for r in rows]


def revoke(conn: Connection, session_pk: int, now: int) -> bool:
    return bool(conn.execute(_REVOKE, {"session_pk": session_pk, "now": now}).rowcount)


def revoke_of_user(conn: Connection, user_pk: int, now: int) -> int:
    return conn.execute(_REVOKE_OF_USER, {"b_user_pk": user_pk, "now": now}).rowcount


def purge_expired(conn: Connection, before: int) -> int:
    return conn.execute(_PURGE, {"before": before}).rowcount


class _Prefixed:
    """Attribute access to a row's `prefix`-labelled columns without the prefix."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def revoke_of_device(conn: Connection, device_key: str, now: int) -> int:
    """Revoke the sessions started on a device (ForgetDevice)."""
    return conn.execute(
        sa.update(_S)
        .where(_S.c.device_key == device_key, _S.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
