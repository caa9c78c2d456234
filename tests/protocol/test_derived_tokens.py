"""GetDerivedToken (OAuth 2.0 token exchange, RFC 8693) through boto3, on both backends.

The server runs with trigger functions (a V2_0 PreTokenGeneration function gives alice's
sign-in access token the scopes orders/read and orders/write, so that narrowing can be
seen) and a clock the tests move (expired subject tokens). Issued tokens are verified
with joserfc against the pool's JWKS and presented to GetUser.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from joserfc import jws
from joserfc.jwk import RSAKey

from tests.support.auth import (
    SIGN_IN_SCOPE,
    claims,
    error,
    header,
    new_client,
    new_pool,
    new_user,
    sign_in,
    unsigned_client,
)
from tests.support.clock import ShiftedClock
from tests.support.functions import FunctionHost, arn, function_host
from tests.support.server import CognateServer
from tests.support.trigger_server import trigger_server

IMPERSONATION = "ALLOW_TOKEN_EXCHANGE_IMPERSONATION"
DELEGATION = "ALLOW_TOKEN_EXCHANGE_DELEGATION"
MISSING_SCOPE = ("NotAuthorizedException", "Access Token does not have required scopes")
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
INVALID_SUBJECT = ("NotAuthorizedException", "Invalid SubjectToken.")
WRONG_SECRET = "Wr0ngSecretWr0ngSecretWr0ngSecret"


@pytest.fixture(scope="module")
def functions() -> Iterator[FunctionHost]:
    with function_host() as host:
        yield host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest,
    functions: FunctionHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"derived-{request.param}")
    with trigger_server(request.param, workdir, functions) as (srv, clock):
        yield srv, clock


@pytest.fixture
def server(clocked: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    return clocked[0]


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def unsigned(server: CognateServer, region: str) -> Any:
    """A caller without IAM credentials: it must authenticate with the client secret."""
    return unsigned_client(server.endpoint, region)


@dataclass
class World:
    pool_id: str
    frontend: str  # where alice signs in
    service: str  # exchanges tokens: a secret, both token-exchange flows
    secret: str
    agent: str  # an M2M client (GetClientToken) acting for alice
    agent_secret: str
    subject: dict[str, Any]  # alice's sign-in result at the frontend


@pytest.fixture
def world(cognito: Any, functions: FunctionHost, clock: ShiftedClock) -> World:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    functions.respond(
        name,
        claimsAndScopeOverrideDetails={
            "accessTokenGeneration": {"scopesToAdd": ["orders/read", "orders/write"]}
        },
    )
    pool_id = new_pool(
        cognito,
        "exchange",
        LambdaConfig={
            "PreTokenGenerationConfig": {"LambdaArn": arn(name), "LambdaVersion": "V2_0"}
        },
    )
    cognito.create_resource_server(
        UserPoolId=pool_id,
        Identifier="orders",
        Name="orders",
        Scopes=[{"ScopeName": s, "ScopeDescription": s} for s in ("read", "write", "delete")],
    )
    frontend = new_client(cognito, pool_id)["ClientId"]
    service = new_client(
        cognito,
        pool_id,
        ["ALLOW_REFRESH_TOKEN_AUTH", IMPERSONATION, DELEGATION],
        GenerateSecret=True,
        AllowedOAuthScopes=["orders/read", "orders/delete"],
    )
    agent = new_client(
        cognito,
        pool_id,
        ["ALLOW_CLIENT_TOKEN_AUTH"],
        GenerateSecret=True,
        AllowedOAuthScopes=["orders/read"],
    )
    new_user(cognito, pool_id, attributes={"email": "alice@example.com", "email_verified": "true"})
    subject = sign_in(cognito, frontend)
    return World(
        pool_id,
        frontend,
        service["ClientId"],
        service["ClientSecret"],
        agent["ClientId"],
        agent["ClientSecret"],
        subject,
    )


def exchange(caller: Any, world: World, token: str | None = None, **params: Any) -> dict[str, Any]:
    """GetDerivedToken by the service client (with its secret) for alice's access token."""
    request = {
        "ClientId": world.service,
        "ClientSecret": world.secret,
        "SubjectToken": token or world.subject["AccessToken"],
        "SubjectTokenType": "ACCESS_TOKEN",
        **params,
    }
    request = {k: v for k, v in request.items() if v is not None}
    result: dict[str, Any] = caller.get_derived_token(**request)
    return result


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return error(exc)


