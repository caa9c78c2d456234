"""SQL for users' TOTP authenticators (`software_tokens`). No policy."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.repos import pitr
from cognate.storage.schema import software_tokens

_T = software_tokens


@dataclass(frozen=True, slots=True)
class TokenRow:
    user_pk: int
    secret_enc: str | None
    pending_secret_enc: str | None
    friendly_name: str | None
    last_step: int


def get(conn: Connection, user_pk: int, *, for_update: bool = False) -> TokenRow | None:
    query = sa.select(_T).where(_T.c.user_pk == user_pk)
    if for_update:
        query = query.with_for_update()
    r = conn.execute(query).first()
    if r is None:
        return None
    return TokenRow(r.user_pk, r.secret_enc, r.pending_secret_enc, r.friendly_name, r.last_step)


def set_pending(conn: Connection, user_pk: int, secret_enc: str, now: int) -> None:
    """Store a newly associated secret; a verified one is dropped (the user's TOTP is not
    verified any more until VerifySoftwareToken)."""
    pitr.capture_user(conn, user_pk)
    if get(conn, user_pk, for_update=True) is None:
        conn.execute(
            sa.insert(_T).values(
                user_pk=user_pk,
                secret_enc=None,
                pending_secret_enc=secret_enc,
                last_step=0,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            sa.update(_T)
            .where(_T.c.user_pk == user_pk)
            .values(secret_enc=None, pending_secret_enc=secret_enc, updated_at=now)
        )


def promote(conn: Connection, user_pk: int, friendly_name: str | None, step: int, now: int) -> None:
    """The pending secret was verified: it becomes the user's authenticator."""
    pitr.capture_user(conn, user_pk)
    conn.execute(
        sa.update(_T)
        .where(_T.c.user_pk == user_pk)
        .values(
            secret_enc=_T.c.pending_secret_enc,
            pending_secret_enc=None,
            friendly_name=friendly_name,
            last_step=step,
            updated_at=now,
        )
    )


def use_step(conn: Connection, user_pk: int, step: int) -> bool:
    """Record a code's time step as used; False if it (or a later one) already was."""
    result = conn.execute(
        sa.update(_T).where(_T.c.user_pk == user_pk, _T.c.last_step < step).values(last_step=step)
    )
    return bool(result.rowcount)


def delete(conn: Connection, user_pk: int) -> bool:
    pitr.capture_user(conn, user_pk)
    return bool(conn.execute(sa.delete(_T).where(_T.c.user_pk == user_pk)).rowcount)
