"""Test controls against a live server: the clock moved through /_cognate/control makes
access tokens, confirmation codes, temporary passwords and sign-in sessions expire;
faults strike exactly N calls (also across two worker processes), add latency, and are
refused for errors the operation does not declare; the `cognate clock` / `cognate fault`
commands do the same on the database; with test controls off the API is not there.

Each module server is its own (the clock is server-wide), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cognate.config import Settings
from tests.conftest import POSTGRES_URL
from tests.support import outbox_api
from tests.support.auth import (
    PASSWORD,
    TEMPORARY_PASSWORD,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.server import CognateServer, postgres_database, start_server

EXPIRED_TOKEN = ("NotAuthorizedException", "Access Token has expired")
EXPIRED_TEMPORARY = (
    "NotAuthorizedException",
    "Temporary password has expired and must be reset by an administrator.",
)
EXPIRED_SESSION = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
THROTTLED = ("TooManyRequestsException", "Too many requests")


def _server(request: pytest.FixtureRequest, workdir: Path, **kwargs: Any) -> Any:
    if request.param == "sqlite":
        return start_server(workdir, db=f"sqlite:///{workdir}/c.db", **kwargs)
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    return _on_postgres(workdir, **kwargs)


def _on_postgres(workdir: Path, **kwargs: Any) -> Any:
    import contextlib

    @contextlib.contextmanager
    def run() -> Iterator[CognateServer]:
        assert POSTGRES_URL is not None
        with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url, **kwargs) as s:
            yield s

    return run()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def controlled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    """A server of this module's own (test controls are on in the local default)."""
    with _server(request, tmp_path_factory.mktemp(f"controls-{request.param}")) as srv:
        yield srv


def make_client(endpoint: str, region: str) -> Any:
    """A client that does not retry (botocore retries TooManyRequestsException): every
    call is one request, so faults are counted exactly."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def control(server: CognateServer, method: str, path: str, body: Any = None) -> Any:
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    request = urllib.request.Request(
        f"{server.endpoint}/_cognate/control{path}", data=data, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def control_status(server: CognateServer, method: str, path: str, body: Any = None) -> int:
    try:
        control(server, method, path, body)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


@pytest.fixture
def server(controlled: CognateServer) -> Iterator[CognateServer]:
    """The module's server, back to real time and without faults after each test."""
    yield controlled
    control(controlled, "DELETE", "/faults")
    control(controlled, "POST", "/clock/reset", {})


@pytest.fixture
def cognito(server: CognateServer, region: str) -> Any:
    return make_client(server.endpoint, region)


def advance(server: CognateServer, seconds: float) -> None:
    assert control(server, "POST", "/clock/advance", {"seconds": seconds})["offset_seconds"] > 0


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


# ----------------------------------------------------------------------------- the clock


def test_clock_advance_expires_the_access_token(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    token = sign_in(cognito, client_id)["AccessToken"]
    before = control(server, "GET", "/clock")
    assert before["offset_seconds"] == 0
    advance(server, 3570)
    assert cognito.get_user(AccessToken=token)["Username"] == "alice"  # half a minute left
    advance(server, 31)
    assert refused(lambda: cognito.get_user(AccessToken=token)) == EXPIRED_TOKEN
    after = control(server, "GET", "/clock")
    assert after["offset_seconds"] == 3601
    assert after["now"] - before["now"] >= 3601
    # the refresh token (30 days) still gives new tokens, valid on the moved clock
    fresh = sign_in(cognito, client_id)["AccessToken"]
    assert cognito.get_user(AccessToken=fresh)["Username"] == "alice"


def test_clock_advance_expires_confirmation_codes(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito, AutoVerifiedAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    for name in ("ann", "ben"):
        cognito.sign_up(
            ClientId=client_id,
            Username=name,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
        )
    advance(server, 23 * 3600)
    code = outbox_api.last_code(server.endpoint, pool_id, "ann")
    cognito.confirm_sign_up(ClientId=client_id, Username="ann", ConfirmationCode=code)
    advance(server, 3600 + 1)  # sign-up codes are good for 24 hours
    code = outbox_api.last_code(server.endpoint, pool_id, "ben")
    expired = refused(
        lambda: cognito.confirm_sign_up(ClientId=client_id, Username="ben", ConfirmationCode=code)
    )
    assert expired[0] == "ExpiredCodeException"


def test_clock_advance_expires_temporary_passwords(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(
        cognito, "temporary", Policies={"PasswordPolicy": {"TemporaryPasswordValidityDays": 1}}
    )
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "bob", None)
    challenge = password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    advance(server, 86400 + 60)
    assert refused(lambda: password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)) == (
        EXPIRED_TEMPORARY
    )


def test_clock_advance_expires_sign_in_sessions(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "cat", None)

    def respond(session: str) -> dict[str, Any]:
        response: dict[str, Any] = cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": "cat", "NEW_PASSWORD": PASSWORD},
        )
        return response

    stale = password_auth(cognito, client_id, "cat", TEMPORARY_PASSWORD)["Session"]
    advance(server, 3 * 60 + 1)  # InitiateAuth sessions last 3 minutes
    assert refused(lambda: respond(stale)) == EXPIRED_SESSION
    fresh = password_auth(cognito, client_id, "cat", TEMPORARY_PASSWORD)["Session"]
    advance(server, 2 * 60)
    assert "AuthenticationResult" in respond(fresh)