def verified(server: CognateServer, pool_id: str, token: str) -> dict[str, Any]:
    """The token's claims, after its signature verified with the pool's JWKS key of its kid."""
    url = f"{server.endpoint}/{pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as response:
        keys = {k["kid"]: k for k in json.loads(response.read())["keys"]}
    key = RSAKey.import_key(keys[header(token)["kid"]])
    payload: dict[str, Any] = json.loads(
        jws.deserialize_compact(token, key, algorithms=["RS256"]).payload
    )
    return payload


def agent_token(cognito: Any, world: World) -> str:
    token: str = cognito.get_client_token(ClientId=world.agent, Secret=world.agent_secret)[
        "ClientAuthenticationResult"
    ]["AccessToken"]
    return token


# ----------------------------------------------------------------------------- impersonation


def test_impersonation_issues_a_narrowed_access_token(
    server: CognateServer, cognito: Any, unsigned: Any, world: World
) -> None:
    original = claims(world.subject["AccessToken"])
    assert original["scope"] == f"{SIGN_IN_SCOPE} orders/read orders/write"
    result = exchange(unsigned, world)
    assert result["IssuedTokenType"] == "ACCESS_TOKEN"
    assert result["TokenType"] == "Bearer"
    # the subject's scopes that the service client may have (orders/write it may not)
    assert result["Scopes"] == [SIGN_IN_SCOPE, "orders/read"]
    assert 3590 <= result["ExpiresIn"] <= 3600
    token = verified(server, world.pool_id, result["IssuedToken"])
    assert token["token_use"] == "access"
    assert token["scope"] == f"{SIGN_IN_SCOPE} orders/read"
    assert (token["sub"], token["username"]) == (original["sub"], "alice")
    assert token["iss"] == original["iss"]
    assert token["client_id"] == world.service
    assert token["origin_jti"] == original["origin_jti"]
    assert token["auth_time"] == original["auth_time"]
    assert token["jti"] != original["jti"]
    assert token["exp"] - token["iat"] == result["ExpiresIn"]
    assert "act" not in token
    assert "aud" not in token
    assert header(result["IssuedToken"])["kid"] == header(world.subject["AccessToken"])["kid"]
    # a derived token that keeps the API scope is an access token like any other
    assert cognito.get_user(AccessToken=result["IssuedToken"])["Username"] == "alice"


def test_scopes_are_the_intersection(cognito: Any, unsigned: Any, world: World) -> None:
    result = exchange(unsigned, world, Scopes=["orders/write", "orders/delete", "orders/read"])
    # write: the client may not have it; delete: the subject token does not have it
    assert result["Scopes"] == ["orders/read"]
    assert claims(result["IssuedToken"])["scope"] == "orders/read"
    assert refused(cognito.get_user, AccessToken=result["IssuedToken"]) == MISSING_SCOPE
    empty = exchange(unsigned, world, Scopes=["orders/delete"])
    assert empty["Scopes"] == []
    assert "scope" not in claims(empty["IssuedToken"])


def test_audience_and_resource(cognito: Any, unsigned: Any, world: World) -> None:
    by_audience = exchange(unsigned, world, Audiences=["billing-api"])
    assert claims(by_audience["IssuedToken"])["aud"] == "billing-api"
    by_resource = exchange(unsigned, world, Resources=["orders"])
    assert claims(by_resource["IssuedToken"])["aud"] == "orders"
    assert refused(exchange, unsigned, world, Resources=["inventory"]) == (
        "InvalidParameterException",
        f"Resource inventory is not a resource server of user pool {world.pool_id}.",
    )
    assert refused(exchange, unsigned, world, Audiences=["a"], Resources=["orders"]) == (
        "InvalidParameterException",
        "Audiences and Resources cannot both be requested.",
    )


def test_id_tokens(server: CognateServer, cognito: Any, unsigned: Any, world: World) -> None:
    result = exchange(unsigned, world, RequestedTokenType="ID_TOKEN")
    assert result["IssuedTokenType"] == "ID_TOKEN"
    assert result["TokenType"] == "N_A"
    assert "Scopes" not in result
    token = verified(server, world.pool_id, result["IssuedToken"])
    assert token["token_use"] == "id"
    assert token["aud"] == world.service
    assert token["cognito:username"] == "alice"
    assert (token["email"], token["email_verified"]) == ("alice@example.com", True)
    assert "scope" not in token
    # an ID token as the subject: it has no scopes, so the access token gets none
    from_id = exchange(unsigned, world, world.subject["IdToken"], SubjectTokenType="ID_TOKEN")
    assert from_id["Scopes"] == []
    assert claims(from_id["IssuedToken"])["sub"] == claims(world.subject["IdToken"])["sub"]
    assert refused(cognito.get_user, AccessToken=from_id["IssuedToken"]) == MISSING_SCOPE
    # a token of the other kind than declared
    assert (
        refused(
            exchange, unsigned, world, world.subject["IdToken"], SubjectTokenType="ACCESS_TOKEN"
        )
        == INVALID_SUBJECT
    )


