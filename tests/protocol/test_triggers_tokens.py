"""The PreTokenGeneration trigger end to end: V1_0 (ID token claims, group overrides), V2_0
and V3_0 (both tokens, JSON claim values, scopes added and suppressed), V3_0 for
client-credentials tokens (GetClientToken), every triggerSource this server issues tokens
for (Authentication, NewPasswordChallenge, AuthenticateDevice, RefreshTokens for
REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken, ClientCredentials), the exact events
sent, and the failures: a function that throws, times out or answers garbage, replies of
the wrong shape, and what a failing function leaves behind.

Functions run through the HTTP invoker (`http_*`), the Lambda Invoke API (`lambda_*`) and
in the server process (`py_*`); the first two run the same Python functions from
tests/support/python_functions.py in the test process, so all three are held to the same
expectations.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import python_functions
from tests.support.auth import (
    NEW_PASSWORD,
    SIGN_IN_SCOPE,
    TEMPORARY_PASSWORD,
    attributes_of,
    claims,
    error,
    new_client,
    new_pool,
    new_user,
    sign_in,
)
from tests.support.devices import Setup, confirm, device_srp, first_step
from tests.support.functions import Fail, FunctionHost, arn, function_host, slow
from tests.support.server import CognateServer
from tests.support.trigger_server import python_events, trigger_server

SDK = "aws-sdk-unknown-unknown"
ROLE_ADMIN = "arn:aws:iam::123456789012:role/admin"
ROLE_STAFF = "arn:aws:iam::123456789012:role/staff"
AUDITOR = python_functions.PRETOKEN_GROUP_OVERRIDE
UNRECOGNIZABLE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
TIMEOUT = "Socket timeout while invoking Lambda function"


@pytest.fixture(scope="module")
def functions() -> Iterator[FunctionHost]:
    with function_host() as host:
        yield host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest,
    functions: FunctionHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp(f"pretoken-{request.param}")
    with trigger_server(request.param, workdir, functions) as (srv, _clock):
        yield srv


# ----------------------------------------------------------------------------- helpers


def function(functions: FunctionHost, invoker: str, behaviour: str = "py_pretoken") -> str:
    """A function name for `invoker` (http, lambda or py) that behaves as the Python
    function `behaviour` of tests/support/python_functions.py."""
    if invoker == "py":
        return behaviour
    name = f"{invoker}_pretoken_{uuid.uuid4().hex[:10]}"
    run = getattr(python_functions, behaviour)
    functions.on(name, lambda event: run(copy.deepcopy(event), None))  # the host keeps `event`
    return name


def events(
    server: CognateServer, functions: FunctionHost, name: str, pool_id: str
) -> list[dict[str, Any]]:
    """The events the function got for this pool, in order."""
    got = python_events(server, name) if name.startswith("py_") else functions.events(name)
    return [e for e in got if e["userPoolId"] == pool_id]


def lambda_config(name: str, version: str = "V1_0", *, legacy: bool = False) -> dict[str, Any]:
    if legacy:
        return {"PreTokenGeneration": arn(name)}
    return {"PreTokenGenerationConfig": {"LambdaArn": arn(name), "LambdaVersion": version}}


def pretoken_pool(
    cognito: Any, name: str, version: str = "V1_0", *, legacy: bool = False, **settings: Any
) -> tuple[str, str]:
    """A pool whose PreTokenGeneration trigger is `name`, an app client, and alice (email,
    name); returns the pool and client ids."""
    pool_id = new_pool(
        cognito, "tokens", LambdaConfig=lambda_config(name, version, legacy=legacy), **settings
    )
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    new_user(
        cognito,
        pool_id,
        attributes={"email": "alice@example.com", "email_verified": "true", "name": "Alice"},
    )
    return pool_id, client_id


def user_attributes(cognito: Any, pool_id: str, username: str = "alice") -> dict[str, str]:
    """`request.userAttributes` as Cognito sends them."""
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return {**attributes_of(user), "cognito:user_status": user["UserStatus"]}


def event_of(
    version: str,
    source: str,
    region: str,
    pool_id: str,
    client_id: str,
    request: dict[str, Any],
    username: str | None = "alice",
) -> dict[str, Any]:
    field = "claimsOverrideDetails" if version == "1" else "claimsAndScopeOverrideDetails"
    return {
        "version": version,
        "triggerSource": source,
        "region": region,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": SDK, "clientId": client_id},
        "request": request,
        "response": {field: None},
    }


NO_GROUPS = {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None}


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return error(exc)


def check_v1_id_token(token: str, client_id: str, sub: str) -> None:
    """The ID token py_pretoken's V1 reply makes: added claims last, in the reply's order."""
    got = claims(token)
    assert got["tenant"] == "acme"
    assert got["seats"] == "5"
    assert got["trial"] == "true"
    assert got["name"] == "Renamed"
    assert "email" not in got  # replaced and suppressed: suppressed
    assert got["sub"] == sub
    assert got["cognito:username"] == "alice"
    assert got["aud"] == client_id
    assert got["exp"] - got["iat"] == 3600
    assert list(got)[-3:] == ["tenant", "seats", "trial"]
    assert list(got).index("name") < list(got).index("tenant")  # replaced in place


def check_v2_tokens(result: dict[str, Any], client_id: str, sub: str) -> None:
    """The tokens py_pretoken's V2/V3 reply makes."""
    id_claims = claims(result["IdToken"])
    assert id_claims["tenant"] == "acme"
    assert id_claims["plan"] == {"tier": "gold", "seats": 5}
    assert id_claims["tags"] == ["a", 1, True]
    assert id_claims["name"] == "Renamed"
    assert "email" not in id_claims
    assert id_claims["sub"] == sub
    assert id_claims["cognito:username"] == "alice"
    assert id_claims["aud"] == client_id
    assert id_claims["exp"] - id_claims["iat"] == 3600
    access = claims(result["AccessToken"])
    assert access["tenant"] == "acme"
    assert access["seats"] == 5
    assert access["trial"] is True
    assert access["username"] == "alice"
    assert access["client_id"] == client_id
    assert access["scope"] == f"{SIGN_IN_SCOPE} orders/read"
    assert {"auth_time", "origin_jti", "jti"} <= set(access)  # reserved: not suppressed


