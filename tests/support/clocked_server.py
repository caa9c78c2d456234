"""A `cognate serve` whose clock a test can move (tests/support/clock.py), on either backend.

Test modules that need codes to expire use it as their `server` fixture, so that every
test in the module can also move time forward without a server of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.support.clock import ShiftedClock
from tests.support.server import CognateServer, postgres_database, start_server


@contextlib.contextmanager
def clocked_server(backend: str, workdir: Path) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    clock = ShiftedClock(workdir)
    if backend == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", env=clock.env()) as srv:
            yield srv, clock
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with (
        postgres_database(POSTGRES_URL) as url,
        start_server(workdir, db=url, env=clock.env()) as srv,
    ):
        yield srv, clock
