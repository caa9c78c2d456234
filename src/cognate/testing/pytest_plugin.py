"""The `cognate` pytest plugin: a real Cognate server for testing apps that use Cognito.

Installed with the package (entry point `pytest11: cognate`; `-p no:cognate` turns it
off). Fixtures:

* `cognate_server` (session scope): one server per test session (per xdist worker), on
  a free port of 127.0.0.1 with a fresh SQLite database in a temporary directory, the
  developer outbox and the test controls on. A `python -m cognate serve` subprocess by
  default; in this process (uvicorn in a thread) with `--cognate-in-process` or the ini
  option `cognate_in_process = true`. More `cognate serve` settings, one `NAME=VALUE` a
  line, in the ini option `cognate_settings` (e.g. `issuer=aws`).
* `cognate` (function scope): a `CognateHandle` (cognate/testing/harness.py) for the
  test: `client` (boto3, in a region of the test's own, so that what one test creates is
  invisible to the next), `endpoint_url`, `region`, `client_kwargs`, `create_pool`,
  `create_client`, `create_user`, `last_code`, `messages`, `clock.advance`, `fault`.
  After the test, every fault is cleared and the clock is back to real time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cognate.testing.harness import CognateHandle, TestServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cognate", "Cognate (Cognito user pools test server)")
    group.addoption(
        "--cognate-in-process",
        action="store_true",
        default=None,
        help="run the cognate fixture's server in the test process (uvicorn in a thread)",
    )
    parser.addini(
        "cognate_in_process",
        type="bool",
        default=False,
        help="run the cognate fixture's server in the test process (default: subprocess)",
    )
    parser.addini(
        "cognate_settings",
        type="linelist",
        default=[],
        help="cognate serve settings for the fixture's server, NAME=VALUE a line",
    )


def _settings(config: pytest.Config) -> dict[str, str]:
    settings = {}
    for line in config.getini("cognate_settings"):
        name, sep, value = str(line).partition("=")
        if not sep or not name.strip():
            raise pytest.UsageError(f"cognate_settings: {line!r} is not NAME=VALUE")
        settings[name.strip().replace("-", "_")] = value.strip()
    return settings


@pytest.fixture(scope="session")
def cognate_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestServer]:
    """A Cognate server for the session (started on first use)."""
    config = request.config
    in_process = config.getoption("cognate_in_process")
    if in_process is None:
        in_process = bool(config.getini("cognate_in_process"))
    server = TestServer(
        tmp_path_factory.mktemp("cognate"), in_process=in_process, settings=_settings(config)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cognate(cognate_server: TestServer) -> Iterator[CognateHandle]:
    """The test's handle on the session's Cognate server (a region of its own; faults and
    the clock are reset afterwards)."""
    handle = CognateHandle(cognate_server)
    try:
        yield handle
    finally:
        handle.reset()