# ----------------------------------------------------------------------------- V1_0


@pytest.mark.parametrize("invoker", ["http", "lambda", "py"])
def test_v1_customizes_the_id_token(
    server: CognateServer, functions: FunctionHost, cognito: Any, region: str, invoker: str
) -> None:
    name = function(functions, invoker)
    pool_id, client_id = pretoken_pool(cognito, name, legacy=invoker == "http")
    attributes = user_attributes(cognito, pool_id)
    result = sign_in(cognito, client_id)
    check_v1_id_token(result["IdToken"], client_id, attributes["sub"])
    access = claims(result["AccessToken"])
    assert "tenant" not in access
    assert access["scope"] == SIGN_IN_SCOPE
    request = {"userAttributes": attributes, "groupConfiguration": NO_GROUPS}
    assert events(server, functions, name, pool_id) == [
        event_of("1", "TokenGeneration_Authentication", region, pool_id, client_id, request)
    ]
    # the customized token is still the user's: the access token works
    assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"


# ----------------------------------------------------------------------------- V2_0, V3_0


@pytest.mark.parametrize(
    ("invoker", "version"), [("http", "V2_0"), ("py", "V2_0"), ("lambda", "V3_0"), ("py", "V3_0")]
)
def test_v2_and_v3_customize_both_tokens(
    server: CognateServer,
    functions: FunctionHost,
    cognito: Any,
    region: str,
    invoker: str,
    version: str,
) -> None:
    name = function(functions, invoker)
    pool_id, client_id = pretoken_pool(cognito, name, version)
    attributes = user_attributes(cognito, pool_id)
    result = sign_in(cognito, client_id)
    check_v2_tokens(result, client_id, attributes["sub"])
    request = {
        "userAttributes": attributes,
        "groupConfiguration": NO_GROUPS,
        "scopes": [SIGN_IN_SCOPE],
    }
    assert events(server, functions, name, pool_id) == [
        event_of(version[1], "TokenGeneration_Authentication", region, pool_id, client_id, request)
    ]
    assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"


