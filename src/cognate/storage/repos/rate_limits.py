"""SQL for request-rate limits: UpdateProvisionedLimit's values and the shared counters.
No policy."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from cognate.storage.schema import provisioned_limits, rate_counters

_P = provisioned_limits
_C = rate_counters

_VALUES = sa.select(_P.c.category, _P.c.value).where(_P.c.region == sa.bindparam("region"))


def values(conn: Connection, region: str) -> dict[str, int]:
    """The provisioned value of every category set in the region."""
    return {r.category: int(r.value) for r in conn.execute(_VALUES, {"region": region})}


def set_value(
    conn: Connection, region: str, category: str, value: int, now: int, *, postgres: bool
) -> None:
    insert = (postgresql.insert if postgres else sqlite.insert)(_P).values(
        region=region, category=category, value=value, updated_at=now
    )
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[_P.c.region, _P.c.category],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )


def _add_statement(postgres: bool) -> sa.sql.Executable:
    insert = (postgresql.insert if postgres else sqlite.insert)(_C).values(
        scope=sa.bindparam("scope"), window=sa.bindparam("window"), count=sa.bindparam("n")
    )
    return insert.on_conflict_do_update(
        index_elements=[_C.c.scope, _C.c.window],
        set_={"count": _C.c.count + insert.excluded.count},
    ).returning(_C.c.count)


_ADD = {True: _add_statement(True), False: _add_statement(False)}


def add(conn: Connection, scope: str, window: int, n: int, *, postgres: bool) -> int:
    """Add `n` to the scope's count in `window`; return the count after the addition."""
    row = conn.execute(_ADD[postgres], {"scope": scope, "window": window, "n": n}).one()
    return int(row[0])


def purge(conn: Connection, before_window: int) -> int:
    """Delete the counters of windows before `before_window`; return how many."""
    return conn.execute(sa.delete(_C).where(_C.c.window < before_window)).rowcount or 0
