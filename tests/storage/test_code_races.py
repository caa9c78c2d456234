"""One-time codes under concurrency, on SQLite and PostgreSQL: the same code presented at
the same moment to different server processes is used once, and wrong attempts from every
process count against the same limit.

Two `cognate serve` processes share one database and master key (as a deployment behind a
load balancer would): the first runs `--workers 2`, the second one worker, and the racing
threads alternate between them, so every race spans at least two processes. A barrier
releases the threads together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.auth import (
    INCORRECT,
    PASSWORD,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.cluster import OK, cluster, race, shared_database
from tests.support.outbox_api import last_code, other_code
from tests.support.server import CognateServer

MISMATCH = ("CodeMismatchException", "Invalid verification code provided, please try again.")
EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
LIMITED = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
CONFIRMED_ALREADY = (
    "NotAuthorizedException",
    "User cannot be confirmed. Current status is CONFIRMED",
)
ROUNDS = 3


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, CognateServer]]:
    root = tmp_path_factory.mktemp(f"code-races-{request.param}")
    with (
        shared_database(request.param, root) as db,
        cluster(root, db, 2, first_args=["--workers", "2"]) as (first, second),
    ):
        yield first, second


@pytest.fixture
def region() -> str:
    return f"zz-{uuid.uuid4().hex[:10]}-1"


@pytest.fixture
def cognito(servers: tuple[CognateServer, CognateServer], region: str) -> Any:
    return make_client(servers[0].endpoint, region)


@pytest.fixture
def app(cognito: Any) -> tuple[str, str]:
    pool_id = new_pool(cognito, "races", AutoVerifiedAttributes=["email"])
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return pool_id, client_id


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def signed_up(cognito: Any, server: CognateServer, app: tuple[str, str], username: str) -> str:
    """A new UNCONFIRMED user; their confirmation code."""
    pool_id, client_id = app
    cognito.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    return last_code(server.endpoint, pool_id, username)


def reset_requested(
    cognito: Any, server: CognateServer, app: tuple[str, str], username: str
) -> str:
    """A CONFIRMED user who asked for a password reset; the reset code."""
    pool_id, client_id = app
    new_user(
        cognito,
        pool_id,
        username,
        attributes={"email": f"{username}@example.com", "email_verified": "true"},
    )
    cognito.forgot_password(ClientId=client_id, Username=username)
    return last_code(server.endpoint, pool_id, username)


def confirm(client_id: str, username: str, code: str) -> Callable[[Any], Any]:
    return lambda c: c.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)


def confirm_forgot(client_id: str, username: str, code: str, password: str) -> Callable[[Any], Any]:
    return lambda c: c.confirm_forgot_password(
        ClientId=client_id, Username=username, ConfirmationCode=code, Password=password
    )


# ----------------------------------------------------------------------------- one winner


def test_one_sign_up_code_confirms_once(
    servers: tuple[CognateServer, CognateServer], region: str, cognito: Any, app: tuple[str, str]
) -> None:
    pool_id, client_id = app
    for round_ in range(ROUNDS):
        username = f"racer{round_}"
        code = signed_up(cognito, servers[0], app, username)
        outcomes = race(servers, region, [confirm(client_id, username, code)] * 2)
        assert outcomes.count(OK) == 1, outcomes
        (loser,) = [o for o in outcomes if o != OK]
        # the code is used up, and the user no longer unconfirmed
        assert loser in {EXPIRED, CONFIRMED_ALREADY}, loser
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
        assert user["UserStatus"] == "CONFIRMED"
        sign_in(cognito, client_id, username)


def test_one_reset_code_sets_one_password(
    servers: tuple[CognateServer, CognateServer], region: str, cognito: Any, app: tuple[str, str]
) -> None:
    _pool_id, client_id = app
    for round_ in range(ROUNDS):
        username = f"racer{round_}"
        code = reset_requested(cognito, servers[0], app, username)
        passwords = [f"Winner-{index}-Passw0rd!" for index in range(2)]
        outcomes = race(
            servers,
            region,
            [confirm_forgot(client_id, username, code, p) for p in passwords],
        )
        assert outcomes.count(OK) == 1, outcomes
        assert outcomes.count(EXPIRED) == 1, outcomes
        winner = passwords[outcomes.index(OK)]
        loser = passwords[1 - outcomes.index(OK)]
        sign_in(cognito, client_id, username, winner)
        for password in (loser, PASSWORD):
            with pytest.raises(ClientError) as exc:
                password_auth(cognito, client_id, username, password)
            assert error(exc) == INCORRECT


def test_one_verification_code_verifies_once(
    servers: tuple[CognateServer, CognateServer], region: str, cognito: Any, app: tuple[str, str]
) -> None:
    pool_id, client_id = app
    new_user(cognito, pool_id, "racer", attributes={"email": "racer@example.com"})
    access = sign_in(cognito, client_id, "racer")["AccessToken"]
    cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    code = last_code(servers[0].endpoint, pool_id, "racer")

    def verify(c: Any) -> Any:
        return c.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)

    outcomes = race(servers, region, [verify] * 2)
    assert sorted(outcomes) == sorted([OK, EXPIRED])
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="racer")
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


# ----------------------------------------------------------------------------- attempt limit


@pytest.mark.parametrize("operation", ["ConfirmSignUp", "ConfirmForgotPassword"])
def test_wrong_attempts_from_every_process_count(
    servers: tuple[CognateServer, CognateServer],
    region: str,
    cognito: Any,
    app: tuple[str, str],
    operation: str,
) -> None:
    pool_id, client_id = app
    if operation == "ConfirmSignUp":
        code = signed_up(cognito, servers[0], app, "racer")

        def attempt(presented: str) -> Callable[[Any], Any]:
            return confirm(client_id, "racer", presented)
    else:
        code = reset_requested(cognito, servers[0], app, "racer")

        def attempt(presented: str) -> Callable[[Any], Any]:
            return confirm_forgot(client_id, "racer", presented, "N3w-Battery-Staple!")

    wrong = [f"{(int(code) + offset) % 10**6:06d}" for offset in range(1, 9)]
    outcomes = race(servers, region, [attempt(w) for w in wrong])
    # eight wrong codes at once: five are counted as wrong, then the limit holds
    assert outcomes.count(MISMATCH) == 5, outcomes
    assert outcomes.count(LIMITED) == 3, outcomes
    for server in servers:
        client = make_client(server.endpoint, region)
        assert refused(lambda client=client: attempt(code)(client)) == LIMITED
        assert refused(lambda client=client: attempt(other_code(code))(client)) == LIMITED
    if operation == "ConfirmSignUp":
        user = cognito.admin_get_user(UserPoolId=pool_id, Username="racer")
        assert user["UserStatus"] == "UNCONFIRMED"
    else:
        sign_in(cognito, client_id, "racer", PASSWORD)


def test_wrong_attempts_before_the_limit_leave_the_code_usable(
    servers: tuple[CognateServer, CognateServer], region: str, cognito: Any, app: tuple[str, str]
) -> None:
    pool_id, client_id = app
    code = signed_up(cognito, servers[0], app, "racer")
    wrong = [f"{(int(code) + offset) % 10**6:06d}" for offset in range(1, 5)]
    outcomes = race(servers, region, [confirm(client_id, "racer", w) for w in wrong])
    assert outcomes == [MISMATCH] * 4
    # the fifth attempt, the right code, on the other process
    make_client(servers[1].endpoint, region).confirm_sign_up(
        ClientId=client_id, Username="racer", ConfirmationCode=code
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="racer")
    assert user["UserStatus"] == "CONFIRMED"