def test_suppressing_the_sign_in_scope(functions: FunctionHost, cognito: Any) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    functions.respond(
        name,
        claimsAndScopeOverrideDetails={
            "accessTokenGeneration": {
                "scopesToAdd": ["orders/read", "orders/read"],
                "scopesToSuppress": [SIGN_IN_SCOPE],
            }
        },
    )
    _, client_id = pretoken_pool(cognito, name, "V2_0")
    access_token = sign_in(cognito, client_id)["AccessToken"]
    assert claims(access_token)["scope"] == "orders/read"
    assert refused(cognito.get_user, AccessToken=access_token) == (
        "NotAuthorizedException",
        "Access Token does not have required scopes",
    )


# ----------------------------------------------------------------------------- groups


def grouped_alice(cognito: Any, pool_id: str) -> None:
    """alice in `staff` (precedence 5) and `admins` (precedence 1), each with a role."""
    cognito.create_group(UserPoolId=pool_id, GroupName="staff", Precedence=5, RoleArn=ROLE_STAFF)
    cognito.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1, RoleArn=ROLE_ADMIN)
    for group in ("staff", "admins"):
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName=group)


USER_GROUPS = {
    "groupsToOverride": ["admins", "staff"],
    "iamRolesToOverride": [ROLE_ADMIN, ROLE_STAFF],
    "preferredRole": ROLE_ADMIN,
}


@pytest.mark.parametrize(
    ("invoker", "version"), [("http", "V1_0"), ("py", "V1_0"), ("lambda", "V2_0"), ("py", "V2_0")]
)
def test_group_override_replaces_groups_and_roles(
    server: CognateServer,
    functions: FunctionHost,
    cognito: Any,
    invoker: str,
    version: str,
) -> None:
    name = function(functions, invoker, "py_pretoken_groups")
    pool_id, client_id = pretoken_pool(cognito, name, version)
    grouped_alice(cognito, pool_id)
    result = sign_in(cognito, client_id)
    id_claims, access = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["cognito:groups"] == access["cognito:groups"] == AUDITOR["groupsToOverride"]
    assert id_claims["cognito:roles"] == AUDITOR["iamRolesToOverride"]
    assert id_claims["cognito:preferred_role"] == AUDITOR["preferredRole"]
    assert "cognito:roles" not in access
    [event] = events(server, functions, name, pool_id)
    assert event["request"]["groupConfiguration"] == USER_GROUPS


def test_group_override_absent_empty_and_partial(functions: FunctionHost, cognito: Any) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    pool_id, client_id = pretoken_pool(cognito, name)
    grouped_alice(cognito, pool_id)

    def tokens(**response: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        functions.respond(name, **response)
        result = sign_in(cognito, client_id)
        return claims(result["IdToken"]), claims(result["AccessToken"])

    # no groupOverrideDetails (or a null one): the user's groups, roles and preferred role
    for details in ({"claimsToAddOrOverride": {"x": "y"}}, {"groupOverrideDetails": None}, None):
        id_claims, access = tokens(claimsOverrideDetails=details)
        assert id_claims["cognito:groups"] == access["cognito:groups"] == ["admins", "staff"]
        assert id_claims["cognito:roles"] == [ROLE_ADMIN, ROLE_STAFF]
        assert id_claims["cognito:preferred_role"] == ROLE_ADMIN
    # an empty one: no groups, roles or preferred role at all
    id_claims, access = tokens(claimsOverrideDetails={"groupOverrideDetails": {}})
    for claim in ("cognito:groups", "cognito:roles", "cognito:preferred_role"):
        assert claim not in id_claims
        assert claim not in access
    # the object replaces all three: groups alone leave no roles
    id_claims, access = tokens(
        claimsOverrideDetails={"groupOverrideDetails": {"groupsToOverride": ["solo"]}}
    )
    assert id_claims["cognito:groups"] == access["cognito:groups"] == ["solo"]
    assert "cognito:roles" not in id_claims
    assert "cognito:preferred_role" not in id_claims
    # group claims are not set through claimsToAddOrOverride, but can be suppressed
    id_claims, access = tokens(
        claimsOverrideDetails={
            "claimsToAddOrOverride": {"cognito:groups": "forged", "cognito:roles": "forged"},
            "claimsToSuppress": ["cognito:roles", "cognito:preferred_role"],
        }
    )
    assert id_claims["cognito:groups"] == ["admins", "staff"]
    assert "cognito:roles" not in id_claims
    assert "cognito:preferred_role" not in id_claims


# ----------------------------------------------------------------------------- client credentials


def machine_client(cognito: Any, pool_id: str) -> dict[str, Any]:
    cognito.create_resource_server(
        UserPoolId=pool_id,
        Identifier="orders",
        Name="orders",
        Scopes=[
            {"ScopeName": s, "ScopeDescription": s} for s in ("read", "write", "admin", "audit")
        ],
    )
    client: dict[str, Any] = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="machine",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"],
        AllowedOAuthScopes=["orders/admin", "orders/write", "orders/audit"],
    )["UserPoolClient"]
    return client


