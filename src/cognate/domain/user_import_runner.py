"""The user import runner: a background thread in every server process that runs started
CSV user import jobs.

A process leases a job (Pending, InProgress or Stopping, with no live lease) in the
database, so each job runs in one process at a time. It streams the CSV out of the
database chunk by chunk through the csv module and imports it in batches of `BATCH` rows,
one transaction each: the users, the job's counters and `rows_done` commit together, and
the lease is renewed (and Stopping noticed) in the same transaction. Memory holds one
chunk and one batch, whatever the file's size. A process that dies loses its lease after
`LEASE_MS`; the next process to lease the job resumes after the last committed batch (a
process shutting down releases its lease at once).

Per-row results go where Cognito's CloudWatch Logs would put them: a JSON-lines file per
job, `<data dir>/user-import-logs/<pool id>/<job id>.jsonl`, each line naming the log
group (`/aws/cognito/userpools/<pool id>/<pool name>`) and stream (`<job id>/<job name>`)
Cognito would use, the level (ERROR for a failed row, SKIPPED, INFO for the summary), the
CSV line number, the username and the message. The file is on the host of the process
that ran the job.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from cognate.domain.clock import Clock
from cognate.domain.polling_thread import PollingThread
from cognate.domain.user_import_rows import (
    FAILED,
    IMPORTED,
    MAX_ROWS,
    SKIPPED,
    Outcome,
    RowChecker,
    check_header,
    import_rows,
)
from cognate.domain.user_imports import CHUNK_BYTES, EXPIRE_AFTER_MS, EXPIRED_MESSAGE
from cognate.domain.user_store import scope_of
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import user_imports as jobs_repo
from cognate.storage.repos.user_imports import ImportJobRow

log = logging.getLogger(__name__)

BATCH = 500
LEASE_MS = 60_000
SWEEP_MS = 60_000
SUCCEEDED_MESSAGE = "Import Job Completed Successfully."
TOO_MANY_FAILED = "Too many users have failed or been skipped during the import."
STOPPED_MESSAGE = "The user import job was stopped."


class _LeaseLost(Exception):
    """Another process took the job over (or it was deleted with its pool)."""


class _Stop(Exception):
    """The job is to stop (StopUserImportJob) or this process is shutting down."""


class ChunkReader(io.RawIOBase):
    """The uploaded file, read from the database one chunk at a time."""

    def __init__(self, db: Database, job_pk: int, chunks: int) -> None:
        self._db = db
        self._job_pk = job_pk
        self._chunks = chunks
        self._seq = 0
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _chunk(self, conn: Connection) -> bytes | None:
        return jobs_repo.chunk(conn, self._job_pk, self._seq)

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            if self._seq >= self._chunks:
                return 0
            data = self._db.read("user_import_chunk", self._chunk)
            self._seq += 1
            self._buffer = memoryview(data or b"")
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class ImportLog:
    """The job's log: JSON lines appended to a file under the data directory."""

    def __init__(self, path: Path, group: str, stream: str) -> None:
        self.path = path
        self._group = group
        self._stream = stream

    def write(self, now: int, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for entry in entries:
                record = {"timestamp": now, "logGroup": self._group, "logStream": self._stream}
                record.update(entry)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def log_path(data_dir: Path, pool_id: str, job_id: str) -> Path:
    return data_dir / "user-import-logs" / pool_id / f"{job_id}.jsonl"


class UserImportRunner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        data_dir: Path,
        *,
        wake: threading.Event | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._data_dir = data_dir
        self._thread = PollingThread(
            "cognate-import",
            self.run_once,
            wake=wake,
            poll_seconds=poll_seconds,
            failure="user import: round failed; retrying shortly",
        )
        self._owner = uuid.uuid4().hex
        self._next_sweep = 0

    def wake(self) -> None:
        self._thread.wake()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._thread.stop(timeout)

    def run_once(self) -> bool:
        """Expire old jobs now and then; lease one job and run it. Whether one ran."""
        now = self._clock.now_ms()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_MS
            self._db.write(
                "user_import_expire",
                lambda c: jobs_repo.expire_created(c, now - EXPIRE_AFTER_MS, now, EXPIRED_MESSAGE),
            )

        def claim(conn: Connection) -> ImportJobRow | None:
            return jobs_repo.claim_runnable(conn, self._owner, now, LEASE_MS)

        job = self._db.write("user_import_claim", claim)
        if job is None:
            return False
        try:
            self._run_job(job)
        except _LeaseLost:
            log.info("user import: job %s was taken over or deleted", job.job_id)
        except Exception:
            log.exception("user import: job %s failed unexpectedly", job.job_id)
            self._finish(job, "Failed", "The import job failed with an internal error.")
        finally:
            self._db.write(
                "user_import_release", lambda c: jobs_repo.release_lease(c, job.pk, self._owner)
            )
        return True

    # ------------------------------------------------------------------ one job

    def _run_job(self, job: ImportJobRow) -> None:
        pool = self._db.read("user_import_pool", lambda c: pools_repo.by_pk(c, job.pool_pk))
        if pool is None:
            raise _LeaseLost
        journal = ImportLog(
            log_path(self._data_dir, pool.id, job.job_id),
            f"/aws/cognito/userpools/{pool.id}/{pool.name}",
            f"{job.job_id}/{job.name}",
        )
        if job.status == "Stopping":
            self._finish(job, "Stopped", STOPPED_MESSAGE, journal)
            return
        if job.status == "Pending":
            self._db.write(
                "user_import_in_progress",
                lambda c: jobs_repo.set_status(c, job.pk, ("Pending",), "InProgress"),
            )
        if job.upload != "done":
            message = "The CSV file of the import job was not uploaded."
            self._finish(job, "Failed", message, journal)
            return
        raw = ChunkReader(self._db, job.pk, job.upload_chunks)
        text = io.TextIOWrapper(
            io.BufferedReader(raw, CHUNK_BYTES), encoding="utf-8-sig", newline=""
        )
        reader = csv.reader(text, escapechar="\\")
        try:
            header = next(reader)
        except StopIteration:
            self._finish(job, "Failed", "The CSV file is empty.", journal)
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            self._finish(job, "Failed", f"The CSV file could not be read: {exc}", journal)
            return
        scope = scope_of(pool)
        problem = check_header(scope, header)
        if problem is not None:
            self._finish(job, "Failed", "The CSV header is not the user pool's.", journal, problem)
            return
        checker = RowChecker(scope, header)
        try:
            self._import(job, reader, checker, journal)
        except _Stop:
            if self._thread.stopping:
                return  # shutting down: the lease is released, the job resumes elsewhere
            self._finish(job, "Stopped", STOPPED_MESSAGE, journal)
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            message = f"The CSV file could not be read at line {reader.line_num}: {exc}"
            self._finish(job, "Failed", "The CSV file could not be read.", journal, message)
            return
        self._complete(job, journal)

    def _import(
        self, job: ImportJobRow, reader: Any, checker: RowChecker, journal: ImportLog
    ) -> None:
        records = iter(reader)
        for _ in range(job.rows_done):  # committed by an earlier run
            if next(records, None) is None:
                return
        seen = job.rows_done
        while True:
            if self._thread.stopping:
                raise _Stop
            batch = list(_take(records, reader, BATCH))
            if not batch:
                return
            first = seen
            seen += len(batch)
            self._batch(job, checker, journal, batch, first)

    def _batch(
        self,
        job: ImportJobRow,
        checker: RowChecker,
        journal: ImportLog,
        batch: list[tuple[int, list[str]]],
        first: int,
    ) -> None:
        rows = [(line, fields) for line, fields in batch if fields]  # blank lines: nothing
        allowed = max(0, MAX_ROWS - first)
        over = [
            Outcome(line, checker.username_of(fields), FAILED, "More than 500,000 users.")
            for line, fields in rows[allowed:]
        ]
        rows = rows[:allowed]

        def batch_txn(conn: Connection) -> list[Outcome] | None:
            now = self._clock.now_ms()
            status = jobs_repo.renew_lease(conn, job.pk, self._owner, now + LEASE_MS)
            if status is None:
                raise _LeaseLost
            if status == "Stopping":
                return None
            outcomes = import_rows(conn, checker, rows, now) + over
            jobs_repo.add_progress(
                conn,
                job.pk,
                rows=len(batch),
                imported=sum(o.result == IMPORTED for o in outcomes),
                skipped=sum(o.result == SKIPPED for o in outcomes),
                failed=sum(o.result == FAILED for o in outcomes),
            )
            return outcomes

        outcomes = self._db.write("user_import_batch", batch_txn, conflicts=3)
        if outcomes is None:
            raise _Stop
        journal.write(
            self._clock.now_ms(),
            [
                {
                    "level": "ERROR" if o.result == FAILED else "SKIPPED",
                    "line": o.line,
                    "username": o.username,
                    "message": o.message,
                }
                for o in outcomes
                if o.result != IMPORTED
            ],
        )

    def _complete(self, job: ImportJobRow, journal: ImportLog) -> None:
        done = self._db.read("user_import_counts", lambda c: jobs_repo.by_pk(c, job.pk))
        if done is None:
            raise _LeaseLost
        if done.imported == 0 and (done.failed or done.skipped):
            self._finish(job, "Failed", TOO_MANY_FAILED, journal)
        else:
            self._finish(job, "Succeeded", SUCCEEDED_MESSAGE, journal)

    def _finish(
        self,
        job: ImportJobRow,
        status: str,
        message: str,
        journal: ImportLog | None = None,
        detail: str | None = None,
    ) -> None:
        now = self._clock.now_ms()
        # The log first: whoever sees the job end finds its log complete.
        counts = self._db.read("user_import_counts", lambda c: jobs_repo.by_pk(c, job.pk))
        if journal is not None and counts is not None:
            entries: list[dict[str, Any]] = []
            if detail:
                entries.append({"level": "ERROR", "message": detail})
            entries.append(
                {
                    "level": "INFO",
                    "message": f"{status}: {message}",
                    "importedUsers": counts.imported,
                    "skippedUsers": counts.skipped,
                    "failedUsers": counts.failed,
                }
            )
            journal.write(now, entries)

        def finish_txn(conn: Connection) -> None:
            if jobs_repo.renew_lease(conn, job.pk, self._owner, now) is None:
                raise _LeaseLost
            jobs_repo.set_status(
                conn,
                job.pk,
                jobs_repo.RUNNABLE,
                status,
                completed_at=now,
                completion_message=message,
            )
            jobs_repo.delete_chunks(conn, job.pk)

        self._db.write("user_import_finish", finish_txn)


def _take(records: Iterator[list[str]], reader: Any, count: int) -> Iterator[tuple[int, list[str]]]:
    """Up to `count` records, each with the line it ended on."""
    for _ in range(count):
        fields = next(records, None)
        if fields is None:
            return
        yield reader.line_num, fields
