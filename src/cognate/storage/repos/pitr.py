"""SQL for point-in-time recovery: the before-image log, restorations, and the restore itself.

Capture: every repo function that changes a user's data (users, user_attributes,
user_identifiers, group_members, software_tokens, webauthn_credentials) or a group calls
`capture_user` / `capture_group` before its statement, in the caller's transaction. The
first call for an entity in a transaction appends its whole current state (its
"before-image", or NULL when it does not exist yet) to `pitr_changes`; later calls in the
same transaction add nothing. The same call refuses the write (`paused_error()`) while a
recovery of the pool is active, so every user-data write path pauses in one place.

Restore: the state of an entity at time T is the image of its earliest log row after T (no
row: unchanged since T). `apply` writes those states back directly (not through the
capturing functions) in the caller's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import (
    group_members,
    groups,
    pitr_changes,
    pitr_restorations,
    software_tokens,
    user_attributes,
    user_identifiers,
    user_import_jobs,
    users,
    webauthn_credentials,
)

Image = dict[str, Any]

ACTIVE = ("PREVIEW_GENERATING", "PREVIEW_GENERATED", "RESTORING")
PREVIEW_TTL_MS = 24 * 3600 * 1000
RETENTION_MS = 14 * 24 * 3600 * 1000  # the longest window (Plus feature plan)
# Columns whose changes are sign-in bookkeeping, not user data: not captured, not paused.
_BOOKKEEPING = frozenset({"failed_sign_ins", "locked_until", "tokens_valid_after"})


def _default_paused_error() -> Exception:
    return RuntimeError("writes to this user pool are paused by a point-in-time recovery")


paused_error: Callable[[], Exception] = _default_paused_error
"""Builds the error a paused write raises; the domain installs Cognito's."""


def _now() -> int:
    return time.time_ns() // 1_000_000


# --------------------------------------------------------------------------- capture


def _first_in_transaction(conn: Connection, key: tuple[str, int, str]) -> bool:
    txn = conn.get_transaction()
    seen: tuple[Any, set[tuple[str, int, str]]] | None = conn.info.get("pitr_seen")
    if seen is None or seen[0] is not txn:
        seen = (txn, set())
        conn.info["pitr_seen"] = seen
    if key in seen[1]:
        return False
    seen[1].add(key)
    return True


def active_pk(conn: Connection, pool_pk: int, now: int) -> int | None:
    """The pool's active recovery (pk), if any: previews expire after 24 hours."""
    r = conn.execute(
        sa.select(
            pitr_restorations.c.pk, pitr_restorations.c.status, pitr_restorations.c.created_at
        )
        .where(pitr_restorations.c.pool_pk == pool_pk, pitr_restorations.c.status.in_(ACTIVE))
        .order_by(pitr_restorations.c.pk.desc())
        .limit(1)
    ).first()
    if r is None:
        return None
    if r.status != "RESTORING" and r.created_at + PREVIEW_TTL_MS <= now:
        return None
    return int(r.pk)


def _log(
    conn: Connection, pool_pk: int, kind: str, key: str, state: Callable[[], Image | None]
) -> None:
    if not _first_in_transaction(conn, (kind, pool_pk, key)):
        return
    now = _now()
    if active_pk(conn, pool_pk, now) is not None:
        raise paused_error()
    image = state()
    result = conn.execute(
        sa.insert(pitr_changes),
        {
            "pool_pk": pool_pk,
            "kind": kind,
            "entity_key": key,
            "changed_at": now,
            "image": dumps(image) if image is not None else None,
        },
    )
    pk = result.inserted_primary_key
    if pk is not None and int(pk[0]) % 1000 == 0:  # purge now and then, amortized
        conn.execute(sa.delete(pitr_changes).where(pitr_changes.c.changed_at < now - RETENTION_MS))


def capture_new_user(conn: Connection, pool_pk: int, username_key: str) -> None:
    _log(conn, pool_pk, "user", username_key, lambda: None)


def capture_new_users(conn: Connection, pool_pk: int, username_keys: list[str]) -> None:
    """`capture_new_user` for a batch (user import): one check, one statement."""
    now = _now()
    if active_pk(conn, pool_pk, now) is not None:
        raise paused_error()
    rows = [
        {"pool_pk": pool_pk, "kind": "user", "entity_key": k, "changed_at": now, "image": None}
        for k in username_keys
        if _first_in_transaction(conn, ("user", pool_pk, k))
    ]
    if rows:
        conn.execute(sa.insert(pitr_changes), rows)


