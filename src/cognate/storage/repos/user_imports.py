"""SQL for CSV user import jobs, their uploaded files (in chunks), and the users a batch
of rows creates (bulk statements over the users tables). No policy.

Every state change is a conditional UPDATE (`WHERE status = ...`, `WHERE upload = ...`,
`WHERE lease_owner = ...`) that reports whether it applied, so concurrent requests and
several processes agree on one outcome without locks held across calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.repos import pitr
from cognate.storage.schema import user_attributes, user_identifiers, users
from cognate.storage.schema import user_import_chunks as _C
from cognate.storage.schema import user_import_jobs as _J

# Statuses a process works on (it holds the lease while it does).
RUNNABLE = ("Pending", "InProgress", "Stopping")


@dataclass(frozen=True, slots=True)
class ImportJobRow:
    pk: int
    pool_pk: int
    job_id: str
    name: str
    role_arn: str
    hashing_algorithm: str | None
    status: str
    upload: str
    upload_started_at: int | None
    upload_bytes: int
    upload_chunks: int
    rows_done: int
    imported: int
    skipped: int
    failed: int
    completion_message: str | None
    lease_owner: str | None
    lease_until: int
    created_at: int
    started_at: int | None
    completed_at: int | None


_COLUMNS = tuple(_J.c)


def _row(r: Any) -> ImportJobRow:
    return ImportJobRow(**{c.name: getattr(r, c.name) for c in _COLUMNS})


def insert(conn: Connection, **values: Any) -> int:
    result = conn.execute(sa.insert(_J), values)
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def by_job_id(conn: Connection, pool_pk: int, job_id: str) -> ImportJobRow | None:
    r = conn.execute(
        sa.select(*_COLUMNS).where(_J.c.pool_pk == pool_pk, _J.c.job_id == job_id)
    ).first()
    return _row(r) if r is not None else None


def by_id(conn: Connection, job_id: str) -> ImportJobRow | None:
    r = conn.execute(sa.select(*_COLUMNS).where(_J.c.job_id == job_id)).first()
    return _row(r) if r is not None else None


def by_pk(conn: Connection, pk: int) -> ImportJobRow | None:
    r = conn.execute(sa.select(*_COLUMNS).where(_J.c.pk == pk)).first()
    return _row(r) if r is not None else None


def page(conn: Connection, pool_pk: int, after: int, limit: int) -> list[ImportJobRow]:
    rows = conn.execute(
        sa.select(*_COLUMNS)
        .where(_J.c.pool_pk == pool_pk, _J.c.pk > after)
        .order_by(_J.c.pk)
        .limit(limit)
    )
    return [_row(r) for r in rows]


def set_status(
    conn: Connection, pk: int, expected: tuple[str, ...], status: str, **values: Any
) -> bool:
    """Move the job to `status` if it is in one of `expected`; whether it moved."""
    result = conn.execute(
        sa.update(_J)
        .where(_J.c.pk == pk, _J.c.status.in_(expected))
        .values(status=status, **values)
    )
    return result.rowcount == 1


def update(conn: Connection, pk: int, **values: Any) -> None:
    conn.execute(sa.update(_J).where(_J.c.pk == pk).values(**values))


# ---------------------------------------------------------------------------- upload


def claim_upload(conn: Connection, pk: int, now: int, stale_before: int) -> bool:
    """Start the job's one upload: nothing uploaded yet (or an upload abandoned before
    `stale_before`), and the job not started."""
    result = conn.execute(
        sa.update(_J)
        .where(
            _J.c.pk == pk,
            _J.c.status == "Created",
            sa.or_(
                _J.c.upload == "none",
                sa.and_(_J.c.upload == "uploading", _J.c.upload_started_at < stale_before),
            ),
        )
        .values(upload="uploading", upload_started_at=now, upload_bytes=0, upload_chunks=0)
    )
    return result.rowcount == 1


def put_chunk(conn: Connection, job_pk: int, seq: int, data: bytes) -> None:
    conn.execute(sa.insert(_C), {"job_pk": job_pk, "seq": seq, "data": data})


def finish_upload(conn: Connection, pk: int, started_at: int, size: int, chunks: int) -> bool:
    result = conn.execute(
        sa.update(_J)
        .where(_J.c.pk == pk, _J.c.upload == "uploading", _J.c.upload_started_at == started_at)
        .values(upload="done", upload_bytes=size, upload_chunks=chunks)
    )
    return result.rowcount == 1


def abandon_upload(conn: Connection, pk: int, started_at: int) -> None:
    result = conn.execute(
        sa.update(_J)
        .where(_J.c.pk == pk, _J.c.upload == "uploading", _J.c.upload_started_at == started_at)
        .values(upload="none", upload_started_at=None, upload_bytes=0, upload_chunks=0)
    )
    if result.rowcount == 1:
        delete_chunks(conn, pk)


def chunk(conn: Connection, job_pk: int, seq: int) -> bytes | None:
    value = conn.execute(
        sa.select(_C.c.data).where(_C.c.job_pk == job_pk, _C.c.seq == seq)
    ).scalar_one_or_none()
    return bytes(value) if value is not None else None


def delete_chunks(conn: Connection, job_pk: int) -> None:
    conn.execute(sa.delete(_C).where(_C.c.job_pk == job_pk))


# ---------------------------------------------------------------------------- running


def claim_runnable(conn: Connection, owner: str, now: int, lease_ms: int) -> ImportJobRow | None:
    """Lease one job that needs a process (started, and no live lease on it)."""
    candidate = conn.execute(
        sa.select(_J.c.pk)
        .where(_J.c.status.in_(RUNNABLE), _J.c.lease_until < now)
        .order_by(_J.c.pk)
        .limit(1)
    ).scalar_one_or_none()
    if candidate is None:
        return None
    result = conn.execute(
        sa.update(_J)
        .where(_J.c.pk == candidate, _J.c.status.in_(RUNNABLE), _J.c.lease_until < now)
        .values(lease_owner=owner, lease_until=now + lease_ms)
    )
    if result.rowcount != 1:  # another process took it first
        return None
    return by_pk(conn, candidate)


def renew_lease(conn: Connection, pk: int, owner: str, until: int) -> str | None:
    """Extend this process's lease; the job's status, or None if the lease was lost."""
    result = conn.execute(
        sa.update(_J).where(_J.c.pk == pk, _J.c.lease_owner == owner).values(lease_until=until)
    )
    if result.rowcount != 1:
        return None
    status: str | None = conn.execute(
        sa.select(_J.c.status).where(_J.c.pk == pk)
    ).scalar_one_or_none()
    return status


def expire_created(conn: Connection, created_before: int, now: int, message: str) -> list[int]:
    """Jobs created before `created_before` and never started become Expired; their pks."""
    pks = list(
        conn.execute(
            sa.select(_J.c.pk).where(_J.c.status == "Created", _J.c.created_at < created_before)
        ).scalars()
    )
    for pk in pks:
        if set_status(
            conn, pk, ("Created",), "Expired", completed_at=now, completion_message=message
        ):
            delete_chunks(conn, pk)
    return pks


def add_progress(
    conn: Connection, pk: int, *, rows: int, imported: int, skipped: int, failed: int
) -> None:
    """Count a batch: committed with the users it created, so a resumed job skips it."""
    conn.execute(
        sa.update(_J)
        .where(_J.c.pk == pk)
        .values(
            rows_done=_J.c.rows_done + rows,
            imported=_J.c.imported + imported,
            skipped=_J.c.skipped + skipped,
            failed=_J.c.failed + failed,
        )
    )


def release_lease(conn: Connection, pk: int, owner: str) -> None:
    conn.execute(
        sa.update(_J)
        .where(_J.c.pk == pk, _J.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=0)
    )


# ---------------------------------------------------------------------------- users, in bulk


def taken_usernames(conn: Connection, pool_pk: int, keys: list[str]) -> set[str]:
    """Which of these username keys the pool's users hold."""
    if not keys:
        return set()
    rows = conn.execute(
        sa.select(users.c.username_key).where(
            users.c.pool_pk == pool_pk, users.c.username_key.in_(keys)
        )
    )
    return {r.username_key for r in rows}


def held_identifiers(
    conn: Connection, pool_pk: int, wanted: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (kind, value hash) sign-in identifiers the pool's users hold."""
    if not wanted:
        return set()
    hashes = sorted({value_hash for _, value_hash in wanted})
    rows = conn.execute(
        sa.select(user_identifiers.c.kind, user_identifiers.c.value_hash).where(
            user_identifiers.c.pool_pk == pool_pk, user_identifiers.c.value_hash.in_(hashes)
        )
    )
    return {(r.kind, r.value_hash) for r in rows}


def insert_users(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert users (`users` columns but pk) in one statement; their pks by sub."""
    if not rows:
        return {}
    for pool_pk in {row["pool_pk"] for row in rows}:
        keys = [row["username_key"] for row in rows if row["pool_pk"] == pool_pk]
        pitr.capture_new_users(conn, pool_pk, keys)
    result = conn.execute(sa.insert(users).returning(users.c.pk, users.c.sub), rows)
    return {r.sub: int(r.pk) for r in result}


def insert_attributes(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(user_attributes), rows)


def insert_identifiers(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(user_identifiers), rows)
