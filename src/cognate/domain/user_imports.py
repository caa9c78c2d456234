"""CSV user import jobs: GetCSVHeader, Create/Describe/List/Start/StopUserImportJob, and the
upload at the job's pre-signed URL.

A job goes Created -> (StartUserImportJob) Pending -> InProgress -> Succeeded or Failed;
StopUserImportJob moves a Pending or InProgress job to Stopping, and the process running it
to Stopped; a job not started within 24 hours is Expired. The work itself is done by
`user_import_runner.py` in whichever process leases the job.

The PreSignedUrl is served by Cognate itself (`/_cognate/imports/<JobId>`), signed with an
HMAC under a key derived from the master key over the job id and its expiry, and good for
15 minutes (as Cognito's): one PUT of the CSV (`curl --upload-file`, `requests.put`),
while the job is Created and nothing was uploaded yet. The body streams into the database
in 1 MiB chunks, so every process can run the job and no process holds the file.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    PreconditionNotMetException,
    ResourceNotFoundException,
)
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.point_in_time import refuse_while_recovering
from cognate.domain.pools import Page, require_pool
from cognate.domain.user_import_rows import csv_header
from cognate.domain.user_store import load_scope
from cognate.domain.usernames import VERIFIED_FLAG
from cognate.storage.db import Database
from cognate.storage.repos import user_imports as jobs_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.user_imports import ImportJobRow

URL_VALID_SECONDS = 15 * 60
EXPIRE_AFTER_MS = 24 * 3_600_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
EXPIRED_MESSAGE = "The user import job has expired."
UPLOAD_PATH = "/_cognate/imports/"


class UploadRefused(Exception):
    """The pre-signed URL does not allow this upload (S3's error code and message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class UploadTicket:
    job_pk: int
    started_at: int


def view(pool: PoolRow, job: ImportJobRow, url: str | None = None) -> dict[str, Any]:
    """UserImportJobType."""
    out: dict[str, Any] = {
        "JobName": job.name,
        "JobId": job.job_id,
        "UserPoolId": pool.id,
        "CreationDate": ms_to_seconds(job.created_at),
        "Status": job.status,
        "CloudWatchLogsRoleArn": job.role_arn,
        "ImportedUsers": job.imported,
        "SkippedUsers": job.skipped,
        "FailedUsers": job.failed,
    }
    if url is not None:
        out["PreSignedUrl"] = url
    if job.started_at is not None:
        out["StartDate"] = ms_to_seconds(job.started_at)
    if job.completed_at is not None:
        out["CompletionDate"] = ms_to_seconds(job.completed_at)
    if job.completion_message:
        out["CompletionMessage"] = job.completion_message
    if job.hashing_algorithm:
        out["PasswordHashingAlgorithm"] = job.hashing_algorithm
    return out


class ImportUrls:
    """Signs and checks the pre-signed upload URLs."""

    def __init__(self, key: bytes, base_url: str, wall: Callable[[], float] = time.time) -> None:
        self._key = key
        self._base = base_url.rstrip("/")
        self._wall = wall

    def _signature(self, job_id: str, expires: int) -> str:
        body = f"user-import\n{job_id}\n{expires}".encode()
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def url(self, job_id: str, now_ms: int) -> str:
        expires = now_ms // 1000 + URL_VALID_SECONDS
        query = urlencode({"expires": expires, "signature": self._signature(job_id, expires)})
        return f"{self._base}{UPLOAD_PATH}{job_id}?{query}"

    def check(self, job_id: str, expires: str, signature: str, now_ms: int) -> None:
        if not expires.isdigit() or not hmac.compare_digest(
            signature.encode(), self._signature(job_id, int(expires)).encode()
        ):
            raise UploadRefused(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if int(expires) * 1000 < now_ms:
            raise UploadRefused(403, "AccessDenied", "Request has expired")


class UserImportService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: PageTokens,
        urls: ImportUrls,
    ) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._urls = urls
        self.bell = threading.Event()
        """Set when a job starts or stops: this process's runner looks at once."""

    def csv_header(self, region: str, pool_id: str) -> dict[str, Any]:
        scope = self._db.read("get_csv_header", lambda c: load_scope(c, region, pool_id))
        return {"UserPoolId": scope.pool.id, "CSVHeader": csv_header(scope)}

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        job_id = "import-" + uuid.uuid4().hex[:10]

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            now = self._clock.now_ms()
            refuse_while_recovering(conn, pool.pk, now)
            pk = jobs_repo.insert(
                conn,
                pool_pk=pool.pk,
                job_id=job_id,
                name=request["JobName"],
                role_arn=request["CloudWatchLogsRoleArn"],
                hashing_algorithm=request.get("PasswordHashingAlgorithm"),
                status="Created",
                upload="none",
                upload_bytes=0,
                upload_chunks=0,
                rows_done=0,
                imported=0,
                skipped=0,
                failed=0,
                lease_until=0,
                created_at=now,
            )
            job = jobs_repo.by_pk(conn, pk)
            assert job is not None
            return view(pool, job, self._urls.url(job_id, now))

        return self._db.write("create_user_import_job", create_txn)

    def _job(self, conn: Connection, region: str, pool_id: str, job_id: str) -> ImportJobRow:
        pool = require_pool(conn, region, pool_id)
        job = jobs_repo.by_job_id(conn, pool.pk, job_id)
        if job is None:
            raise ResourceNotFoundException(f"Import job {job_id} does not exist.")
        return self._expired(conn, job)

    def _expired(self, conn: Connection, job: ImportJobRow) -> ImportJobRow:
        """The job, Expired if it waited too long to start (noticed when it is read)."""
        now = self._clock.now_ms()
        if job.status != "Created" or job.created_at + EXPIRE_AFTER_MS > now:
            return job
        if jobs_repo.set_status(
            conn,
            job.pk,
            ("Created",),
            "Expired",
            completed_at=now,
            completion_message=EXPIRED_MESSAGE,
        ):
            jobs_repo.delete_chunks(conn, job.pk)
        fresh = jobs_repo.by_pk(conn, job.pk)
        assert fresh is not None
        return fresh

    def describe(self, region: str, pool_id: str, job_id: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            job = self._job(conn, region, pool_id, job_id)
            return view(require_pool(conn, region, pool_id), job)

        return self._db.write("describe_user_import_job", describe_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"user-import-jobs/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = jobs_repo.page(conn, pool.pk, after, limit + 1)
            more = len(rows) > limit
            rows = [self._expired(conn, job) for job in rows[:limit]]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page([view(pool, job) for job in rows], next_token)

        return self._db.write("list_user_import_jobs", list_txn)

    def start(self, region: str, pool_id: str, job_id: str) -> dict[str, Any]:
        def start_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            job = self._job(conn, region, pool_id, job_id)
            if job.status != "Created":
                raise InvalidParameterException(
                    f"Import job {job_id} cannot be started: its status is {job.status}."
                )
            auto = [
                a for a in pool.settings.get("AutoVerifiedAttributes") or [] if a in VERIFIED_FLAG
            ]
            if not auto:
                raise PreconditionNotMetException(
                    "The user pool has no auto-verified attributes (email or phone_number): "
                    "imported users could not reset their passwords."
                )
            now = self._clock.now_ms()
            refuse_while_recovering(conn, pool.pk, now)
            jobs_repo.set_status(conn, job.pk, ("Created",), "Pending", started_at=now)
            started = jobs_repo.by_pk(conn, job.pk)
            assert started is not None
            return view(pool, started)

        result = self._db.write("start_user_import_job", start_txn)
        self.bell.set()
        return result

    def stop(self, region: str, pool_id: str, job_id: str) -> dict[str, Any]:
        def stop_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            job = self._job(conn, region, pool_id, job_id)
            if not jobs_repo.set_status(conn, job.pk, ("Pending", "InProgress"), "Stopping"):
                raise InvalidParameterException(
                    f"Import job {job_id} cannot be stopped: its status is {job.status}."
                )
            stopping = jobs_repo.by_pk(conn, job.pk)
            assert stopping is not None
            return view(pool, stopping)

        result = self._db.write("stop_user_import_job", stop_txn)
        self.bell.set()  # the running process notices at its next batch
        return result

    # ------------------------------------------------------------------ upload

    def begin_upload(self, job_id: str, expires: str, signature: str) -> UploadTicket:
        now = self._clock.now_ms()
        self._urls.check(job_id, expires, signature, now)

        def begin_txn(conn: Connection) -> UploadTicket:
            job = jobs_repo.by_id(conn, job_id)
            if job is None:
                raise UploadRefused(404, "NoSuchKey", "The specified key does not exist.")
            if not jobs_repo.claim_upload(conn, job.pk, now, now - URL_VALID_SECONDS * 1000):
                raise UploadRefused(
                    403,
                    "AccessDenied",
                    "The CSV file of this import job was already uploaded, or the job has started.",
                )
            return UploadTicket(job.pk, now)

        return self._db.write("user_import_upload_begin", begin_txn)

    def put_chunk(self, ticket: UploadTicket, seq: int, data: bytes) -> None:
        self._db.write(
            "user_import_upload_chunk",
            lambda c: jobs_repo.put_chunk(c, ticket.job_pk, seq, data),
        )

    def finish_upload(self, ticket: UploadTicket, size: int, chunks: int) -> None:
        def finish_txn(conn: Connection) -> bool:
            return jobs_repo.finish_upload(conn, ticket.job_pk, ticket.started_at, size, chunks)

        if not self._db.write("user_import_upload_finish", finish_txn):
            raise UploadRefused(409, "OperationAborted", "The upload was taken over; retry.")

    def abandon_upload(self, ticket: UploadTicket) -> None:
        self._db.write(
            "user_import_upload_abandon",
            lambda c: jobs_repo.abandon_upload(c, ticket.job_pk, ticket.started_at),
        )
