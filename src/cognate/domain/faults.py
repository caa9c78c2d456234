"""Faults injected into API operations by the test controls, so that an application's
retry and error paths can be tested against a real server.

A fault names one operation and, for its next `times` calls (or every call until
cleared), waits `latency_ms` and/or answers `error`: TooManyRequestsException (which any
operation may answer), or any error the operation's model declares
(LimitExceededException, InternalErrorException, CodeDeliveryFailureException, ...),
with Cognito's message where known or the one given.

Faults live in the database (`test_faults`), so they hold across worker processes and
servers: each call of an operation with a fault armed counts itself against the fault in
one write transaction (the row locked), so `times: 2` strikes exactly two calls however
many processes serve them. The API endpoint asks `armed()` first, which is a set lookup in
the process's ControlState (domain/controls.py): requests for other operations, and every
request when no fault is set, never touch the database. Faults strike after the request
is parsed and validated (an invalid request is answered as usual) and before the handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cognate.api import exceptions
from cognate.api.errors import ServiceError
from cognate.api.exceptions import InvalidParameterException
from cognate.domain.clock import Clock, SystemClock, ms_to_seconds
from cognate.domain.controls import ControlState
from cognate.storage.db import Database
from cognate.storage.repos import controls as repo
from cognate.storage.repos.controls import FaultRow

ALWAYS_ALLOWED = frozenset({"TooManyRequestsException"})
"""Errors any operation may answer (the endpoint's protocol errors)."""
MAX_LATENCY_MS = 60_000
MAX_TIMES = 1_000_000
DEFAULT_MESSAGES = {
    "TooManyRequestsException": "Too many requests",
    "LimitExceededException": "Attempt limit exceeded, please try after some time.",
    "InternalErrorException": "Internal server error.",
}

DeclaredErrors = Callable[[str], frozenset[str] | None]
"""An operation's declared error names; None when there is no such operation."""


class FaultInjector:
    def __init__(
        self,
        db: Database,
        state: ControlState,
        declared_errors: DeclaredErrors,
        *,
        real: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._state = state
        self._declared = declared_errors
        self._real = real or SystemClock()
        self._sleep = sleep

    # ------------------------------------------------------------------ the request path

    def armed(self, operation: str) -> bool:
        return self._state.armed(operation)

    def strike(self, operation: str) -> None:
        """Count this call against the operation's fault: wait, then raise its error."""
        fault = self._db.write("strike_fault", lambda c: repo.strike(c, operation))
        if fault is None:  # spent or cleared meanwhile (by another process)
            self._state.note_armed(operation, False)
            return
        if fault.remaining == 1:
            self._state.note_armed(operation, False)
        if fault.latency_ms:
            self._sleep(fault.latency_ms / 1000)
        if fault.error:
            raise _error(fault.error, fault.message or _default_message(fault.error))

    # --------------------------------------------------------------- the control side

    def arm(
        self,
        operation: str,
        *,
        error: str | None = None,
        message: str | None = None,
        times: int | None = None,
        latency_ms: int = 0,
    ) -> dict[str, Any]:
        """Set `operation`'s fault (replacing the one it had); the fault's view."""
        declared = self._declared(operation) if isinstance(operation, str) else None
        if declared is None:
            raise InvalidParameterException(f"Unknown operation {operation!r}.")
        if error is not None and (
            error not in declared | ALWAYS_ALLOWED or _error_class(error) is None
        ):
            raise InvalidParameterException(
                f"{operation} does not declare {error}; it may answer "
                + ", ".join(sorted(declared | ALWAYS_ALLOWED))
            )
        if times is not None and not 0 < times <= MAX_TIMES:
            raise InvalidParameterException(
                f"times must be 1-{MAX_TIMES} (or absent: until cleared)"
            )
        if not 0 <= latency_ms <= MAX_LATENCY_MS:
            raise InvalidParameterException(f"latency_ms must be 0-{MAX_LATENCY_MS}")
        if error is None and not latency_ms:
            raise InvalidParameterException("a fault needs an error, a latency, or both")
        row = FaultRow(
            operation=operation,
            error=error,
            message=message or None,
            remaining=times,
            latency_ms=latency_ms,
            hits=0,
            created_at=self._real.now_ms(),
        )
        self._db.write("arm_fault", lambda c: repo.put_fault(c, row))
        self._state.note_armed(operation, True)
        return _view(row)

    def faults(self) -> list[dict[str, Any]]:
        return [_view(row) for row in self._db.read("faults", repo.faults)]

    def clear(self, operation: str | None = None) -> int:
        """Remove the operation's fault (every fault when None); how many were removed."""
        removed = self._db.write("clear_faults", lambda c: repo.clear(c, operation))
        if operation is None:
            self._state.note_cleared()
        else:
            self._state.note_armed(operation, False)
        return removed


def _error_class(name: str) -> type[ServiceError] | None:
    cls = getattr(exceptions, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, ServiceError) else None


def _error(name: str, message: str) -> ServiceError:
    cls = _error_class(name) or exceptions.TooManyRequestsException  # arm() checked it
    return cls(message)


def _default_message(name: str) -> str:
    return DEFAULT_MESSAGES.get(name, f"{name} (injected by Cognate's test controls)")


def _view(row: FaultRow) -> dict[str, Any]:
    return {
        "operation": row.operation,
        "error": row.error,
        "message": row.message or (_default_message(row.error) if row.error else None),
        "remaining": row.remaining,
        "latency_ms": row.latency_ms,
        "hits": row.hits,
        "created_at": ms_to_seconds(row.created_at),
    }
