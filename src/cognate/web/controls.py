"""HTTP API of the test controls (domain/controls.py, domain/faults.py), mounted only
when the `test_controls` setting has them on; otherwise every path here is a 404.

    GET    /_cognate/control/clock           {"offset_seconds": 0.0, "now": <epoch s>}
    POST   /_cognate/control/clock/advance   {"seconds": 3600} -> the clock as above
    POST   /_cognate/control/clock/reset     back to real time -> the clock as above
    GET    /_cognate/control/faults          {"faults": [fault, ...]}
    POST   /_cognate/control/faults          {"operation": "InitiateAuth",
                                              "error": "TooManyRequestsException",
                                              "message": "...", "times": 2,
                                              "latency_ms": 0} -> {"fault": fault}
    DELETE /_cognate/control/faults[?operation=Op]   -> {"cleared": n}

Bad input is a 400 `{"message": ...}`. Calls that change the clock or arm a fault answer
after PROPAGATION_S, when every process sharing the database has picked the change up.
The developer outbox (codes sent to users) is the neighbouring /_cognate/outbox API.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cognate.api.errors import ServiceError
from cognate.domain.controls import PROPAGATION_S, ClockControl
from cognate.domain.faults import FaultInjector

PREFIX = "/_cognate/control"


class _BadRequest(Exception):
    pass


class ControlRoutes:
    def __init__(self, clock: ClockControl, faults: FaultInjector) -> None:
        self._clock = clock
        self._faults = faults

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIX}/clock", self.clock, methods=["GET"]),
            Route(f"{PREFIX}/clock/advance", self.advance, methods=["POST"]),
            Route(f"{PREFIX}/clock/reset", self.reset, methods=["POST"]),
            Route(f"{PREFIX}/faults", self.faults, methods=["GET"]),
            Route(f"{PREFIX}/faults", self.arm, methods=["POST"]),
            Route(f"{PREFIX}/faults", self.clear, methods=["DELETE"]),
        ]

    async def clock(self, _request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self._clock.view))

    async def advance(self, request: Request) -> Response:
        try:
            body = await _json(request)
            seconds = body.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise _BadRequest("seconds must be a number")
            await run_in_threadpool(self._clock.advance, float(seconds))
        except (_BadRequest, ServiceError) as exc:
            return _bad(exc)
        await asyncio.sleep(PROPAGATION_S)
        return JSONResponse(await run_in_threadpool(self._clock.view))

    async def reset(self, _request: Request) -> Response:
        await run_in_threadpool(self._clock.reset)
        await asyncio.sleep(PROPAGATION_S)
        return JSONResponse(await run_in_threadpool(self._clock.view))

    async def faults(self, _request: Request) -> Response:
        return JSONResponse({"faults": await run_in_threadpool(self._faults.faults)})

    async def arm(self, request: Request) -> Response:
        try:
            body = await _json(request)
            unknown = set(body) - {"operation", "error", "message", "times", "latency_ms"}
            if unknown:
                raise _BadRequest(f"unknown members: {', '.join(sorted(unknown))}")
            operation = _text(body, "operation", required=True)
            error = _text(body, "error")
            message = _text(body, "message")
            times = _integer(body, "times")
            latency_ms = _integer(body, "latency_ms") or 0
            fault = await run_in_threadpool(
                lambda: self._faults.arm(
                    operation or "",
                    error=error,
                    message=message,
                    times=times,
                    latency_ms=latency_ms,
                )
            )
        except (_BadRequest, ServiceError) as exc:
            return _bad(exc)
        await asyncio.sleep(PROPAGATION_S)
        return JSONResponse({"fault": fault})

    async def clear(self, request: Request) -> Response:
        operation = request.query_params.get("operation") or None
        cleared = await run_in_threadpool(self._faults.clear, operation)
        return JSONResponse({"cleared": cleared})


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise _BadRequest("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise _BadRequest(f"{name} must be a non-empty string")
    return value


def _integer(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest(f"{name} must be an integer")
    return value


def _bad(exc: Exception) -> Response:
    message = exc.message if isinstance(exc, ServiceError) else str(exc)
    return JSONResponse({"message": message}, 400)
