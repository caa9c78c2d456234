"""SQL for users, their attributes and their unique sign-in identifiers. No policy.

Statements on the request path are built once and executed with bound parameters.
Attribute rows carry their pool so that ListUsers filters are one index range scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.jsoncol import loads
from cognate.storage.repos import pitr
from cognate.storage.repos.pools import PoolRow
from cognate.storage.schema import user_attributes, user_identifiers, user_pools, users


@dataclass(frozen=True, slots=True)
class UserRow:
    pk: int
    pool_pk: int
    username: str
    sub: str
    status: str
    enabled: bool
    password_enc: str | None
    password_history_enc: str | None
    password_expires_at: int | None
    tokens_valid_after: int
    created_at: int
    updated_at: int
    failed_sign_ins: int = 0
    locked_until: int = 0
    mfa: str | None = None  # MFA preferences, JSON


_COLUMNS = (
    users.c.pk,
    users.c.pool_pk,
    users.c.username,
    users.c.sub,
    users.c.status,
    users.c.enabled,
    users.c.password_enc,
    users.c.password_history_enc,
    users.c.password_expires_at,
    users.c.tokens_valid_after,
    users.c.created_at,
    users.c.updated_at,
    users.c.failed_sign_ins,
    users.c.locked_until,
    users.c.mfa,
)
_BY_KEY = sa.select(*_COLUMNS).where(
    users.c.pool_pk == sa.bindparam("pool_pk"), users.c.username_key == sa.bindparam("key")
)
_BY_KEY_FOR_UPDATE = _BY_KEY.with_for_update()
_BY_PK = sa.select(*_COLUMNS).where(users.c.pk == sa.bindparam("user_pk"))
_BY_PK_FOR_UPDATE = _BY_PK.with_for_update()
_INSERT = sa.insert(users)
_ATTRIBUTES = sa.select(user_attributes.c.name, user_attributes.c.value).where(
    user_attributes.c.user_pk == sa.bindparam("user_pk")
)
_ATTRIBUTES_OF = sa.select(
    user_attributes.c.user_pk, user_attributes.c.name, user_attributes.c.value
).where(user_attributes.c.user_pk.in_(sa.bindparam("pks", expanding=True)))
_INSERT_ATTRIBUTE = sa.insert(user_attributes)
_DELETE_ATTRIBUTE = sa.delete(user_attributes).where(
    user_attributes.c.user_pk == sa.bindparam("user_pk"),
    user_attributes.c.name == sa.bindparam("attribute"),
)
_INSERT_IDENTIFIER = sa.insert(user_identifiers)
_DELETE_IDENTIFIER = sa.delete(user_identifiers).where(
    user_identifiers.c.pool_pk == sa.bindparam("pool_pk"),
    user_identifiers.c.kind == sa.bindparam("kind"),
    user_identifiers.c.value_hash == sa.bindparam("value_hash"),
)
_IDENTIFIER_OWNER = sa.select(user_identifiers.c.user_pk).where(
    user_identifiers.c.pool_pk == sa.bindparam("pool_pk"),
    user_identifiers.c.kind == sa.bindparam("kind"),
    user_identifiers.c.value_hash == sa.bindparam("value_hash"),
)
_UPDATE = sa.update(users).where(users.c.pk == sa.bindparam("user_pk"))
_DELETE = sa.delete(users).where(users.c.pk == sa.bindparam("user_pk"))


def row_of(r: Any) -> UserRow:
    return UserRow(
        r.pk,
        r.pool_pk,
        r.username,
        r.sub,
        r.status,
        bool(r.enabled),
        r.password_enc,
        r.password_history_enc,
        r.password_expires_at,
        r.tokens_valid_after,
        r.created_at,
        r.updated_at,
        r.failed_sign_ins,
        r.locked_until,
        r.mfa,
    )


def insert(conn: Connection, **values: Any) -> int:
    """Insert a user; `values` are the `users` columns except pk."""
    pitr.capture_new_user(conn, values["pool_pk"], values["username_key"])
    result = conn.execute(_INSERT, values)
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def by_username(
    conn: Connection, pool_pk: int, key: str, *, for_update: bool = False
) -> UserRow | None:
    query = _BY_KEY_FOR_UPDATE if for_update else _BY_KEY
    r = conn.execute(query, {"pool_pk": pool_pk, "key": key}).first()
    return row_of(r) if r is not None else None


def by_pk(conn: Connection, user_pk: int, *, for_update: bool = False) -> UserRow | None:
    query = _BY_PK_FOR_UPDATE if for_update else _BY_PK
    r = conn.execute(query, {"user_pk": user_pk}).first()
    return row_of(r) if r is not None else None


def owner_of(conn: Connection, pool_pk: int, kind: str, value_hash: str) -> int | None:
    """The user holding a unique sign-in identifier, if any."""
    params = {"pool_pk": pool_pk, "kind": kind, "value_hash": value_hash}
    return conn.execute(_IDENTIFIER_OWNER, params).scalar_one_or_none()


def claim_identifier(
    conn: Connection, pool_pk: int, kind: str, value_hash: str, user_pk: int
) -> None:
    """Give the identifier to the user; the primary key refuses a second holder."""
    pitr.capture_user(conn, user_pk)
    conn.execute(
        _INSERT_IDENTIFIER,
        {"pool_pk": pool_pk, "kind": kind, "value_hash": value_hash, "user_pk": user_pk},
    )


def release_identifier(conn: Connection, pool_pk: int, kind: str, value_hash: str) -> None:
    pitr.capture_owner(conn, pool_pk, kind, value_hash)
    conn.execute(_DELETE_IDENTIFIER, {"pool_pk": pool_pk, "kind": kind, "value_hash": value_hash})


def attributes(conn: Connection, user_pk: int) -> dict[str, str]:
    return {r.name: r.value for r in conn.execute(_ATTRIBUTES, {"user_pk": user_pk})}


def attributes_of(conn: Connection, user_pks: Iterable[int]) -> dict[int, dict[str, str]]:
    """Attributes of several users in one query."""
    pks = list(user_pks)
    found: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    if not pks:
        return found
    rows = conn.execute(_ATTRIBUTES_OF, {"pks": pks})
    for r in rows:
        found[r.user_pk][r.name] = r.value
    return found


def put_attributes(
    conn: Connection,
    pool_pk: int,
    user_pk: int,
    values: dict[str, tuple[str, str]],
    *,
    new_user: bool = False,
) -> None:
    """Set attributes: name -> (value, search key), replacing existing values."""
    pitr.capture_user(conn, user_pk)
    if not new_user:
        for name in values:
            conn.execute(_DELETE_ATTRIBUTE, {"user_pk": user_pk, "attribute": name})
    if values:
        conn.execute(
            _INSERT_ATTRIBUTE,
            [
                {"user_pk": user_pk, "pool_pk": pool_pk, "name": n, "value": v, "value_key": k}
                for n, (v, k) in values.items()
            ],
        )


def delete_attributes(conn: Connection, user_pk: int, names: Iterable[str]) -> None:
    pitr.capture_user(conn, user_pk)
    for name in names:
        conn.execute(_DELETE_ATTRIBUTE, {"user_pk": user_pk, "attribute": name})


def pending(conn: Connection, user_pk: int) -> str | None:
    """The user's pending (unverified) contact changes, as stored JSON."""
    return conn.execute(
        sa.select(users.c.pending).where(users.c.pk == user_pk)
    ).scalar_one_or_none()


