"""Authentication across processes: two `cognate serve` processes (separate ports, one
database, one master key), a sign-in started on one and finished on the other.

Nothing of a sign-in may live in one process's memory: SRP state, challenge sessions,
revocations and lockout counts are in the database, so whichever process a load balancer
picks gives the same answer. Runs on PostgreSQL (the deployment this is for; skipped
without COGNATE_TEST_POSTGRES_URL) and on SQLite (several processes on one file).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.auth import (
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    TEMPORARY_PASSWORD,
    WRONG_PASSWORD,
    Srp,
    claims,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.cluster import cluster, shared_database
from tests.support.server import CognateServer

PUBLIC_URL = "http://auth.cognate.test"
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")
USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, CognateServer]]:
    """Two server processes on one database, sharing the master key."""
    root = tmp_path_factory.mktemp(f"auth-processes-{request.param}")
    # one deployment: the same master key, and the same public URL (token issuer) behind
    # which a load balancer would spread requests over the processes
    with (
        shared_database(request.param, root) as db,
        cluster(root, db, 2, env={"COGNATE_PUBLIC_URL": PUBLIC_URL}) as (first, second),
    ):
        yield first, second


@pytest.fixture
def clients(servers: tuple[CognateServer, CognateServer]) -> tuple[Any, Any]:
    region = f"zz-{uuid.uuid4().hex[:10]}-1"
    first, second = servers
    return make_client(first.endpoint, region), make_client(second.endpoint, region)


@pytest.fixture
def app(clients: tuple[Any, Any]) -> tuple[str, str]:
    """A pool with a client and a CONFIRMED user alice, made through the first process."""
    a, _b = clients
    pool_id = new_pool(a)
    client_id: str = new_client(a, pool_id)["ClientId"]
    new_user(a, pool_id, "alice")
    return pool_id, client_id


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def refresh(cognito: Any, client_id: str, token: str) -> dict[str, Any]:
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
    )["AuthenticationResult"]
    return result


def test_srp_started_on_one_process_finished_on_the_other(
    clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    a, b = clients
    pool_id, client_id = app
    started_on_a = Srp(a, pool_id, client_id)
    challenge = started_on_a.initiate()
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = started_on_a.responses(challenge["ChallengeParameters"])
    finished_on_b = Srp(b, pool_id, client_id)
    result = finished_on_b.respond(answer)["AuthenticationResult"]
    assert claims(result["AccessToken"])["username"] == "alice"
    assert claims(result["AccessToken"])["iss"] == f"{PUBLIC_URL}/{pool_id}"
    # the tokens one process signed, the other accepts
    assert a.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"
    assert b.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"
    # the SECRET_BLOCK served once, on whichever process
    assert refused(lambda: started_on_a.respond(answer)) == USED_SESSION


def test_new_password_started_on_one_process_answered_on_the_other(
    clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    a, b = clients
    pool_id, client_id = app
    new_user(a, pool_id, "bob", None)
    challenge = password_auth(a, client_id, "bob", TEMPORARY_PASSWORD)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    def answer(cognito: Any, password: str) -> dict[str, Any]:
        response: dict[str, Any] = cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": password},
        )
        return response

    # a refusal on one process leaves the session usable on the other
    assert refused(lambda: answer(b, "short"))[0] == "InvalidPasswordException"
    done = answer(a, NEW_PASSWORD)
    assert "AccessToken" in done["AuthenticationResult"]
    assert b.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"] == "CONFIRMED"
    # reused across processes: once only
    assert refused(lambda: answer(b, NEW_PASSWORD)) == USED_SESSION
    assert "AccessToken" in sign_in(b, client_id, "bob", NEW_PASSWORD)


def test_global_sign_out_on_one_process_is_seen_by_the_other(
    clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    a, b = clients
    _pool_id, client_id = app
    signed_in = sign_in(a, client_id)
    assert a.get_user(AccessToken=signed_in["AccessToken"])["Username"] == "alice"
    b.global_sign_out(AccessToken=signed_in["AccessToken"])
    assert refused(lambda: a.get_user(AccessToken=signed_in["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(a, client_id, signed_in["RefreshToken"])) == REFRESH_REVOKED
    again = sign_in(b, client_id)
    assert a.get_user(AccessToken=again["AccessToken"])["Username"] == "alice"


def test_revoke_token_on_one_process_is_seen_by_the_other(
    clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    a, b = clients
    _pool_id, client_id = app
    signed_in = sign_in(b, client_id)
    # used on both before
    refresh(a, client_id, signed_in["RefreshToken"])
    refresh(b, client_id, signed_in["RefreshToken"])
    a.revoke_token(ClientId=client_id, Token=signed_in["RefreshToken"])
    assert refused(lambda: refresh(b, client_id, signed_in["RefreshToken"])) == REFRESH_REVOKED
    assert refused(lambda: b.get_user(AccessToken=signed_in["AccessToken"])) == ACCESS_REVOKED


def test_lockout_counts_failures_from_every_process(
    clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    a, b = clients
    _pool_id, client_id = app
    for attempt in range(5):
        cognito = (a, b)[attempt % 2]
        assert (
            refused(
                lambda cognito=cognito: password_auth(cognito, client_id, "alice", WRONG_PASSWORD)
            )
            == INCORRECT
        )
    exceeded = ("NotAuthorizedException", "Password attempts exceeded")
    assert refused(lambda: password_auth(a, client_id, "alice", PASSWORD)) == exceeded
    assert refused(lambda: password_auth(b, client_id, "alice", PASSWORD)) == exceeded


def test_signing_keys_are_shared(
    servers: tuple[CognateServer, CognateServer], clients: tuple[Any, Any], app: tuple[str, str]
) -> None:
    pool_id, _client_id = app
    documents = []
    for server in servers:
        url = f"{server.endpoint}/{pool_id}/.well-known/jwks.json"
        with urllib.request.urlopen(url, timeout=10) as response:
            documents.append(json.loads(response.read()))
    assert documents[0] == documents[1]
    assert len(documents[0]["keys"]) == 2
