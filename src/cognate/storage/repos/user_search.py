"""SQL for ListUsers: one indexed range scan per filter, ordered by the user's key.

Prefix filters are ranges on code-point-ordered columns (see `schema.SearchKey`):
`key >= prefix AND key < successor(prefix)`, which every index can serve.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.repos.users import UserRow, row_of
from cognate.storage.schema import user_attributes, users

_KEY_LENGTH = 200
_USER_COLUMNS = [c for c in users.c if c.name not in ("username_key", "pending")]


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix`."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def _between(column: Any, prefix: str) -> Any:
    upper = _successor(prefix)
    lower = column >= prefix
    return lower if upper is None else sa.and_(lower, column < upper)


def _page(conn: Connection, query: Any, after: int, limit: int, key: Any) -> list[UserRow]:
    rows = conn.execute(query.where(key > after).order_by(key).limit(limit))
    return [row_of(r) for r in rows]


def _users() -> Any:
    return sa.select(*_USER_COLUMNS)


def all_users(conn: Connection, pool_pk: int, after: int, limit: int) -> list[UserRow]:
    return _page(conn, _users().where(users.c.pool_pk == pool_pk), after, limit, users.c.pk)


def by_username(
    conn: Connection, pool_pk: int, key: str, prefix: bool, after: int, limit: int
) -> list[UserRow]:
    match = _between(users.c.username_key, key) if prefix else users.c.username_key == key
    return _page(conn, _users().where(users.c.pool_pk == pool_pk, match), after, limit, users.c.pk)


def by_sub(
    conn: Connection, pool_pk: int, value: str, prefix: bool, after: int, limit: int
) -> list[UserRow]:
    match = _between(users.c.sub, value) if prefix else users.c.sub == value
    return _page(conn, _users().where(users.c.pool_pk == pool_pk, match), after, limit, users.c.pk)


def by_enabled(
    conn: Connection, pool_pk: int, enabled: list[bool], after: int, limit: int
) -> list[UserRow]:
    if not enabled:
        return []
    query = _users().where(users.c.pool_pk == pool_pk, users.c.enabled.in_(enabled))
    return _page(conn, query, after, limit, users.c.pk)


def by_status(
    conn: Connection, pool_pk: int, statuses: list[str], after: int, limit: int
) -> list[UserRow]:
    if not statuses:
        return []
    query = _users().where(users.c.pool_pk == pool_pk, users.c.status.in_(statuses))
    return _page(conn, query, after, limit, users.c.pk)


def by_attribute(
    conn: Connection,
    pool_pk: int,
    name: str,
    key: str,
    value: str,
    prefix: bool,
    after: int,
    limit: int,
) -> list[UserRow]:
    """Users whose attribute `name` equals (or starts with) the value; `key` is the
    value's indexed form (its first 200 characters, case-folded where the pool folds)."""
    a = user_attributes
    conditions = [a.c.pool_pk == pool_pk, a.c.name == name]
    if len(key) < _KEY_LENGTH:
        conditions.append(_between(a.c.value_key, key) if prefix else a.c.value_key == key)
    else:
        # Longer than the indexed part: narrow by the index, then compare in full.
        conditions.append(a.c.value_key == key[:_KEY_LENGTH])
        full = sa.func.substr(a.c.value, 1, len(value)) == value if prefix else a.c.value == value
        conditions.append(full)
    query = _users().select_from(a.join(users, users.c.pk == a.c.user_pk)).where(*conditions)
    return _page(conn, query, after, limit, a.c.user_pk)
