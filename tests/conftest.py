"""Fixtures: a real `cognate serve` per database backend, and clients pointed at it.

Every protocol and end-to-end test runs against a live server process started exactly as
a user starts it (`python -m cognate serve`), on a free port with a fresh database:
SQLite always, PostgreSQL too when COGNATE_TEST_POSTGRES_URL is set (`.ci/run` sets it).
Each test gets its own region, so listings see only what the test created.

When a server stops, its log is checked: a traceback, an ERROR line or an undeclared
error means a request was mishandled, and fails the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support import screenshots
from tests.support.server import CognateServer, postgres_database, start_server

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def _backend_params() -> list[Any]:
    marks = pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")
    return ["sqlite", pytest.param("postgres", marks=marks)]


@pytest.fixture(scope="session", params=_backend_params())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp(f"cognate-{request.param}")
    if request.param == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/cognate.db") as srv:
            yield srv
    else:
        assert POSTGRES_URL is not None
        with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url) as srv:
            yield srv


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The browser tests' screenshots (tests/support/screenshots.py), with their paths."""
    screenshots.summary(terminalreporter)


@pytest.fixture
def region() -> str:
    """A region of the test's own, so that listings only see what the test created."""
    return f"zz-{uuid.uuid4().hex[:10]}-1"


def make_client(endpoint: str, region: str, *, validate: bool = True) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(
            parameter_validation=validate,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


@pytest.fixture
def cognito(server: CognateServer, region: str) -> Any:
    """A boto3 client as an application would use it (client-side validation on)."""
    return make_client(server.endpoint, region)


@pytest.fixture
def raw(server: CognateServer, region: str) -> Any:
    """A boto3 client with client-side validation off, to reach the server's validator."""
    return make_client(server.endpoint, region, validate=False)


@pytest.fixture
def pool(cognito: Any) -> dict[str, Any]:
    """A fresh user pool created with only a name."""
    return cognito.create_user_pool(PoolName="test-pool")["UserPool"]