def update(conn: Connection, user_pk: int, **values: Any) -> None:
    pitr.capture_user(conn, user_pk, frozenset(values))
    conn.execute(_UPDATE, {"user_pk": user_pk, **values})


def delete(conn: Connection, user_pk: int) -> None:
    pitr.capture_user(conn, user_pk)
    conn.execute(_DELETE, {"user_pk": user_pk})


# --------------------------------------------------------------------------- one-query reads

_POOL_COLUMNS = [c.label(f"p_{c.name}") for c in user_pools.c]
_USER_COLUMNS = [c.label(f"u_{c.name}") for c in users.c if c.name != "pending"]
_KEY_A: Any = sa.bindparam("key_a")
_KEY_B: Any = sa.bindparam("key_b")
_POOL_USER_ATTRIBUTES = (
    sa.select(
        *_POOL_COLUMNS,
        *_USER_COLUMNS,
        user_attributes.c.name.label("a_name"),
        user_attributes.c.value.label("a_value"),
    )
    .select_from(
        user_pools.outerjoin(
            users,
            sa.and_(users.c.pool_pk == user_pools.c.pk, users.c.username_key.in_([_KEY_A, _KEY_B])),
        ).outerjoin(user_attributes, user_attributes.c.user_pk == users.c.pk)
    )
    .where(
        user_pools.c.id == sa.bindparam("pool_id"), user_pools.c.region == sa.bindparam("region")
    )
)