@pytest.mark.parametrize("invoker", ["http", "lambda", "py"])
def test_v3_customizes_client_credentials_tokens(
    server: CognateServer, functions: FunctionHost, cognito: Any, region: str, invoker: str
) -> None:
    name = function(functions, invoker)
    pool_id = new_pool(cognito, "m2m", LambdaConfig=lambda_config(name, "V3_0"))
    client = machine_client(cognito, pool_id)
    result = cognito.get_client_token(
        ClientId=client["ClientId"],
        Secret=client["ClientSecret"],
        Scopes=["orders/admin", "orders/write", "orders/audit"],
        ClientMetadata={"caller": "batch"},
    )["ClientAuthenticationResult"]
    token = claims(result["AccessToken"])
    assert token["scope"] == "orders/audit orders/read"  # admin, write suppressed; read added
    assert token["tenant"] == "acme"
    assert token["seats"] == 5
    assert token["trial"] is True
    assert token["sub"] == token["client_id"] == client["ClientId"]
    assert "username" not in token
    assert "auth_time" in token
    assert token["version"] == 2
    request = {
        "userAttributes": {},
        "groupConfiguration": NO_GROUPS,
        "scopes": ["orders/admin", "orders/write", "orders/audit"],
        "clientMetadata": {"caller": "batch"},
    }
    expected = event_of(
        "3", "TokenGeneration_ClientCredentials", region, pool_id, client["ClientId"], request, None
    )
    assert events(server, functions, name, pool_id) == [expected]


@pytest.mark.parametrize("version", ["V1_0", "V2_0"])
def test_client_credentials_ask_only_v3_functions(
    functions: FunctionHost, cognito: Any, version: str
) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    functions.on(name, lambda event: python_functions.py_pretoken(event, None))
    pool_id = new_pool(cognito, "m2m", LambdaConfig=lambda_config(name, version))
    client = machine_client(cognito, pool_id)
    token = cognito.get_client_token(ClientId=client["ClientId"], Secret=client["ClientSecret"])
    access = claims(token["ClientAuthenticationResult"]["AccessToken"])
    assert access["scope"] == "orders/admin orders/write orders/audit"
    assert "tenant" not in access
    assert functions.events(name) == []


def test_failing_client_credentials_functions(functions: FunctionHost, cognito: Any) -> None:
    """GetClientToken declares no Lambda errors: Cognito's message, as InvalidParameter."""
    name = f"lambda_pretoken_{uuid.uuid4().hex[:10]}"
    pool_id = new_pool(cognito, "m2m", LambdaConfig=lambda_config(name, "V3_0"))
    client = machine_client(cognito, pool_id)

    def fail(event: dict[str, Any]) -> Any:
        raise Fail("No tokens tonight.")

    for handler, message in [
        (fail, "PreTokenGeneration failed with error No tokens tonight.."),
        (slow(2), f"PreTokenGeneration invocation failed due to error {TIMEOUT}."),
        (lambda event: ["not", "an", "event"], "Unrecognizable lambda output"),
    ]:
        functions.on(name, handler)
        assert refused(
            cognito.get_client_token, ClientId=client["ClientId"], Secret=client["ClientSecret"]
        ) == ("InvalidParameterException", message)


