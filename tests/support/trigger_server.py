"""A `cognate serve` wired to trigger functions the tests control, on either backend.

`trigger_server(backend, workdir, host)` starts Cognate with `--triggers` mapping
`http_*` functions to the test's FunctionHost over HTTP, `lambda_*` to it through the
Lambda Invoke API, and `py_*` to tests/support/python_functions.py in the server process
(whose events land in `workdir/functions.jsonl`). The trigger timeout is shortened to 1 s
so that timeouts are quick to test; the server's clock can be moved (tests/support/clock.py).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL
from tests.support.clock import ShiftedClock
from tests.support.functions import FunctionHost, trigger_rules
from tests.support.server import CognateServer, postgres_database, start_server

REPO = Path(__file__).resolve().parents[2]
TRIGGER_TIMEOUT_MS = 1000


@contextlib.contextmanager
def trigger_server(
    backend: str, workdir: Path, host: FunctionHost, timeout_ms: int = TRIGGER_TIMEOUT_MS
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    clock = ShiftedClock(workdir)
    env = {
        **clock.env(),
        # The clock's sitecustomize directory first (else the clock never moves), then
        # the repository (for the python: invoker's tests.support.python_functions).
        "PYTHONPATH": os.pathsep.join([clock.env()["PYTHONPATH"], str(REPO)]),
        "COGNATE_TEST_FUNCTION_LOG": str(workdir / "functions.jsonl"),
        "COGNATE_TRIGGERS": trigger_rules(host),
        "COGNATE_TRIGGER_TIMEOUT_MS": str(timeout_ms),
    }
    if backend == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", env=env) as srv:
            yield srv, clock
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url, env=env) as srv:
        yield srv, clock


def python_events(server: CognateServer, function: str) -> list[dict[str, Any]]:
    """The events the server's in-process function `function` received."""
    path = server.workdir / "functions.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [r["event"] for r in records if r["function"] == function]