def capture_user(conn: Connection, user_pk: int, columns: frozenset[str] | None = None) -> None:
    """Log the user's before-image (unless only sign-in bookkeeping `columns` change)."""
    if columns is not None and columns <= _BOOKKEEPING:
        return
    r = conn.execute(
        sa.select(users.c.pool_pk, users.c.username_key).where(users.c.pk == user_pk)
    ).first()
    if r is None:
        return
    _log(conn, r.pool_pk, "user", r.username_key, lambda: user_image(conn, user_pk))


def capture_owner(conn: Connection, pool_pk: int, kind: str, value_hash: str) -> None:
    owner = conn.execute(
        sa.select(user_identifiers.c.user_pk).where(
            user_identifiers.c.pool_pk == pool_pk,
            user_identifiers.c.kind == kind,
            user_identifiers.c.value_hash == value_hash,
        )
    ).scalar_one_or_none()
    if owner is not None:
        capture_user(conn, owner)


def capture_new_group(conn: Connection, pool_pk: int, name_key: str) -> None:
    _log(conn, pool_pk, "group", name_key, lambda: None)


def capture_group(conn: Connection, group_pk: int, *, with_members: bool = False) -> None:
    """Log the group's before-image; `with_members` also logs its members' (whose
    memberships a deletion removes)."""
    if with_members:
        members = conn.execute(
            sa.select(group_members.c.user_pk).where(group_members.c.group_pk == group_pk)
        ).scalars()
        for user_pk in list(members):
            capture_user(conn, int(user_pk))
    r = conn.execute(
        sa.select(groups.c.pool_pk, groups.c.name_key).where(groups.c.pk == group_pk)
    ).first()
    if r is None:
        return
    pool_pk, key = int(r.pool_pk), str(r.name_key)
    _log(conn, pool_pk, "group", key, lambda: current_group(conn, pool_pk, key))


def user_image(conn: Connection, user_pk: int) -> Image | None:
    row = conn.execute(sa.select(users).where(users.c.pk == user_pk)).first()
    if row is None:
        return None
    attrs = conn.execute(
        sa.select(user_attributes.c.name, user_attributes.c.value, user_attributes.c.value_key)
        .where(user_attributes.c.user_pk == user_pk)
        .order_by(user_attributes.c.name)
    )
    idents = conn.execute(
        sa.select(user_identifiers.c.kind, user_identifiers.c.value_hash)
        .where(user_identifiers.c.user_pk == user_pk)
        .order_by(user_identifiers.c.kind, user_identifiers.c.value_hash)
    )
    group_keys = conn.execute(
        sa.select(groups.c.name_key)
        .join(group_members, group_members.c.group_pk == groups.c.pk)
        .where(group_members.c.user_pk == user_pk)
        .order_by(groups.c.name_key)
    ).scalars()
    token = conn.execute(
        sa.select(software_tokens).where(software_tokens.c.user_pk == user_pk)
    ).first()
    keys = conn.execute(
        sa.select(webauthn_credentials)
        .where(webauthn_credentials.c.user_pk == user_pk)
        .order_by(webauthn_credentials.c.credential_id)
    )
    return {
        "row": _plain(row),
        "attributes": [list(a) for a in attrs],
        "identifiers": [list(i) for i in idents],
        "groups": list(group_keys),
        "token": _without(_plain(token), "user_pk") if token is not None else None,
        "passkeys": [_without(_plain(k), "pk", "user_pk") for k in keys],
    }


def _plain(row: Any) -> dict[str, Any]:
    """A row as a JSON-ready dict (column names are str subclasses orjson refuses)."""
    return {str(k): v for k, v in row._mapping.items()}


def _without(d: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in names}


# --------------------------------------------------------------------------- history


def states_at(conn: Connection, pool_pk: int, since: int) -> dict[tuple[str, str], Image | None]:
    """(kind, key) -> the entity's state at `since`, for every entity changed after it."""
    rows = conn.execute(
        sa.select(pitr_changes.c.kind, pitr_changes.c.entity_key, pitr_changes.c.image)
        .where(pitr_changes.c.pool_pk == pool_pk, pitr_changes.c.changed_at > since)
        .order_by(pitr_changes.c.changed_at, pitr_changes.c.pk)
    )
    states: dict[tuple[str, str], Image | None] = {}
    for r in rows:
        key = (r.kind, r.entity_key)
        if key not in states:
            states[key] = loads(r.image) if r.image is not None else None
    return states


