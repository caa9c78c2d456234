"""Provisioned limits (GetProvisionedLimit, UpdateProvisionedLimit) and their enforcement.

The round trip and validation run on the shared server (rate limits off: values are kept,
not enforced). Enforcement runs on a dedicated server started with `--rate-limits cognito
--workers 2`: threads hammer AdminGetUser (UserRead) after UpdateProvisionedLimit set the
category's rate, and the successes per second must stay at about that rate although two
processes serve the requests, while other categories keep answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import POSTGRES_URL, make_client
from tests.support.server import CognateServer, postgres_database, start_server


def _definition(category: str) -> dict[str, Any]:
    return {"LimitClass": "API_CATEGORY", "Attributes": {"Category": category}}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_get_answers_cognito_defaults(cognito: Any) -> None:
    for category, rps in (("UserAuthentication", 120), ("UserCreation", 50), ("UserList", 30)):
        limit = cognito.get_provisioned_limit(LimitDefinition=_definition(category))["Limit"]
        assert limit == {
            "LimitDefinition": _definition(category),
            "ProvisionedLimitValue": rps,
            "FreeLimitValue": rps,
        }


def test_update_round_trip(cognito: Any) -> None:
    answer = cognito.update_provisioned_limit(
        LimitDefinition=_definition("UserAuthentication"), RequestedLimitValue=200
    )["Limit"]
    assert answer["ProvisionedLimitValue"] == 200
    assert answer["FreeLimitValue"] == 120
    got = cognito.get_provisioned_limit(LimitDefinition=_definition("UserAuthentication"))
    assert got["Limit"]["ProvisionedLimitValue"] == 200
    # Other categories keep their defaults.
    other = cognito.get_provisioned_limit(LimitDefinition=_definition("UserRead"))["Limit"]
    assert other["ProvisionedLimitValue"] == 120


def test_update_validation(cognito: Any) -> None:
    cases = [
        (_definition("UserAuthentication"), 119, "InvalidParameterException"),  # below default
        (_definition("UserAuthentication"), 1201, "ServiceQuotaExceededException"),
        (_definition("UserList"), 60, "InvalidParameterException"),  # not adjustable
        (_definition("NoSuchCategory"), 200, "ResourceNotFoundException"),
        ({"LimitClass": "API_CATEGORY", "Attributes": {}}, 200, "InvalidParameterException"),
        (
            {"LimitClass": "API_CATEGORY", "Attributes": {"Category": "UserRead", "X": "1"}},
            200,
            "InvalidParameterException",
        ),
    ]
    for definition, value, code in cases:
        with pytest.raises(ClientError) as error:
            cognito.update_provisioned_limit(LimitDefinition=definition, RequestedLimitValue=value)
        assert _code(error) == code, (definition, value)
    limit = cognito.get_provisioned_limit(LimitDefinition=_definition("UserAuthentication"))
    assert limit["Limit"]["ProvisionedLimitValue"] == 120  # nothing was changed
    with pytest.raises(ClientError) as error:
        cognito.get_provisioned_limit(LimitDefinition=_definition("NoSuchCategory"))
    assert _code(error) == "ResourceNotFoundException"


def test_limits_off_never_throttle(cognito: Any, pool: dict[str, Any]) -> None:
    """The shared server runs with rate limits off: 40 DescribeUserPoolClient calls in a
    burst (Cognito: 5 per second per pool) all succeed."""
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c")
    client_id = client["UserPoolClient"]["ClientId"]
    for _ in range(40):
        cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client_id)


# --------------------------------------------------------------------------- enforced


def _backends() -> list[Any]:
    marks = pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")
    return ["sqlite", pytest.param("postgres", marks=marks)]


@pytest.fixture(scope="module", params=_backends())
def limited(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[CognateServer]:
    workdir: Path = tmp_path_factory.mktemp(f"limited-{request.param}")
    args = ["--rate-limits", "cognito", "--workers", "2"]
    if request.param == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", extra_args=args) as srv:
            yield srv
    else:
        assert POSTGRES_URL is not None
        with (
            postgres_database(POSTGRES_URL) as url,
            start_server(workdir, db=url, extra_args=args) as srv,
        ):
            yield srv


def _no_retries(endpoint: str, region: str) -> Any:
    """A boto3 client that sends each request once: botocore retries throttling errors
    (TooManyRequestsException among them) unless told not to."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _server_pids(server: CognateServer) -> set[int]:
    """The worker processes' pids, from uvicorn's 'Started server process' lines."""
    pids = set()
    for line in server.log().splitlines():
        if "Started server process [" in line:
            pids.add(int(line.split("[", 1)[1].split("]", 1)[0]))
    return pids


