"""HTTP access to the developer outbox (see domain/dev_outbox.py).

`GET /_cognate/outbox?pool_id=&username=&after=&limit=` answers `{"messages": [...]}`;
`GET /_cognate/outbox/last-code?pool_id=&username=` answers `{"code": "123456"}` (404 when
there is none). Both are 404 when the outbox API is off (SMTP configured,
`--auth secure`, or `--dev-outbox off`).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cognate.domain.dev_outbox import DevOutbox


class DevOutboxRoutes:
    def __init__(self, outbox: DevOutbox) -> None:
        self._outbox = outbox

    def routes(self) -> list[Route]:
        return [
            Route("/_cognate/outbox", self.messages, methods=["GET"]),
            Route("/_cognate/outbox/last-code", self.last_code, methods=["GET"]),
        ]

    async def messages(self, request: Request) -> Response:
        query = request.query_params
        try:
            after = int(query.get("after", "0"))
            limit = int(query.get("limit", "50"))
        except ValueError:
            return JSONResponse({"message": "after and limit must be integers"}, 400)
        found = await run_in_threadpool(
            lambda: self._outbox.messages(
                pool_id=query.get("pool_id"),
                username=query.get("username"),
                after=after,
                limit=limit,
            )
        )
        return JSONResponse({"messages": found})

    async def last_code(self, request: Request) -> Response:
        query = request.query_params
        code = await run_in_threadpool(
            lambda: self._outbox.last_code(
                pool_id=query.get("pool_id"), username=query.get("username")
            )
        )
        if code is None:
            return JSONResponse({"message": "no message with a code"}, 404)
        return JSONResponse({"code": code})