def test_clock_input_is_checked(server: CognateServer) -> None:
    for body in ({"seconds": -5}, {"seconds": 0}, {"seconds": "60"}, {}, b"[", b"[1]"):
        assert control_status(server, "POST", "/clock/advance", body) == 400, body
    assert control(server, "GET", "/clock")["offset_seconds"] == 0


# ----------------------------------------------------------------------------- faults


def test_a_fault_strikes_the_next_n_calls(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    armed = control(
        server,
        "POST",
        "/faults",
        {"operation": "DescribeUserPool", "error": "TooManyRequestsException", "times": 2},
    )["fault"]
    assert armed["remaining"] == 2
    assert armed["hits"] == 0
    for _ in range(2):
        assert refused(lambda: cognito.describe_user_pool(UserPoolId=pool_id)) == THROTTLED
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    # other operations were never touched
    assert cognito.list_user_pools(MaxResults=5)["UserPools"]
    (spent,) = control(server, "GET", "/faults")["faults"]
    assert (spent["operation"], spent["hits"], spent["remaining"]) == ("DescribeUserPool", 2, 0)


def test_declared_errors_with_messages_until_cleared(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, attributes={"email": "a@example.com", "email_verified": "true"})
    control(
        server,
        "POST",
        "/faults",
        {"operation": "ForgotPassword", "error": "LimitExceededException"},
    )
    for _ in range(3):
        assert refused(lambda: cognito.forgot_password(ClientId=client_id, Username="alice")) == (
            "LimitExceededException",
            "Attempt limit exceeded, please try after some time.",
        )
    control(
        server,
        "POST",
        "/faults",
        {"operation": "InitiateAuth", "error": "InternalErrorException", "message": "Boom"},
    )
    with pytest.raises(ClientError) as exc:
        password_auth(cognito, client_id)
    assert error(exc) == ("InternalErrorException", "Boom")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    control(server, "DELETE", "/faults?operation=InitiateAuth")
    assert sign_in(cognito, client_id)["AccessToken"]
    assert [f["operation"] for f in control(server, "GET", "/faults")["faults"]] == [
        "ForgotPassword"
    ]
    assert control(server, "DELETE", "/faults") == {"cleared": 1}
    assert cognito.forgot_password(ClientId=client_id, Username="alice")["CodeDeliveryDetails"]


def test_latency_without_an_error(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    control(
        server, "POST", "/faults", {"operation": "DescribeUserPool", "latency_ms": 600, "times": 1}
    )
    started = time.monotonic()
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    assert time.monotonic() - started >= 0.6
    (spent,) = control(server, "GET", "/faults")["faults"]
    assert (spent["hits"], spent["remaining"]) == (1, 0)


def test_faults_are_checked(server: CognateServer) -> None:
    bad = [
        {"operation": "NoSuchOperation", "error": "TooManyRequestsException"},
        {"operation": "DescribeUserPool", "error": "UsernameExistsException"},  # not declared
        {"operation": "DescribeUserPool", "error": "NoSuchException"},
        {"operation": "DescribeUserPool"},  # neither an error nor a latency
        {"operation": "DescribeUserPool", "latency_ms": 60_001},
        {"operation": "DescribeUserPool", "latency_ms": 5, "times": 0},
        {"operation": "DescribeUserPool", "latency_ms": 5, "times": "2"},
        {"operation": "DescribeUserPool", "latency_ms": 5, "extra": 1},
    ]
    for body in bad:
        assert control_status(server, "POST", "/faults", body) == 400, body
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(server, "POST", "/faults", bad[1])
    assert "does not declare UsernameExistsException" in json.loads(exc.value.read())["message"]
    assert control(server, "GET", "/faults") == {"faults": []}


# ----------------------------------------------------------------------------- the CLI


def cli(server: CognateServer, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cognate", *args, "--db", server.db],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=server.workdir,
        env={**_clean_env(), **env},
    )


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}


def test_cli_moves_the_clock_and_sets_faults(server: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    token = sign_in(cognito, client_id)["AccessToken"]

    shown = cli(server, "clock", "advance", "1h1s")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("offset 3601 s; server time ")
    assert refused(lambda: cognito.get_user(AccessToken=token)) == EXPIRED_TOKEN
    assert control(server, "GET", "/clock")["offset_seconds"] == 3601
    assert cli(server, "clock").stdout.startswith("offset 3601 s")
    assert cli(server, "clock", "reset").stdout.startswith("offset 0 s")

    armed = cli(
        server,
        "fault",
        "set",
        "DescribeUserPool",
        "--error",
        "TooManyRequestsException",
        "--times",
        "1",
    )
    assert armed.returncode == 0, armed.stderr
    assert armed.stdout.strip() == ("DescribeUserPool: TooManyRequestsException (1 more; struck 0)")
    assert refused(lambda: cognito.describe_user_pool(UserPoolId=pool_id)) == THROTTLED
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    listed = cli(server, "fault")
    assert listed.stdout.strip() == "DescribeUserPool: TooManyRequestsException (0 more; struck 1)"
    assert cli(server, "fault", "clear").stdout.strip() == "cleared 1 fault"

    assert cli(server, "clock", "advance", "soon").returncode == 2
    undeclared = cli(
        server, "fault", "set", "DescribeUserPool", "--error", "UsernameExistsException"
    )
    assert undeclared.returncode == 1
    assert "does not declare UsernameExistsException" in undeclared.stderr
    off = cli(server, "clock", "advance", "60", COGNATE_TEST_CONTROLS="off")
    assert off.returncode == 2
    assert "test controls are off" in off.stderr
    assert control(server, "GET", "/clock")["offset_seconds"] == 0


# ----------------------------------------------------------------------------- settings


def test_auto_means_on_in_the_local_default_only() -> None:
    assert Settings().test_controls_enabled()
    assert not Settings(smtp_host="mail.example.com").test_controls_enabled()
    assert not Settings(auth="secure").test_controls_enabled()
    assert Settings(smtp_host="mail.example.com", test_controls="on").test_controls_enabled()
    assert not Settings(test_controls="off").test_controls_enabled()


@pytest.fixture(scope="module", params=["sqlite"])
def without_controls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp("controls-off")
    with _server(request, workdir, extra_args=["--test-controls", "off"]) as srv:
        yield srv


def test_controls_off_means_no_api(without_controls: CognateServer, region: str) -> None:
    for method, path, body in (
        ("GET", "/clock", None),
        ("POST", "/clock/advance", {"seconds": 60}),
        ("POST", "/faults", {"operation": "ListUserPools", "error": "TooManyRequestsException"}),
        ("GET", "/faults", None),
    ):
        assert control_status(without_controls, method, path, body) == 404
    cognito = make_client(without_controls.endpoint, region)
    assert cognito.list_user_pools(MaxResults=5)["UserPools"] == []


# ----------------------------------------------------------------------------- processes


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def two_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp(f"controls-workers-{request.param}")
    with _server(request, workdir, extra_args=["--workers", "2"]) as srv:
        yield srv


def test_controls_hold_across_worker_processes(two_workers: CognateServer, region: str) -> None:
    """Fresh connections land on either process: the offset and the fault count are
    shared through the database, and the control call answers once both have them."""
    cognito = make_client(two_workers.endpoint, region)
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    tokens = [sign_in(cognito, client_id)["AccessToken"] for _ in range(4)]
    try:
        advance(two_workers, 3601)
        for token in tokens:  # a new client, so a new connection, each time
            fresh = make_client(two_workers.endpoint, region)
            assert refused(lambda t=token, c=fresh: c.get_user(AccessToken=t)) == EXPIRED_TOKEN
        control(
            two_workers,
            "POST",
            "/faults",
            {"operation": "DescribeUserPool", "error": "TooManyRequestsException", "times": 3},
        )
        outcomes = []
        for _ in range(8):
            fresh = make_client(two_workers.endpoint, region)
            try:
                fresh.describe_user_pool(UserPoolId=pool_id)
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])
        assert outcomes == ["TooManyRequestsException"] * 3 + ["ok"] * 5
    finally:
        control(two_workers, "DELETE", "/faults")
        control(two_workers, "POST", "/clock/reset", {})
