"""Test controls' shared state and the server clock they move (the `test_controls` setting).

With test controls on, the domain's clock is a `ControlClock`: real time plus an offset
kept in the database (`test_clock`), so that every process and every server on one
database runs on the same moved clock. Tokens, codes, temporary passwords, sessions and
every other expiry follow it, since they all read the injected Clock.

Each process caches the offset, and the set of operations with an armed fault
(domain/faults.py), in a `ControlState` that reads both again from the database at most
every `REFRESH_S` (two tiny SELECTs on a pooled connection, measured at 0.13 ms on
SQLite and 1 ms on PostgreSQL on a loaded machine: at most ten refreshes a second per
process, whatever the request rate; a cached read adds well under a microsecond). A
process that makes a change applies it to its own cache at once; the control API and CLI
wait `PROPAGATION_S` before answering, so that when they answer, every process's next
look at the clock sees the change. When test controls are off, the plain SystemClock is
used and nothing here runs.

The offset only moves the server's time. Clients that verify JWTs with their own clock
see tokens issued "in the future" (`iat`, `auth_time`) once the clock has moved forward,
and tokens that are expired on the server may still be valid to them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from cognate.api.exceptions import InvalidParameterException
from cognate.domain.clock import Clock, SystemClock
from cognate.storage.db import Database
from cognate.storage.repos import controls as repo

log = logging.getLogger(__name__)

REFRESH_S = 0.1
"""How stale a process's view of the shared controls may be."""
PROPAGATION_S = 0.15
"""How long a change takes to reach every process (REFRESH_S and a margin)."""
MAX_ADVANCE_S = 10 * 366 * 86_400
"""The furthest one advance moves the clock (ten years)."""


class ControlState:
    """This process's cached copy of the controls shared through the database."""

    def __init__(
        self,
        db: Database,
        *,
        refresh_s: float = REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._offset_ms = 0
        self._armed: frozenset[str] = frozenset()
        self._deadline = 0.0
        self.refresh()  # the first read is not optional: a restarted server keeps the offset

    def offset_ms(self) -> int:
        self._refresh_if_due()
        return self._offset_ms

    def armed(self, operation: str) -> bool:
        """Whether `operation` may have a fault armed (the database has the last word)."""
        self._refresh_if_due()
        return operation in self._armed

    def note_offset(self, offset_ms: int) -> None:
        self._offset_ms = offset_ms

    def note_armed(self, operation: str, armed: bool) -> None:
        with self._lock:
            self._armed = self._armed | {operation} if armed else self._armed - {operation}

    def note_cleared(self) -> None:
        with self._lock:
            self._armed = frozenset()

    def _refresh_if_due(self) -> None:
        if self._monotonic() < self._deadline:
            return
        if not self._lock.acquire(blocking=False):
            return  # another thread is reading: use the values it is replacing
        try:
            if self._monotonic() >= self._deadline:
                self._read()
        finally:
            self._lock.release()

    def refresh(self) -> None:
        with self._lock:
            self._read()

    def _read(self) -> None:
        started = self._monotonic()
        try:
            offsets = self._db.fetch(repo.OFFSET, {})
            armed = self._db.fetch(repo.ARMED_OPERATIONS, {})
        except SQLAlchemyError as exc:  # keep the last values; try again next interval
            log.warning("could not read the test controls: %s", exc)
        else:
            self._offset_ms = int(offsets[0].offset_ms) if offsets else 0
            self._armed = frozenset(r.operation for r in armed)
        # From when the read started: a change committed after it is seen next time.
        self._deadline = started + self._refresh_s


class ControlClock:
    """The domain's Clock with test controls on: real time plus the shared offset."""

    def __init__(self, state: ControlState, base: Clock | None = None) -> None:
        self._state = state
        self._base = base or SystemClock()

    def now_ms(self) -> int:
        return self._base.now_ms() + self._state.offset_ms()


class ClockControl:
    """Moving the shared clock: what the control API and `cognate clock` do."""

    def __init__(self, db: Database, state: ControlState, real: Clock | None = None) -> None:
        self._db = db
        self._state = state
        self._real = real or SystemClock()

    def offset_ms(self) -> int:
        return self._db.read("test_clock", repo.offset)

    def advance(self, seconds: float) -> int:
        """Move the clock forward by `seconds`; the new offset in milliseconds."""
        if not 0 < seconds <= MAX_ADVANCE_S:
            raise InvalidParameterException(
                f"seconds must be a number greater than 0 and at most {MAX_ADVANCE_S}"
            )
        delta = round(seconds * 1000)
        now = self._real.now_ms()
        offset = self._db.write(
            "advance_clock", lambda c: repo.add_offset(c, delta, now), conflicts=1
        )
        self._state.note_offset(offset)
        return offset

    def reset(self) -> None:
        """Back to real time (which moves the clock backwards, if it was advanced)."""
        self._db.write("reset_clock", repo.reset_offset)
        self._state.note_offset(0)

    def view(self) -> dict[str, float]:
        offset = self.offset_ms()
        return {"offset_seconds": offset / 1000, "now": (self._real.now_ms() + offset) / 1000}
