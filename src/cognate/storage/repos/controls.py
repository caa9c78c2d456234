"""SQL for the test controls: the shared clock offset and injected faults. No policy."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import test_clock, test_faults

_CLOCK_ROW = 1
_F = test_faults
_ARMED = (_F.c.remaining.is_(None)) | (_F.c.remaining > 0)

# Prebuilt for Database.fetch (read every REFRESH_S by every process).
OFFSET = sa.select(test_clock.c.offset_ms.label("offset_ms")).where(test_clock.c.id == _CLOCK_ROW)
ARMED_OPERATIONS = sa.select(_F.c.operation.label("operation")).where(_ARMED)


@dataclass(frozen=True, slots=True)
class FaultRow:
    operation: str
    error: str | None
    message: str | None
    remaining: int | None
    latency_ms: int
    hits: int
    created_at: int


def _fault(row: sa.Row[tuple[object, ...]]) -> FaultRow:
    return FaultRow(
        operation=row.operation,
        error=row.error,
        message=row.message,
        remaining=row.remaining,
        latency_ms=int(row.latency_ms),
        hits=int(row.hits),
        created_at=int(row.created_at),
    )


def offset(conn: Connection) -> int:
    value = conn.execute(OFFSET).scalar_one_or_none()
    return int(value) if value is not None else 0


def add_offset(conn: Connection, delta_ms: int, now: int) -> int:
    """Move the offset by `delta_ms` (atomically); the offset after."""
    updated = conn.execute(
        sa.update(test_clock)
        .where(test_clock.c.id == _CLOCK_ROW)
        .values(offset_ms=test_clock.c.offset_ms + delta_ms, updated_at=now)
    ).rowcount
    if not updated:  # a concurrent first insert breaks the key: Database.write(conflicts=1)
        conn.execute(
            sa.insert(test_clock).values(id=_CLOCK_ROW, offset_ms=delta_ms, updated_at=now)
        )
    return offset(conn)


def reset_offset(conn: Connection) -> None:
    conn.execute(sa.delete(test_clock))


def faults(conn: Connection) -> list[FaultRow]:
    return [_fault(r) for r in conn.execute(sa.select(_F).order_by(_F.c.operation))]


def put_fault(conn: Connection, row: FaultRow) -> None:
    """Arm `row.operation`'s fault, replacing any fault it had."""
    conn.execute(sa.delete(_F).where(_F.c.operation == row.operation))
    conn.execute(
        sa.insert(_F).values(
            operation=row.operation,
            error=row.error,
            message=row.message,
            remaining=row.remaining,
            latency_ms=row.latency_ms,
            hits=row.hits,
            created_at=row.created_at,
        )
    )


def strike(conn: Connection, operation: str) -> FaultRow | None:
    """Count one call against the operation's armed fault (locking its row); the fault as
    it was before, or None when the operation has none armed."""
    row = conn.execute(
        sa.select(_F).where(_F.c.operation == operation, _ARMED).with_for_update()
    ).one_or_none()
    if row is None:
        return None
    fault = _fault(row)
    remaining = None if fault.remaining is None else fault.remaining - 1
    conn.execute(
        sa.update(_F)
        .where(_F.c.operation == operation)
        .values(remaining=remaining, hits=_F.c.hits + 1)
    )
    return fault


def clear(conn: Connection, operation: str | None) -> int:
    """Delete the operation's fault (every fault when None); how many were deleted."""
    statement = sa.delete(_F)
    if operation is not None:
        statement = statement.where(_F.c.operation == operation)
    return conn.execute(statement).rowcount or 0
