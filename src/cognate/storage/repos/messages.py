"""SQL for the outbox of messages to deliver and for users' one-time codes. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import codes, outbox

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


@dataclass(frozen=True, slots=True)
class CodeRow:
    pk: int
    code_hash: str
    attempts: int
    expires_at: int
    created_at: int


def add_message(conn: Connection, **values: Any) -> None:
    """Queue a message; `values` are outbox columns (status and attempts are set here)."""
    conn.execute(_ADD_MESSAGE, {"status": "pending", "attempts": 0, "sent_at": None, **values})


def messages_of_pool(conn: Connection, pool_pk: int) -> list[MessageRow]:
    return [
        MessageRow(
            r.pk,
            r.user_pk,
            r.username,
            r.kind,
            r.channel,
            r.destination,
            r.message_enc,
            r.status,
            r.created_at,
        )
        for r in conn.execute(_POOL_MESSAGES, {"pool_pk": pool_pk})
    ]


def replace_code(
    conn: Connection, *, user_pk: int, purpose: str, code_hash: str, expires_at: int, now: int
) -> None:
    """Issue a code for a purpose, replacing the user's previous code for it."""
    conn.execute(_DELETE_CODE, {"user_pk": user_pk, "purpose": purpose})
    conn.execute(
        _ADD_CODE,
        {
            "user_pk": user_pk,
            "purpose": purpose,
            "code_hash": code_hash,
            "attempts": 0,
            "expires_at": expires_at,
            "created_at": now,
        },
    )


def code(conn: Connection, user_pk: int, purpose: str) -> CodeRow | None:
    r = conn.execute(_GET_CODE, {"user_pk": user_pk, "purpose": purpose}).first()
    if r is None:
        return None
    return CodeRow(r.pk, r.code_hash, r.attempts, r.expires_at, r.created_at)


def delete_code(conn: Connection, user_pk: int, purpose: str) -> None:
    conn.execute(_DELETE_CODE, {"user_pk": user_pk, "purpose": purpose})