def test_category_rate_holds_across_two_processes(limited: CognateServer, region: str) -> None:
    deadline = time.monotonic() + 60  # the health check answers once one worker is up
    while len(_server_pids(limited)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_server_pids(limited)) == 2, "the server should run two worker processes"
    time.sleep(1.0)  # the second worker finishes its start-up
    admin = make_client(limited.endpoint, region)
    rate = 130
    admin.update_provisioned_limit(
        LimitDefinition=_definition("UserRead"), RequestedLimitValue=rate
    )
    pool_id = admin.create_user_pool(PoolName="limited")["UserPool"]["Id"]
    admin.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    time.sleep(1.2)  # the provisioned value is cached for a second by each process

    seconds = 3.0
    ok: list[float] = []
    throttled: list[float] = []
    other: list[str] = []
    messages: set[str] = set()
    lock = threading.Lock()
    start = time.monotonic() + 0.3
    stop = start + seconds

    def hammer() -> None:
        client = _no_retries(limited.endpoint, region)  # its own connection pool
        while time.monotonic() < start:
            time.sleep(0.001)
        while (now := time.monotonic()) < stop:
            try:
                client.admin_get_user(UserPoolId=pool_id, Username="alice")
                outcome = ok
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TooManyRequestsException":
                    with lock:
                        other.append(exc.response["Error"]["Code"])
                    continue
                messages.add(exc.response["Error"]["Message"])
                outcome = throttled
            with lock:
                outcome.append(now)

    threads = [threading.Thread(target=hammer) for _ in range(12)]
    for thread in threads:
        thread.start()
    # Meanwhile another category (UserPoolRead, 15 RPS) is untouched by UserRead's load.
    time.sleep(1.0)
    for _ in range(5):
        admin.describe_user_pool(UserPoolId=pool_id)
        admin.list_users(UserPoolId=pool_id)  # UserList, 30 RPS
        time.sleep(0.1)
    for thread in threads:
        thread.join()

    assert not other, other
    assert messages == {"Too many requests"}
    assert throttled, "the load never went past the limit: no TooManyRequestsException"
    # Fixed one-second windows: the run touches at most seconds + 1 of them.
    assert len(ok) <= rate * (seconds + 1), (len(ok), len(throttled))
    # Each process reserves a tenth of the limit at a time; at most that goes unused.
    assert len(ok) >= rate * (seconds - 1) * 0.75, (len(ok), len(throttled))
    # Two processes each admitting the whole rate would have admitted about twice as many.
    assert len(ok) < 1.5 * rate * seconds + rate


def test_per_pool_operation_limit(limited: CognateServer, region: str) -> None:
    """UserPoolClientRead operations: at most 5 per second in one pool."""
    admin = make_client(limited.endpoint, region)
    pool_id = admin.create_user_pool(PoolName="per-pool")["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"][
        "ClientId"
    ]
    once = _no_retries(limited.endpoint, region)
    codes = []
    for _ in range(15):
        try:
            once.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert set(codes) == {"ok", "TooManyRequestsException"}, codes
    assert codes.count("ok") <= 10  # at most two one-second windows of 5
    time.sleep(1.1)
    admin.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)  # a new window
