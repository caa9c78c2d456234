"""SQL for groups and group membership. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.db import Fetch
from cognate.storage.repos import pitr
from cognate.storage.repos.users import UserRow, row_of
from cognate.storage.schema import group_members, groups, users

_COLUMNS = (
    groups.c.pk,
    groups.c.name,
    groups.c.description,
    groups.c.role_arn,
    groups.c.precedence,
    groups.c.created_at,
    groups.c.updated_at,
)
_GET = sa.select(*_COLUMNS).where(
    groups.c.pool_pk == sa.bindparam("pool_pk"), groups.c.name_key == sa.bindparam("key")
)
_INSERT = sa.insert(groups)
_UPDATE = sa.update(groups).where(groups.c.pk == sa.bindparam("group_pk"))
_DELETE = sa.delete(groups).where(groups.c.pk == sa.bindparam("group_pk"))
_LIST = (
    sa.select(*_COLUMNS)
    .where(groups.c.pool_pk == sa.bindparam("pool_pk"), groups.c.pk > sa.bindparam("after"))
    .order_by(groups.c.pk)
    .limit(sa.bindparam("limit"))
)
_IS_MEMBER = sa.select(group_members.c.user_pk).where(
    group_members.c.group_pk == sa.bindparam("group_pk"),
    group_members.c.user_pk == sa.bindparam("user_pk"),
)
_ADD_MEMBER = sa.insert(group_members)
_REMOVE_MEMBER = sa.delete(group_members).where(
    group_members.c.group_pk == sa.bindparam("group_pk"),
    group_members.c.user_pk == sa.bindparam("user_pk"),
)
_GROUPS_OF_USER = (
    sa.select(*_COLUMNS)
    .select_from(group_members.join(groups, groups.c.pk == group_members.c.group_pk))
    .where(group_members.c.user_pk == sa.bindparam("user_pk"), groups.c.pk > sa.bindparam("after"))
    .order_by(groups.c.pk)
    .limit(sa.bindparam("limit"))
)
_USERS_OF_GROUP = (
    sa.select(*[c for c in users.c if c.name not in ("username_key", "pending")])
    .select_from(group_members.join(users, users.c.pk == group_members.c.user_pk))
    .where(
        group_members.c.group_pk == sa.bindparam("group_pk"),
        group_members.c.user_pk > sa.bindparam("after"),
    )
    .order_by(group_members.c.user_pk)
    .limit(sa.bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class GroupRow:
    pk: int
    name: str
    description: str | None
    role_arn: str | None
    precedence: int | None
    created_at: int
    updated_at: int


def _group(r: Any) -> GroupRow:
    return GroupRow(
        r.pk, r.name, r.description, r.role_arn, r.precedence, r.created_at, r.updated_at
    )


def name_key(name: str) -> str:
    """Group names compare regardless of case."""
    return name.casefold()


def get(conn: Connection, pool_pk: int, name: str) -> GroupRow | None:
    r = conn.execute(_GET, {"pool_pk": pool_pk, "key": name_key(name)}).first()
    return _group(r) if r is not None else None


def insert(conn: Connection, **values: Any) -> None:
    pitr.capture_new_group(conn, values["pool_pk"], values["name_key"])
    conn.execute(_INSERT, values)


def update(conn: Connection, group_pk: int, **values: Any) -> None:
    pitr.capture_group(conn, group_pk)
    conn.execute(_UPDATE, {"group_pk": group_pk, **values})


def delete(conn: Connection, group_pk: int) -> None:
    pitr.capture_group(conn, group_pk, with_members=True)
    conn.execute(_DELETE, {"group_pk": group_pk})


def list_page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[GroupRow]:
    rows = conn.execute(_LIST, {"pool_pk": pool_pk, "after": after, "limit": limit})
    return [_group(r) for r in rows]


def add_member(conn: Connection, group_pk: int, user_pk: int) -> None:
    """Add the user to the group (nothing happens if they already are a member)."""
    params = {"group_pk": group_pk, "user_pk": user_pk}
    if conn.execute(_IS_MEMBER, params).first() is None:
        pitr.capture_user(conn, user_pk)
        conn.execute(_ADD_MEMBER, params)


def remove_member(conn: Connection, group_pk: int, user_pk: int) -> None:
    pitr.capture_user(conn, user_pk)
    conn.execute(_REMOVE_MEMBER, {"group_pk": group_pk, "user_pk": user_pk})


def groups_of_user(conn: Connection, user_pk: int, after: int, limit: int) -> list[GroupRow]:
    rows = conn.execute(_GROUPS_OF_USER, {"user_pk": user_pk, "after": after, "limit": limit})
    return [_group(r) for r in rows]


def users_of_group(conn: Connection, group_pk: int, after: int, limit: int) -> list[UserRow]:
    rows = conn.execute(_USERS_OF_GROUP, {"group_pk": group_pk, "after": after, "limit": limit})
    return [row_of(r) for r in rows]


def fetch_of_user(fetch: Fetch, user_pk: int) -> list[GroupRow]:
    """Every group of a user (at most 100: Cognito's quota), by Database.fetch."""
    rows = fetch(_GROUPS_OF_USER, {"user_pk": user_pk, "after": 0, "limit": 100})
    return [_group(r) for r in rows]