# ----------------------------------------------------------------------------- delegation


def test_delegation_carries_the_actor(cognito: Any, unsigned: Any, world: World) -> None:
    actor = agent_token(cognito, world)
    result = exchange(unsigned, world, ActorToken=actor, ActorTokenType="ACCESS_TOKEN")
    token = claims(result["IssuedToken"])
    assert token["act"] == {"sub": world.agent, "client_id": world.agent}
    assert token["sub"] == claims(world.subject["AccessToken"])["sub"]
    # a user's ID token as the actor
    new_user(cognito, world.pool_id, "bob")
    bob = sign_in(cognito, world.frontend, "bob")
    by_bob = exchange(unsigned, world, ActorToken=bob["IdToken"], ActorTokenType="ID_TOKEN")
    bob_sub = claims(bob["IdToken"])["sub"]
    assert claims(by_bob["IssuedToken"])["act"] == {"sub": bob_sub, "client_id": world.frontend}
    # a chain: the delegated token exchanged again nests the earlier actor
    chained = exchange(
        unsigned,
        world,
        result["IssuedToken"],
        ActorToken=bob["AccessToken"],
        ActorTokenType="ACCESS_TOKEN",
    )
    assert claims(chained["IssuedToken"])["act"] == {
        "sub": bob_sub,
        "client_id": world.frontend,
        "act": {"sub": world.agent, "client_id": world.agent},
    }
    # impersonating with a delegated token keeps its actor
    again = exchange(unsigned, world, result["IssuedToken"])
    assert claims(again["IssuedToken"])["act"] == token["act"]
    assert refused(exchange, unsigned, world, ActorToken=actor) == (
        "InvalidParameterException",
        "ActorTokenType is required when ActorToken is given.",
    )
    assert refused(
        exchange, unsigned, world, ActorToken="x.y.z", ActorTokenType="ACCESS_TOKEN"
    ) == ("NotAuthorizedException", "Invalid ActorToken.")


# ----------------------------------------------------------------------------- the client


def test_the_client_needs_the_flow(cognito: Any, world: World) -> None:
    only = new_client(cognito, world.pool_id, ["ALLOW_REFRESH_TOKEN_AUTH", IMPERSONATION])[
        "ClientId"
    ]
    plain = new_client(cognito, world.pool_id)["ClientId"]
    token = world.subject["AccessToken"]
    assert cognito.get_derived_token(
        ClientId=only, SubjectToken=token, SubjectTokenType="ACCESS_TOKEN"
    )["IssuedToken"]
    assert refused(
        cognito.get_derived_token,
        ClientId=only,
        SubjectToken=token,
        SubjectTokenType="ACCESS_TOKEN",
        ActorToken=agent_token(cognito, world),
        ActorTokenType="ACCESS_TOKEN",
    ) == ("InvalidParameterException", "TOKEN_EXCHANGE_DELEGATION flow not enabled for this client")
    assert refused(
        cognito.get_derived_token, ClientId=plain, SubjectToken=token, SubjectTokenType="ID_TOKEN"
    ) == (
        "InvalidParameterException",
        "TOKEN_EXCHANGE_IMPERSONATION flow not enabled for this client",
    )
    # the flows are accepted at configuration, and shown as given
    described = cognito.describe_user_pool_client(UserPoolId=world.pool_id, ClientId=world.service)
    assert described["UserPoolClient"]["ExplicitAuthFlows"] == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        IMPERSONATION,
        DELEGATION,
    ]
    cognito.update_user_pool_client(
        UserPoolId=world.pool_id,
        ClientId=plain,
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH", DELEGATION],
    )
    # token exchange is not in the Lite feature plan
    lite = new_pool(cognito, "lite", UserPoolTier="LITE")
    assert refused(new_client, cognito, lite, ["ALLOW_REFRESH_TOKEN_AUTH", IMPERSONATION]) == (
        "FeatureUnavailableInTierException",
        "The following features need to be disabled for the LITE pricing tier configured: "
        "Token Exchange",
    )


