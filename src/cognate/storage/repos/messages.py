"""SQL for the outbox of messages to deliver and for users' one-time codes. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import codes, outbox, user_pools, users

_ADD_MESSAGE = sa.insert(outbox)
_DELETE_CODE = sa.delete(codes).where(
    codes.c.user_pk == sa.bindparam("user_pk"), codes.c.purpose == sa.bindparam("purpose")
)
_ADD_CODE = sa.insert(codes)
_GET_CODE = sa.select(codes).where(
    codes.c.user_pk == sa.bindparam("user_pk"), codes.c.purpose == sa.bindparam("purpose")
)
_POOL_MESSAGES = (
    sa.select(outbox).where(outbox.c.pool_pk == sa.bindparam("pool_pk")).order_by(outbox.c.pk)
)


@dataclass(frozen=True, slots=True)
class MessageRow:
    pk: int
    user_pk: int | None
    username: str
    kind: str
    channel: str
    destination: str
    message_enc: str
    status: str
    created_at: int
    attempts: int = 0
    sent_at: int | None = None
    last_error: str | None = None
    pool_id: str = ""
    pool_pk: int = 0


def _message(r: Any) -> MessageRow:
    return MessageRow(
        r.pk,
        r.user_pk,
        r.username,
        r.kind,
        r.channel,
        r.destination,
        r.message_enc,
        r.status,
        r.created_at,
        r.attempts,
        r.sent_at,
        r.last_error,
        getattr(r, "pool_id", ""),
        r.pool_pk,
    )


@dataclass(frozen=True, slots=True)
class CodeRow:
    pk: int
    code_hash: str
    attempts: int
    expires_at: int
    created_at: int
    replaced_hashes: list[str]


PENDING = "pending"
HELD = "held"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


def add_message(conn: Connection, *, held: bool = False, **values: Any) -> None:
    """Queue a message; `values` are outbox columns (status and attempts are set here).
    A `held` message has no transport to go out by: it stays in the developer outbox."""
    conn.execute(
        _ADD_MESSAGE,
        {
            "status": HELD if held else PENDING,
            "attempts": 0,
            "sent_at": None,
            "next_attempt_at": values["created_at"],
            "lease_until": None,
            "last_error": None,
            **values,
        },
    )


def messages_of_pool(conn: Connection, pool_pk: int) -> list[MessageRow]:
    return [_message(r) for r in conn.execute(_POOL_MESSAGES, {"pool_pk": pool_pk})]


def claim_due(
    conn: Connection, now: int, *, limit: int, lease_ms: int, postgres: bool
) -> list[MessageRow]:
    """Lease up to `limit` messages due for an attempt (pending, or sending with an expired
    lease: a process died holding them) to the caller, and return them."""
    due = (
        sa.select(outbox.c.pk)
        .where(
            sa.or_(
                sa.and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now),
                sa.and_(outbox.c.status == SENDING, outbox.c.lease_until < now),
            )
        )
        .order_by(outbox.c.pk)
        .limit(limit)
    )
    if postgres:
        due = due.with_for_update(skip_locked=True)
    pks = [r.pk for r in conn.execute(due)]
    if not pks:
        return []
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.pk.in_(pks))
        .values(status=SENDING, lease_until=now + lease_ms, attempts=outbox.c.attempts + 1)
    )
    rows = conn.execute(sa.select(outbox).where(outbox.c.pk.in_(pks)).order_by(outbox.c.pk))
    return [_message(r) for r in rows]


def mark_sent(conn: Connection, pk: int, now: int) -> None:
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.pk == pk)
        .values(status=SENT, sent_at=now, lease_until=None, last_error=None)
    )


def mark_retry(conn: Connection, pk: int, next_attempt_at: int, error: str) -> None:
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.pk == pk)
        .values(status=PENDING, next_attempt_at=next_attempt_at, lease_until=None, last_error=error)
    )


def mark_failed(conn: Connection, pk: int, error: str) -> None:
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.pk == pk)
        .values(status=FAILED, lease_until=None, last_error=error)
    )


def recent(
    conn: Connection,
    *,
    pool_id: str | None,
    username: str | None,
    after: int,
    limit: int,
    oldest_first: bool = False,
) -> list[MessageRow]:
    """Messages after id `after` (optionally of one pool and one user: by the name shown in
    the message, the user's username or the destination), in id order: the newest `limit`
    of them, or with `oldest_first` the oldest `limit` (to read them all in pages)."""
    query = (
        sa.select(outbox, user_pools.c.id.label("pool_id"))
        .select_from(
            outbox.join(user_pools, user_pools.c.pk == outbox.c.pool_pk).outerjoin(
                users, users.c.pk == outbox.c.user_pk
            )
        )
        .where(outbox.c.pk > after)
    )
    if pool_id is not None:
        query = query.where(user_pools.c.id == pool_id)
    if username is not None:
        query = query.where(
            sa.or_(
                outbox.c.username == username,
                users.c.username == username,
                outbox.c.destination == username,
            )
        )
    if oldest_first:
        return [_message(r) for r in conn.execute(query.order_by(outbox.c.pk).limit(limit))]
    rows = conn.execute(query.order_by(outbox.c.pk.desc()).limit(limit))
    return [_message(r) for r in reversed(list(rows))]


_REMEMBERED_CODES = 5


def replace_code(
    conn: Connection, *, user_pk: int, purpose: str, code_hash: str, expires_at: int, now: int
) -> None:
    """Issue a code for a purpose, replacing the user's previous code for it (whose hash
    joins the remembered replaced ones)."""
    previous = code(conn, user_pk, purpose, for_update=True)
    replaced = [previous.code_hash, *previous.replaced_hashes] if previous else []
    conn.execute(_DELETE_CODE, {"user_pk": user_pk, "purpose": purpose})
    conn.execute(
        _ADD_CODE,
        {
            "user_pk": user_pk,
            "purpose": purpose,
            "code_hash": code_hash,
            "replaced_hashes": dumps(replaced[:_REMEMBERED_CODES]) if replaced else None,
            "attempts": 0,
            "expires_at": expires_at,
            "created_at": now,
        },
    )


def code(
    conn: Connection, user_pk: int, purpose: str, *, for_update: bool = False
) -> CodeRow | None:
    query = _GET_CODE.with_for_update() if for_update else _GET_CODE
    r = conn.execute(query, {"user_pk": user_pk, "purpose": purpose}).first()
    if r is None:
        return None
    replaced = loads(r.replaced_hashes) if r.replaced_hashes else []
    return CodeRow(r.pk, r.code_hash, r.attempts, r.expires_at, r.created_at, replaced)


def count_wrong_attempt(conn: Connection, code_pk: int) -> None:
    conn.execute(
        sa.update(codes).where(codes.c.pk == code_pk).values(attempts=codes.c.attempts + 1)
    )


def use_code(conn: Connection, code_pk: int) -> bool:
    """Delete a code; False when another transaction deleted it first."""
    return bool(conn.execute(sa.delete(codes).where(codes.c.pk == code_pk)).rowcount)


def delete_code(conn: Connection, user_pk: int, purpose: str) -> None:
    conn.execute(_DELETE_CODE, {"user_pk": user_pk, "purpose": purpose})


_BACKLOG = (
    sa.select(outbox.c.status, sa.func.count())
    .where(outbox.c.status.in_((PENDING, SENDING, HELD)))
    .group_by(outbox.c.status)
)


def backlog(conn: Connection) -> dict[str, int]:
    """How many messages are not delivered yet (pending, sending, held), by status."""
    counts = dict.fromkeys((PENDING, SENDING, HELD), 0)
    counts.update({r[0]: int(r[1]) for r in conn.execute(_BACKLOG)})
    return counts