# ----------------------------------------------------------------------------- trigger sources


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_refreshed_tokens_are_customized_too(
    server: CognateServer, functions: FunctionHost, cognito: Any, region: str, invoker: str
) -> None:
    name = function(functions, invoker)
    pool_id, client_id = pretoken_pool(cognito, name, "V2_0")
    attributes = user_attributes(cognito, pool_id)
    refresh_token = sign_in(cognito, client_id)["RefreshToken"]
    by_initiate = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
        ClientMetadata={"from": "initiate"},
    )["AuthenticationResult"]
    check_v2_tokens(by_initiate, client_id, attributes["sub"])
    by_get_tokens = cognito.get_tokens_from_refresh_token(
        ClientId=client_id, RefreshToken=refresh_token, ClientMetadata={"from": "get-tokens"}
    )["AuthenticationResult"]
    check_v2_tokens(by_get_tokens, client_id, attributes["sub"])
    request = {
        "userAttributes": attributes,
        "groupConfiguration": NO_GROUPS,
        "scopes": [SIGN_IN_SCOPE],
    }
    source = "TokenGeneration_RefreshTokens"
    assert events(server, functions, name, pool_id)[1:] == [
        # InitiateAuth does not pass its ClientMetadata to this trigger; the others do
        event_of("2", source, region, pool_id, client_id, request),
        event_of(
            "2",
            source,
            region,
            pool_id,
            client_id,
            {**request, "clientMetadata": {"from": "get-tokens"}},
        ),
    ]


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_new_password_challenge_source(
    server: CognateServer, functions: FunctionHost, cognito: Any, region: str, invoker: str
) -> None:
    name = function(functions, invoker)
    pool_id = new_pool(cognito, "tokens", LambdaConfig=lambda_config(name))
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, password=None, attributes={"email": "alice@example.com"})
    challenge = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": TEMPORARY_PASSWORD},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert events(server, functions, name, pool_id) == []
    result = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": "alice",
            "NEW_PASSWORD": NEW_PASSWORD,
            "userAttributes.name": "Alice",
        },
        ClientMetadata={"step": "new-password"},
    )["AuthenticationResult"]
    attributes = user_attributes(cognito, pool_id)
    assert attributes["cognito:user_status"] == "CONFIRMED"
    check_v1_id_token(result["IdToken"], client_id, attributes["sub"])
    request = {
        "userAttributes": attributes,
        "groupConfiguration": NO_GROUPS,
        "clientMetadata": {"step": "new-password"},
    }
    source = "TokenGeneration_NewPasswordChallenge"
    assert events(server, functions, name, pool_id) == [
        event_of("1", source, region, pool_id, client_id, request)
    ]


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_device_authentication_source(
    server: CognateServer, functions: FunctionHost, cognito: Any, invoker: str
) -> None:
    name = function(functions, invoker)
    pool_id, client_id = pretoken_pool(
        cognito,
        name,
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": False,
        },
    )
    setup = Setup(pool_id, client_id)
    sub = user_attributes(cognito, pool_id)["sub"]
    device, _ = confirm(cognito, sign_in(cognito, client_id))
    challenge = first_step(cognito, setup, "USER_SRP_AUTH", device.key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    result = device_srp(cognito, setup, challenge, device)["AuthenticationResult"]
    check_v1_id_token(result["IdToken"], client_id, sub)
    assert claims(result["AccessToken"])["device_key"] == device.key
    sources = [e["triggerSource"] for e in events(server, functions, name, pool_id)]
    assert sources == ["TokenGeneration_Authentication", "TokenGeneration_AuthenticateDevice"]


# ----------------------------------------------------------------------------- failures


def raising(event: dict[str, Any]) -> Any:
    raise Fail("Registration from this domain is not allowed.")


FAILURES = {
    "raise": (
        raising,
        "py_reject",
        (
            "UserLambdaValidationException",
            "PreTokenGeneration failed with error Registration from this domain is not allowed..",
        ),
    ),
    "timeout": (
        slow(2),
        "py_slow",
        (
            "UnexpectedLambdaException",
            f"PreTokenGeneration invocation failed due to error {TIMEOUT}.",
        ),
    ),
    "garbage": (lambda event: "not an event", "py_garbage", UNRECOGNIZABLE),
}


@pytest.mark.parametrize("invoker", ["http", "lambda", "py"])
@pytest.mark.parametrize("kind", list(FAILURES))
def test_failing_functions_fail_the_sign_in(
    functions: FunctionHost, cognito: Any, invoker: str, kind: str
) -> None:
    handler, py_name, expected = FAILURES[kind]
    if invoker == "py":
        name = py_name
    else:
        name = f"{invoker}_pretoken_{uuid.uuid4().hex[:10]}"
        functions.on(name, handler)
    _, client_id = pretoken_pool(cognito, name, "V2_0")
    assert refused(sign_in, cognito, client_id) == expected


REPLIES = [
    ("V1_0", {"claimsOverrideDetails": "yes"}),
    ("V1_0", {"claimsOverrideDetails": {"claimsToSuppress": "email"}}),
    ("V1_0", {"claimsOverrideDetails": {"claimsToSuppress": [1]}}),
    ("V1_0", {"claimsOverrideDetails": {"claimsToAddOrOverride": ["tenant"]}}),
    ("V1_0", {"claimsOverrideDetails": {"claimsToAddOrOverride": {"tags": ["a", "b"]}}}),
    ("V1_0", {"claimsOverrideDetails": {"claimsToAddOrOverride": {"plan": {"a": 1}}}}),
    ("V1_0", {"claimsOverrideDetails": {"groupOverrideDetails": {"groupsToOverride": "x"}}}),
    ("V1_0", {"claimsOverrideDetails": {"groupOverrideDetails": {"preferredRole": 7}}}),
    ("V2_0", {"claimsAndScopeOverrideDetails": []}),
    ("V2_0", {"claimsAndScopeOverrideDetails": {"idTokenGeneration": "x"}}),
    ("V2_0", {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"scopesToAdd": "a"}}}),
    (
        "V2_0",
        {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"scopesToAdd": ["a b"]}}},
    ),
    (
        "V2_0",
        {
            "claimsAndScopeOverrideDetails": {
                "idTokenGeneration": {"claimsToAddOrOverride": {"email_verified": {"a": 1}}}
            }
        },
    ),
]