def current_user(conn: Connection, pool_pk: int, key: str) -> Image | None:
    pk = conn.execute(
        sa.select(users.c.pk).where(users.c.pool_pk == pool_pk, users.c.username_key == key)
    ).scalar_one_or_none()
    return user_image(conn, pk) if pk is not None else None


def current_group(conn: Connection, pool_pk: int, key: str) -> Image | None:
    r = conn.execute(
        sa.select(groups).where(groups.c.pool_pk == pool_pk, groups.c.name_key == key)
    ).first()
    if r is None:
        return None
    members = conn.execute(
        sa.select(users.c.username_key)
        .join(group_members, group_members.c.user_pk == users.c.pk)
        .where(group_members.c.group_pk == r.pk)
    ).scalars()
    return {"row": _plain(r), "members": sorted(members)}


def purge(conn: Connection, before: int) -> None:
    conn.execute(sa.delete(pitr_changes).where(pitr_changes.c.changed_at < before))


# --------------------------------------------------------------------------- restorations


def insert_restoration(conn: Connection, **values: Any) -> None:
    conn.execute(sa.insert(pitr_restorations), values)


def restoration(
    conn: Connection, pool_pk: int, restore_id: str, *, for_update: bool = False
) -> Any:
    query = sa.select(pitr_restorations).where(
        pitr_restorations.c.pool_pk == pool_pk, pitr_restorations.c.restore_id == restore_id
    )
    return conn.execute(query.with_for_update() if for_update else query).first()


def restorations(conn: Connection, pool_pk: int, before_pk: int, limit: int) -> list[Any]:
    query = sa.select(pitr_restorations).where(pitr_restorations.c.pool_pk == pool_pk)
    if before_pk:
        query = query.where(pitr_restorations.c.pk < before_pk)
    return list(conn.execute(query.order_by(pitr_restorations.c.pk.desc()).limit(limit)))


def recent(conn: Connection, pool_pk: int, since: int) -> list[Any]:
    return list(
        conn.execute(
            sa.select(pitr_restorations).where(
                pitr_restorations.c.pool_pk == pool_pk, pitr_restorations.c.created_at > since
            )
        )
    )


def import_in_progress(conn: Connection, pool_pk: int) -> bool:
    return (
        conn.execute(
            sa.select(user_import_jobs.c.pk).where(
                user_import_jobs.c.pool_pk == pool_pk,
                user_import_jobs.c.status.in_(("Pending", "InProgress", "Stopping")),
            )
        ).first()
        is not None
    )


def set_status(conn: Connection, pk: int, status: str, now: int) -> None:
    conn.execute(
        sa.update(pitr_restorations)
        .where(pitr_restorations.c.pk == pk)
        .values(status=status, updated_at=now)
    )


# --------------------------------------------------------------------------- restore


def apply(conn: Connection, pool_pk: int, states: dict[tuple[str, str], Image | None]) -> None:
    """Write every entity back to its state (deletions first, then groups, then users)."""
    for (kind, key), state in states.items():
        if state is None:
            if kind == "user":
                conn.execute(
                    sa.delete(users).where(users.c.pool_pk == pool_pk, users.c.username_key == key)
                )
            else:
                conn.execute(
                    sa.delete(groups).where(groups.c.pool_pk == pool_pk, groups.c.name_key == key)
                )
    group_pks: dict[str, int] = {}
    for (kind, key), state in states.items():
        if kind == "group" and state is not None:
            group_pks[key] = _put_group(conn, pool_pk, state["row"])
    restored_users: set[str] = set()
    for (kind, key), state in states.items():
        if kind == "user" and state is not None:
            _put_user(conn, pool_pk, state)
            restored_users.add(key)
    for (kind, key), state in states.items():
        if kind == "group" and state is not None:
            for member in state["members"]:
                if member not in restored_users:
                    _add_member(conn, pool_pk, group_pks[key], member)


