"""Helpers for the message delivery tests: servers on either backend, the developer
outbox over HTTP, and waiting for the sender thread."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from tests.support.server import CognateServer, free_port, postgres_database

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")
PASSWORD = "Passw0rd!"
CODE_MESSAGE = re.compile(r"Your verification code is (\d{6})\. ")
T = TypeVar("T")


def backend_params() -> list[Any]:
    """SQLite always; PostgreSQL when COGNATE_TEST_POSTGRES_URL is set (as tests/conftest.py)."""
    marks = pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")
    return ["sqlite", pytest.param("postgres", marks=marks)]


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh database URL on `backend` (a scratch PostgreSQL database is dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir}/cognate.db"
    else:
        assert POSTGRES_URL is not None
        with postgres_database(POSTGRES_URL) as url:
            yield url


@contextlib.contextmanager
def serve(
    backend: str,
    workdir: Path,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    *,
    expected_problems: tuple[str, ...] = (),
    check_log: bool = True,
) -> Iterator[CognateServer]:
    """A `cognate serve` with its own fresh database on `backend`. When it stops, its log
    must show no problem (as tests/support/server.py checks) other than lines containing
    one of `expected_problems`; `check_log=False` leaves the log to the test."""
    with database(backend, workdir) as db:
        server = CognateServer(workdir, db, free_port(), list(extra_args or []), dict(env or {}))
        server.start()
        try:
            yield server
        finally:
            if server.process is not None:
                server.stop()
        if check_log:
            problems = [
                line
                for line in server.problems()
                if not any(expected in line for expected in expected_problems)
            ]
            assert not problems, "the server logged problems:\n" + "\n".join(problems)


def data_dir(server: CognateServer) -> Path:
    """Where the server keeps local files: beside the SQLite file, else ./.cognate."""
    if server.db.startswith("sqlite:///"):
        return Path(server.db.removeprefix("sqlite:///")).parent
    return server.workdir / ".cognate"


def smtp_args(port: int, *more: str) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-security", "none", *more]


# --- the developer outbox over HTTP ----------------------------------------------------------


def outbox_response(server: CognateServer, **params: Any) -> requests.Response:
    return requests.get(f"{server.endpoint}/_cognate/outbox", params=params, timeout=10)


def outbox(server: CognateServer, **params: Any) -> list[dict[str, Any]]:
    """GET /_cognate/outbox: the messages (oldest first)."""
    response = outbox_response(server, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"messages"}, body
    messages: list[dict[str, Any]] = body["messages"]
    return messages


def last_code_response(server: CognateServer, **params: Any) -> requests.Response:
    return requests.get(f"{server.endpoint}/_cognate/outbox/last-code", params=params, timeout=10)


def last_code(server: CognateServer, **params: Any) -> str:
    response = last_code_response(server, **params)
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Call `probe` until it answers something truthy; return that (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or probe}: last {last!r}")


def wait_for_status(
    server: CognateServer, pool_id: str, status: str, *, timeout: float = 10.0, **params: Any
) -> list[dict[str, Any]]:
    """Wait until every message of the pool (with `params`) has `status`; return them."""

    def probe() -> list[dict[str, Any]] | None:
        messages = outbox(server, pool_id=pool_id, **params)
        return messages if messages and all(m["status"] == status for m in messages) else None

    return wait_until(probe, timeout=timeout, what=f"messages of {pool_id} to be {status}")


# --- pools and users ----------------------------------------------------------------------------


def email_pool(cognito: Any, **settings: Any) -> tuple[str, str]:
    """A pool verifying email automatically (email required) and an app client without a
    secret allowing USER_PASSWORD_AUTH; returns (pool id, client id)."""
    pool_id: str = cognito.create_user_pool(
        PoolName="delivery",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "email", "Required": True, "Mutable": True}],
        **settings,
    )["UserPool"]["Id"]
    client_id: str = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def sign_up(cognito: Any, client_id: str, username: str, email: str) -> dict[str, Any]:
    response: dict[str, Any] = cognito.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    return response


def code_in(text: str) -> str:
    """The code of Cognito's default verification message (the whole text must be it)."""
    match = CODE_MESSAGE.fullmatch(text)
    assert match, f"not Cognito's default verification message: {text!r}"
    return match.group(1)