def test_client_authentication(cognito: Any, unsigned: Any, world: World) -> None:
    token = world.subject["AccessToken"]
    base = {"ClientId": world.service, "SubjectToken": token, "SubjectTokenType": "ACCESS_TOKEN"}
    assert refused(unsigned.get_derived_token, **base) == (
        "NotAuthorizedException",
        f"Client {world.service} is configured with secret but ClientSecret was not received",
    )
    assert refused(unsigned.get_derived_token, ClientSecret=WRONG_SECRET, **base) == (
        "NotAuthorizedException",
        f"Unable to verify secret for client {world.service}",
    )
    # IAM credentials (a signed request) stand in for the secret; a wrong one still fails
    assert cognito.get_derived_token(**base)["IssuedToken"]
    assert refused(cognito.get_derived_token, ClientSecret=WRONG_SECRET, **base)[0] == (
        "NotAuthorizedException"
    )
    no_secret = new_client(cognito, world.pool_id, ["ALLOW_REFRESH_TOKEN_AUTH", IMPERSONATION])
    assert refused(
        unsigned.get_derived_token,
        **{**base, "ClientId": no_secret["ClientId"], "ClientSecret": WRONG_SECRET},
    ) == (
        "InvalidParameterException",
        f"App client {no_secret['ClientId']} is not configured for secret but a secret was "
        "received",
    )
    assert unsigned.get_derived_token(**{**base, "ClientId": no_secret["ClientId"]})["IssuedToken"]
    assert refused(unsigned.get_derived_token, **{**base, "ClientId": "nosuchclient"}) == (
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    )


# ----------------------------------------------------------------------------- the subject


def test_subject_token_must_be_valid_and_current(cognito: Any, unsigned: Any, world: World) -> None:
    assert refused(exchange, unsigned, world, "not.a.token") == INVALID_SUBJECT
    other_pool = new_pool(cognito, "other")
    other_client = new_client(cognito, other_pool)["ClientId"]
    new_user(cognito, other_pool)
    foreign = sign_in(cognito, other_client)["AccessToken"]
    assert refused(exchange, unsigned, world, foreign) == INVALID_SUBJECT
    assert refused(exchange, unsigned, world, agent_token(cognito, world)) == (
        "InvalidParameterException",
        "SubjectToken must be a token issued to a user.",
    )
    # revoking the subject's session refuses the subject and the tokens derived from it
    derived = exchange(unsigned, world)["IssuedToken"]
    cognito.global_sign_out(AccessToken=world.subject["AccessToken"])
    assert refused(exchange, unsigned, world) == (
        "NotAuthorizedException",
        "SubjectToken has been revoked.",
    )
    assert refused(cognito.get_user, AccessToken=derived) == ACCESS_REVOKED
    # a disabled user, then a deleted one
    fresh = sign_in(cognito, world.frontend)["AccessToken"]
    cognito.admin_disable_user(UserPoolId=world.pool_id, Username="alice")
    assert refused(exchange, unsigned, world, fresh)[0] == "NotAuthorizedException"
    cognito.admin_enable_user(UserPoolId=world.pool_id, Username="alice")
    fresh = sign_in(cognito, world.frontend)["AccessToken"]
    cognito.admin_delete_user(UserPoolId=world.pool_id, Username="alice")
    assert refused(exchange, unsigned, world, fresh) == (
        "UserNotFoundException",
        "User does not exist.",
    )


def test_expiry(cognito: Any, unsigned: Any, world: World, clock: ShiftedClock) -> None:
    cognito.update_user_pool_client(
        UserPoolId=world.pool_id,
        ClientId=world.service,
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH", IMPERSONATION, DELEGATION],
        AllowedOAuthScopes=["orders/read", "orders/delete"],
        AccessTokenValidity=1,
        TokenValidityUnits={"AccessToken": "days"},
    )
    # the service client's tokens live a day, but never longer than the subject token
    clock.shift(minutes=30)
    result = exchange(unsigned, world)
    assert 1790 <= result["ExpiresIn"] <= 1800
    assert claims(result["IssuedToken"])["exp"] == claims(world.subject["AccessToken"])["exp"]
    clock.shift(minutes=31)
    assert refused(exchange, unsigned, world) == (
        "NotAuthorizedException",
        "SubjectToken has expired.",
    )


def test_third_party_tokens_are_not_supported(unsigned: Any, world: World) -> None:
    assert refused(exchange, unsigned, world, SubjectTokenProviderName="Okta") == (
        "OperationNotEnabledException",
        "Exchanging a SubjectToken from identity provider Okta is not supported: Cognate does "
        "not validate third-party (OIDC or SAML 2.0) tokens yet.",
    )
    assert refused(exchange, unsigned, world, "PHNhbWw+", SubjectTokenType="SAML2") == (
        "InvalidParameterException",
        "SubjectTokenProviderName is required for a SAML2 SubjectToken.",
    )