@dataclass(frozen=True, slots=True)
class Found:
    """A user with their attributes, found with their pool in one query."""

    key: str
    user: UserRow
    attributes: dict[str, str]


def pool_and_users(
    fetch: Fetch, pool_id: str, region: str, keys: tuple[str, str]
) -> tuple[PoolRow | None, list[Found]]:
    """The pool, and the users whose username key is one of `keys`, with their attributes.

    One statement (the pool is outer-joined to its matching users and their attributes),
    for the hottest read: looking a user up by username.
    """
    rows = fetch(
        _POOL_USER_ATTRIBUTES,
        {"pool_id": pool_id, "region": region, "key_a": keys[0], "key_b": keys[1]},
    )
    if not rows:
        return None, []
    first = rows[0]
    pool = PoolRow(
        first.p_pk,
        first.p_id,
        first.p_region,
        first.p_name,
        loads(first.p_settings),
        loads(first.p_tags),
        first.p_created_at,
        first.p_updated_at,
    )
    found: dict[int, Found] = {}
    for r in rows:
        if r.u_pk is None:
            continue
        entry = found.get(r.u_pk)
        if entry is None:
            user = UserRow(
                r.u_pk,
                r.u_pool_pk,
                r.u_username,
                r.u_sub,
                r.u_status,
                bool(r.u_enabled),
                r.u_password_enc,
                r.u_password_history_enc,
                r.u_password_expires_at,
                r.u_tokens_valid_after,
                r.u_created_at,
                r.u_updated_at,
                r.u_failed_sign_ins,
                r.u_locked_until,
                r.u_mfa,
            )
            entry = found[r.u_pk] = Found(r.u_username_key, user, {})
        if r.a_name is not None:
            entry.attributes[r.a_name] = r.a_value
    return pool, list(found.values())


_USER_ATTRIBUTES_BY = sa.select(
    *_USER_COLUMNS,
    user_attributes.c.name.label("a_name"),
    user_attributes.c.value.label("a_value"),
).select_from(users.outerjoin(user_attributes, user_attributes.c.user_pk == users.c.pk))
_BY_KEYS = _USER_ATTRIBUTES_BY.where(
    users.c.pool_pk == sa.bindparam("pool_pk"), users.c.username_key.in_([_KEY_A, _KEY_B])
)
_WITH_ATTRIBUTES = _USER_ATTRIBUTES_BY.where(users.c.pk == sa.bindparam("user_pk"))
_BY_SUB_WITH_ATTRIBUTES = _USER_ATTRIBUTES_BY.where(users.c.sub == sa.bindparam("sub"))


def _found(rows: list[Any]) -> list[Found]:
    found: dict[int, Found] = {}
    for r in rows:
        entry = found.get(r.u_pk)
        if entry is None:
            user = row_of(_Unprefixed(r))
            entry = found[r.u_pk] = Found(r.u_username_key, user, {})
        if r.a_name is not None:
            entry.attributes[r.a_name] = r.a_value
    return list(found.values())


def fetch_by_keys(fetch: Fetch, pool_pk: int, keys: tuple[str, str]) -> list[Found]:
    """The pool's users whose username key is one of `keys`, with attributes (one query)."""
    return _found(fetch(_BY_KEYS, {"pool_pk": pool_pk, "key_a": keys[0], "key_b": keys[1]}))


def fetch_with_attributes(fetch: Fetch, user_pk: int) -> Found | None:
    """A user and their attributes, in one query."""
    found = _found(fetch(_WITH_ATTRIBUTES, {"user_pk": user_pk}))
    return found[0] if found else None


def fetch_by_sub(fetch: Fetch, sub: str) -> Found | None:
    """A user (by their `sub`) and their attributes, in one query."""
    found = _found(fetch(_BY_SUB_WITH_ATTRIBUTES, {"sub": sub}))
    return found[0] if found else None


class _Unprefixed:
    """A row's `u_`-labelled user columns under their own names."""

    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, "u_" + name)
