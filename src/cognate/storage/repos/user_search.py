"""SQL for ListUsers: one indexed range scan per filter, ordered by the user's key.

Prefix filters are ranges on code-point-ordered columns (see `schema.SearchKey`):
`key >= prefix AND key < successor(prefix)`, which every index can serve. Every statement
is built once, at import, and run by `Database.fetch` with bound parameters: building SQL
expressions per request costs more than running them. Sets of values (statuses) are
bound as a fixed number of parameters, padded with repeats, so that no statement needs
expanding parameters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cognate.storage.db import Fetch
from cognate.storage.repos.users import Found, row_of
from cognate.storage.schema import user_attributes, users

KEY_LENGTH = 200
_USER_COLUMNS = [c for c in users.c if c.name not in ("username_key", "pending")]
_A = user_attributes


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix`."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def _paged(query: Any, key: Any) -> Any:
    """A page of users, each with all their attributes (one row per attribute)."""
    page = (
        query.where(key > sa.bindparam("after")).order_by(key).limit(sa.bindparam("limit"))
    ).subquery()
    attributes = sa.alias(user_attributes)
    return (
        sa.select(page, attributes.c.name.label("a_name"), attributes.c.value.label("a_value"))
        .select_from(page.outerjoin(attributes, attributes.c.user_pk == page.c.pk))
        .order_by(page.c.pk)
    )


def _of_users(*conditions: Any) -> Any:
    query = sa.select(*_USER_COLUMNS).where(users.c.pool_pk == sa.bindparam("pool_pk"), *conditions)
    return _paged(query, users.c.pk)


def _of_attributes(*conditions: Any) -> Any:
    query = (
        sa.select(*_USER_COLUMNS)
        .select_from(_A.join(users, users.c.pk == _A.c.user_pk))
        .where(
            _A.c.pool_pk == sa.bindparam("pool_pk"), _A.c.name == sa.bindparam("name"), *conditions
        )
    )
    return _paged(query, _A.c.user_pk)


_LOW: Any = sa.bindparam("low")
_HIGH: Any = sa.bindparam("high")
_ALL = _of_users()
_USERNAME = _of_users(users.c.username_key == sa.bindparam("value"))
_USERNAME_FROM = _of_users(users.c.username_key >= _LOW)
_USERNAME_RANGE = _of_users(users.c.username_key >= _LOW, users.c.username_key < _HIGH)
_SUB = _of_users(users.c.sub == sa.bindparam("value"))
_SUB_FROM = _of_users(users.c.sub >= _LOW)
_SUB_RANGE = _of_users(users.c.sub >= _LOW, users.c.sub < _HIGH)
_STATUS_SLOTS = 8  # every UserStatusType value
_ENABLED = _of_users(users.c.enabled == sa.bindparam("value", type_=sa.Boolean))
_STATUS = _of_users(users.c.status.in_([sa.bindparam(f"status_{i}") for i in range(_STATUS_SLOTS)]))
_ATTRIBUTE = _of_attributes(_A.c.value_key == sa.bindparam("value"))
_ATTRIBUTE_FROM = _of_attributes(_A.c.value_key >= _LOW)
_ATTRIBUTE_RANGE = _of_attributes(_A.c.value_key >= _LOW, _A.c.value_key < _HIGH)
_ATTRIBUTE_LONG = _of_attributes(
    _A.c.value_key == sa.bindparam("value"), _A.c.value == sa.bindparam("full")
)
_ATTRIBUTE_LONG_PREFIX = _of_attributes(
    _A.c.value_key == sa.bindparam("value"),
    sa.func.substr(_A.c.value, 1, sa.bindparam("length")) == sa.bindparam("full"),
)


def _run(fetch: Fetch, query: Any, params: dict[str, Any]) -> list[Found]:
    found: dict[int, Found] = {}
    for r in fetch(query, params):
        entry = found.get(r.pk)
        if entry is None:
            entry = found[r.pk] = Found("", row_of(r), {})
        if r.a_name is not None:
            entry.attributes[r.a_name] = r.a_value
    return list(found.values())


def _prefixed(
    fetch: Fetch, from_: Any, range_: Any, prefix: str, params: dict[str, Any]
) -> list[Found]:
    upper = _successor(prefix)
    if upper is None:
        return _run(fetch, from_, {**params, "low": prefix})
    return _run(fetch, range_, {**params, "low": prefix, "high": upper})


def all_users(fetch: Fetch, pool_pk: int, after: int, limit: int) -> list[Found]:
    return _run(fetch, _ALL, {"pool_pk": pool_pk, "after": after, "limit": limit})


def by_username(
    fetch: Fetch, pool_pk: int, key: str, prefix: bool, after: int, limit: int
) -> list[Found]:
    params = {"pool_pk": pool_pk, "after": after, "limit": limit}
    if prefix:
        return _prefixed(fetch, _USERNAME_FROM, _USERNAME_RANGE, key, params)
    return _run(fetch, _USERNAME, {**params, "value": key})


def by_sub(
    fetch: Fetch, pool_pk: int, value: str, prefix: bool, after: int, limit: int
) -> list[Found]:
    params = {"pool_pk": pool_pk, "after": after, "limit": limit}
    if prefix:
        return _prefixed(fetch, _SUB_FROM, _SUB_RANGE, value, params)
    return _run(fetch, _SUB, {**params, "value": value})


def by_enabled(
    fetch: Fetch, pool_pk: int, enabled: list[bool], after: int, limit: int
) -> list[Found]:
    params: dict[str, Any] = {"pool_pk": pool_pk, "after": after, "limit": limit}
    if not enabled:
        return []
    if len(set(enabled)) == 2:
        return _run(fetch, _ALL, params)
    return _run(fetch, _ENABLED, {**params, "value": enabled[0]})


def by_status(
    fetch: Fetch, pool_pk: int, statuses: list[str], after: int, limit: int
) -> list[Found]:
    if not statuses:
        return []
    if len(statuses) > _STATUS_SLOTS:
        raise ValueError(f"at most {_STATUS_SLOTS} statuses")
    params: dict[str, Any] = {"pool_pk": pool_pk, "after": after, "limit": limit}
    padded = statuses + statuses[:1] * (_STATUS_SLOTS - len(statuses))
    params.update({f"status_{i}": status for i, status in enumerate(padded)})
    return _run(fetch, _STATUS, params)


def by_attribute(
    fetch: Fetch,
    pool_pk: int,
    name: str,
    key: str,
    value: str,
    prefix: bool,
    after: int,
    limit: int,
) -> list[Found]:
    """Users whose attribute `name` equals (or starts with) the value; `key` is the
    value's indexed form (its first 200 characters, case-folded where the pool folds)."""
    params: dict[str, Any] = {"pool_pk": pool_pk, "name": name, "after": after, "limit": limit}
    if len(key) < KEY_LENGTH:
        if prefix:
            return _prefixed(fetch, _ATTRIBUTE_FROM, _ATTRIBUTE_RANGE, key, params)
        return _run(fetch, _ATTRIBUTE, {**params, "value": key})
    # Longer than the indexed part: narrow by the index, then compare in full.
    params.update(value=key[:KEY_LENGTH], full=value)
    if prefix:
        return _run(fetch, _ATTRIBUTE_LONG_PREFIX, {**params, "length": len(value)})
    return _run(fetch, _ATTRIBUTE_LONG, params)