def _put_group(conn: Connection, pool_pk: int, row: dict[str, Any]) -> int:
    current = conn.execute(
        sa.select(groups.c.pk).where(
            groups.c.pool_pk == pool_pk, groups.c.name_key == row["name_key"]
        )
    ).scalar_one_or_none()
    values = _without(row, "pk")
    if current is not None:
        conn.execute(sa.update(groups).where(groups.c.pk == current).values(**values))
        return int(current)
    taken = conn.execute(sa.select(groups.c.pk).where(groups.c.pk == row["pk"])).first()
    result = conn.execute(sa.insert(groups), values if taken else row)
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def _put_user(conn: Connection, pool_pk: int, image: Image) -> None:
    row = image["row"]
    current = conn.execute(
        sa.select(users).where(
            users.c.pool_pk == pool_pk, users.c.username_key == row["username_key"]
        )
    ).first()
    if current is not None and current.sub == row["sub"]:
        # The same user: revert in place (its sessions and devices stay). Users who changed
        # their password after the recovery point keep their current password (the model).
        values = _without(row, "pk", "password_enc", "password_history_enc", "password_expires_at")
        if current.password_enc == row["password_enc"] or current.password_enc is None:
            values.update(
                password_enc=row["password_enc"],
                password_history_enc=row["password_history_enc"],
                password_expires_at=row["password_expires_at"],
            )
        conn.execute(sa.update(users).where(users.c.pk == current.pk).values(**values))
        user_pk = int(current.pk)
        for table in (user_attributes, user_identifiers, group_members, software_tokens):
            conn.execute(sa.delete(table).where(table.c.user_pk == user_pk))
        conn.execute(
            sa.delete(webauthn_credentials).where(webauthn_credentials.c.user_pk == user_pk)
        )
    else:
        if current is not None:  # a different user took the name after the recovery point
            conn.execute(sa.delete(users).where(users.c.pk == current.pk))
        taken = conn.execute(sa.select(users.c.pk).where(users.c.pk == row["pk"])).first()
        result = conn.execute(sa.insert(users), _without(row, "pk") if taken else row)
        pk = result.inserted_primary_key
        assert pk is not None
        user_pk = int(pk[0])
    for name, value, value_key in image["attributes"]:
        conn.execute(
            sa.insert(user_attributes),
            {
                "user_pk": user_pk,
                "pool_pk": pool_pk,
                "name": name,
                "value": value,
                "value_key": value_key,
            },
        )
    for kind, value_hash in image["identifiers"]:
        conn.execute(
            sa.delete(user_identifiers).where(
                user_identifiers.c.pool_pk == pool_pk,
                user_identifiers.c.kind == kind,
                user_identifiers.c.value_hash == value_hash,
            )
        )
        conn.execute(
            sa.insert(user_identifiers),
            {"pool_pk": pool_pk, "kind": kind, "value_hash": value_hash, "user_pk": user_pk},
        )
    for group_key in image["groups"]:
        group_pk = conn.execute(
            sa.select(groups.c.pk).where(
                groups.c.pool_pk == pool_pk, groups.c.name_key == group_key
            )
        ).scalar_one_or_none()
        if group_pk is not None:
            _insert_member(conn, int(group_pk), user_pk)
    if image["token"] is not None:
        conn.execute(sa.insert(software_tokens), {**image["token"], "user_pk": user_pk})
    for key in image["passkeys"]:
        conn.execute(
            sa.delete(webauthn_credentials).where(
                webauthn_credentials.c.credential_id == key["credential_id"]
            )
        )
        conn.execute(sa.insert(webauthn_credentials), {**key, "user_pk": user_pk})


def _add_member(conn: Connection, pool_pk: int, group_pk: int, username_key: str) -> None:
    user_pk = conn.execute(
        sa.select(users.c.pk).where(
            users.c.pool_pk == pool_pk, users.c.username_key == username_key
        )
    ).scalar_one_or_none()
    if user_pk is not None:
        _insert_member(conn, group_pk, int(user_pk))


def _insert_member(conn: Connection, group_pk: int, user_pk: int) -> None:
    exists = conn.execute(
        sa.select(group_members.c.user_pk).where(
            group_members.c.group_pk == group_pk, group_members.c.user_pk == user_pk
        )
    ).first()
    if exists is None:
        conn.execute(sa.insert(group_members), {"group_pk": group_pk, "user_pk": user_pk})