def test_replies_of_the_wrong_shape(functions: FunctionHost, cognito: Any) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    clients = {v: pretoken_pool(cognito, name, v)[1] for v in ("V1_0", "V2_0")}
    for version, response in REPLIES:
        functions.respond(name, **response)
        assert refused(sign_in, cognito, clients[version]) == UNRECOGNIZABLE, response


def test_a_failing_refresh_leaves_the_session_as_it_was(
    functions: FunctionHost, cognito: Any
) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    pool_id = new_pool(cognito, "tokens", LambdaConfig=lambda_config(name, "V2_0"))
    client_id = new_client(
        cognito,
        pool_id,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )["ClientId"]
    new_user(cognito, pool_id)
    refresh_token = sign_in(cognito, client_id)["RefreshToken"]
    functions.on(name, raising)
    assert (
        refused(
            cognito.get_tokens_from_refresh_token, ClientId=client_id, RefreshToken=refresh_token
        )[0]
        == "UserLambdaValidationException"
    )
    functions.respond(name)
    # not rotated by the failed attempt: the token still works, once
    rotated = cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=refresh_token)
    assert rotated["AuthenticationResult"]["RefreshToken"] != refresh_token
    assert (
        refused(
            cognito.get_tokens_from_refresh_token, ClientId=client_id, RefreshToken=refresh_token
        )[0]
        == "RefreshTokenReuseException"
    )


def test_a_failing_sign_in_leaves_no_session(functions: FunctionHost, cognito: Any) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    pool_id, client_id = pretoken_pool(cognito, name)
    cognito.set_user_pool_session_configuration(
        UserPoolId=pool_id, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": 20}
    )
    functions.on(name, raising)
    assert refused(sign_in, cognito, client_id)[0] == "UserLambdaValidationException"
    functions.respond(name)
    sign_in(cognito, client_id)
    listed = cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")
    assert len(listed["Sessions"]) == 1  # the successful sign-in's only


# ----------------------------------------------------------------------------- configuration


def test_v2_and_v3_need_essentials_or_plus(cognito: Any) -> None:
    name = f"http_pretoken_{uuid.uuid4().hex[:10]}"
    for version in ("V2_0", "V3_0"):
        assert refused(
            cognito.create_user_pool,
            PoolName="lite",
            UserPoolTier="LITE",
            LambdaConfig=lambda_config(name, version),
        ) == (
            "FeatureUnavailableInTierException",
            "The following features need to be disabled for the LITE pricing tier configured: "
            f"Token Customization with Pre-Token Generation Lambda {version}",
        )
    lite = cognito.create_user_pool(
        PoolName="lite", UserPoolTier="LITE", LambdaConfig=lambda_config(name)
    )["UserPool"]
    assert lite["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaVersion"] == "V1_0"
