"""SQL for threat protection: risk configurations and the user event history. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import auth_events, risk_configurations

_C = risk_configurations
_E = auth_events


# ------------------------------------------------------------------ risk configurations


@dataclass(frozen=True, slots=True)
class RiskConfigRow:
    client_pk: int | None
    config: dict[str, Any]
    updated_at: int


def _where_config(pool_pk: int, client_pk: int | None) -> Any:
    client = _C.c.client_pk.is_(None) if client_pk is None else _C.c.client_pk == client_pk
    return sa.and_(_C.c.pool_pk == pool_pk, client)


def get_config(conn: Connection, pool_pk: int, client_pk: int | None) -> RiskConfigRow | None:
    r = conn.execute(
        sa.select(_C.c.client_pk, _C.c.config, _C.c.updated_at).where(
            _where_config(pool_pk, client_pk)
        )
    ).first()
    return RiskConfigRow(r.client_pk, loads(r.config), r.updated_at) if r is not None else None


def effective_configs(conn: Connection, pool_pk: int, client_pk: int) -> list[RiskConfigRow]:
    """The client's configuration and the pool's, in one statement (client's first)."""
    rows = conn.execute(
        sa.select(_C.c.client_pk, _C.c.config, _C.c.updated_at)
        .where(
            _C.c.pool_pk == pool_pk, sa.or_(_C.c.client_pk.is_(None), _C.c.client_pk == client_pk)
        )
        .order_by(_C.c.client_pk.is_(None))
    )
    return [RiskConfigRow(r.client_pk, loads(r.config), r.updated_at) for r in rows]


def put_config(
    conn: Connection, pool_pk: int, client_pk: int | None, config: dict[str, Any], now: int
) -> None:
    conn.execute(sa.delete(_C).where(_where_config(pool_pk, client_pk)))
    conn.execute(
        sa.insert(_C).values(
            pool_pk=pool_pk, client_pk=client_pk, config=dumps(config), updated_at=now
        )
    )


def delete_config(conn: Connection, pool_pk: int, client_pk: int | None) -> None:
    conn.execute(sa.delete(_C).where(_where_config(pool_pk, client_pk)))


# ------------------------------------------------------------------ auth events


@dataclass(frozen=True, slots=True)
class EventRow:
    pk: int
    event_id: str
    event_type: str
    response: str
    ip: str | None
    details: dict[str, Any]
    feedback: dict[str, Any] | None
    created_at: int


_EVENT_COLUMNS = (
    _E.c.pk,
    _E.c.event_id,
    _E.c.event_type,
    _E.c.response,
    _E.c.ip,
    _E.c.details,
    _E.c.feedback,
    _E.c.created_at,
)


def _event(r: Any) -> EventRow:
    feedback = loads(r.feedback) if r.feedback else None
    return EventRow(
        r.pk,
        r.event_id,
        r.event_type,
        r.response,
        r.ip,
        loads(r.details),
        feedback,
        r.created_at,
    )


def add_event(
    conn: Connection,
    *,
    pool_pk: int,
    user_pk: int,
    event_id: str,
    event_type: str,
    response: str,
    ip: str | None,
    details: dict[str, Any],
    now: int,
) -> None:
    conn.execute(
        sa.insert(_E).values(
            pool_pk=pool_pk,
            user_pk=user_pk,
            event_id=event_id,
            event_type=event_type,
            response=response,
            ip=ip,
            details=dumps(details),
            created_at=now,
        )
    )


def update_event(conn: Connection, pk: int, *, response: str, details: dict[str, Any]) -> None:
    conn.execute(
        sa.update(_E).where(_E.c.pk == pk).values(response=response, details=dumps(details))
    )


def latest_in_progress(conn: Connection, user_pk: int, since: int) -> EventRow | None:
    r = conn.execute(
        sa.select(*_EVENT_COLUMNS)
        .where(
            _E.c.user_pk == user_pk,
            _E.c.event_type == "SignIn",
            _E.c.response == "InProgress",
            _E.c.created_at >= since,
        )
        .order_by(_E.c.pk.desc())
        .limit(1)
    ).first()
    return _event(r) if r is not None else None


def by_event_id(conn: Connection, user_pk: int, event_id: str) -> EventRow | None:
    r = conn.execute(
        sa.select(*_EVENT_COLUMNS).where(_E.c.user_pk == user_pk, _E.c.event_id == event_id)
    ).first()
    return _event(r) if r is not None else None


def set_feedback(conn: Connection, pk: int, feedback: dict[str, Any]) -> None:
    conn.execute(sa.update(_E).where(_E.c.pk == pk).values(feedback=dumps(feedback)))


def page(conn: Connection, user_pk: int, before: int | None, limit: int) -> list[EventRow]:
    """Newest first: events with pk below `before` (None: from the newest)."""
    query = sa.select(*_EVENT_COLUMNS).where(_E.c.user_pk == user_pk)
    if before is not None:
        query = query.where(_E.c.pk < before)
    rows = conn.execute(query.order_by(_E.c.pk.desc()).limit(limit))
    return [_event(r) for r in rows]


@dataclass(frozen=True, slots=True)
class History:
    """What account-takeover evaluation compares a sign-in with."""

    has_passed: bool  # the user has signed in successfully before
    ip_seen: bool  # ... from this address
    recent_failures: int


def history(conn: Connection, user_pk: int, ip: str | None, failures_since: int) -> History:
    passed = _E.c.response == "Pass"
    sign_in = _E.c.event_type == "SignIn"
    row = conn.execute(
        sa.select(
            sa.func.count().filter(passed),
            sa.func.count().filter(passed, _E.c.ip == ip),
            sa.func.count().filter(_E.c.response == "Fail", _E.c.created_at >= failures_since),
        ).where(_E.c.user_pk == user_pk, sign_in)
    ).one()
    return History(bool(row[0]), bool(row[1]), int(row[2]))
