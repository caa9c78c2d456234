"""The pre-signed upload URL of CSV user import jobs: `PUT /_cognate/imports/<JobId>`.

It stands in for the S3 pre-signed URL Cognito returns: the client PUTs the CSV as the
body (`curl --upload-file users.csv URL`, `requests.put(URL, data=...)`), any
Content-Type. The query's `expires` and `signature` must be the ones CreateUserImportJob
signed (domain/user_imports.py). The body streams into the database in 1 MiB chunks,
never whole in memory; at most 100 MB. Refusals answer as S3 does: an XML `<Error>` with
its Code and Message (403 for a forged or expired URL, or a second upload).
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.domain.user_imports import (
    CHUNK_BYTES,
    MAX_UPLOAD_BYTES,
    UPLOAD_PATH,
    UploadRefused,
    UserImportService,
)


def _too_large() -> UploadRefused:
    return UploadRefused(400, "EntityTooLarge", "The CSV file is larger than 100 MB.")


def _error(refused: UploadRefused) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(refused.code)}</Code>"
        f"<Message>{escape(refused.message)}</Message></Error>"
    )
    return Response(body, status_code=refused.status, media_type="application/xml")


class UploadRoutes:
    def __init__(self, imports: UserImportService) -> None:
        self._imports = imports

    def routes(self) -> list[Route]:
        return [Route(UPLOAD_PATH + "{job_id}", self.upload, methods=["PUT"])]

    async def upload(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        query = request.query_params
        try:
            ticket = await run_in_threadpool(
                self._imports.begin_upload,
                job_id,
                query.get("expires", ""),
                query.get("signature", ""),
            )
        except UploadRefused as refused:
            return _error(refused)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
            # Refused before a byte of it is read, as S3 refuses a declared size over its limit.
            await run_in_threadpool(self._imports.abandon_upload, ticket)
            return _error(_too_large())
        digest = hashlib.md5(usedforsecurity=False)
        size = seq = 0
        pending = bytearray()
        try:
            async for piece in request.stream():
                size += len(piece)
                if size > MAX_UPLOAD_BYTES:
                    raise _too_large()
                digest.update(piece)
                pending += piece
                while len(pending) >= CHUNK_BYTES:
                    chunk = bytes(pending[:CHUNK_BYTES])
                    del pending[:CHUNK_BYTES]
                    await run_in_threadpool(self._imports.put_chunk, ticket, seq, chunk)
                    seq += 1
            if pending:
                await run_in_threadpool(self._imports.put_chunk, ticket, seq, bytes(pending))
                seq += 1
            await run_in_threadpool(self._imports.finish_upload, ticket, size, seq)
        except UploadRefused as refused:
            await run_in_threadpool(self._imports.abandon_upload, ticket)
            return _error(refused)
        except ClientDisconnect:
            await run_in_threadpool(self._imports.abandon_upload, ticket)
            return Response(status_code=400)
        except Exception:
            await run_in_threadpool(self._imports.abandon_upload, ticket)
            raise
        return Response(status_code=200, headers={"ETag": f'"{digest.hexdigest()}"'})
