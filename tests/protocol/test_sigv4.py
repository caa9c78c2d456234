"""Secure mode (`--auth secure`): SigV4 on the 119 IAM operations, per-key policies.

A live server with three keys (tests/support/secure_server.py): `admin` (everything),
`ops` (cognito-idp:Admin* on every resource, its secret from the environment) and
`backend` (a few actions on one pool, set by restarting with a new key file). Real boto3
clients sign; hand-made requests (botocore's SigV4Auth at a chosen time, sent with httpx)
cover what boto3 never sends: old signatures, bodies changed after signing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from cognate.api.errors import AUTH_ERRORS
from cognate.wire import model
from tests.support.secure_server import (
    ACCOUNT_ID,
    ADMIN,
    BACKEND,
    OPS,
    Key,
    secure_server,
    send,
    signed_client,
    signed_request,
    write_keys,
)
from tests.support.server import CognateServer

PASSWORD = "Passw0rd!Long"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp(f"sigv4-{request.param}")
    with secure_server(request.param, workdir) as srv:
        yield srv


@pytest.fixture
def region() -> str:
    return f"zz-{uuid.uuid4().hex[:10]}-1"


@pytest.fixture
def admin(server: CognateServer, region: str) -> Any:
    return signed_client(server.endpoint, region, ADMIN)


def client_for(server: CognateServer, region: str, key: Key | None) -> Any:
    return signed_client(server.endpoint, region, key)


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def pool_arn(pool_id: str) -> str:
    return f"arn:aws:cognito-idp:{pool_id.split('_')[0]}:{ACCOUNT_ID}:userpool/{pool_id}"


def denied(key_name: str, operation: str, resource: str) -> str:
    action = f"cognito-idp:{operation}"
    return (
        f"User: arn:aws:iam::{ACCOUNT_ID}:user/{key_name} is not authorized to perform: "
        f"{action} on resource: {resource} because no identity-based policy allows the "
        f"{action} action"
    )


def test_start_line_says_secure_mode_and_key_count(server: CognateServer) -> None:
    assert re.search(
        r"auth +secure: SigV4 required for administrative operations; 3 access keys loaded",
        server.log(),
    ), server.log()
    assert ADMIN.secret not in server.log()
    assert OPS.secret not in server.log()


def test_secure_mode_hands_out_no_codes_and_no_test_controls(server: CognateServer) -> None:
    """auto: the developer outbox and the test controls are local-default tools only."""
    for path in ("/_cognate/outbox", "/_cognate/outbox/last-code", "/_cognate/control/clock"):
        assert httpx.get(server.endpoint + path, timeout=10).status_code == 404, path


def test_a_configured_key_works_for_admin_operations(admin: Any, region: str) -> None:
    pool = admin.create_user_pool(PoolName="signed")["UserPool"]
    assert pool["Id"].startswith(region + "_")
    assert [p["Id"] for p in admin.list_user_pools(MaxResults=10)["UserPools"]] == [pool["Id"]]
    admin.admin_create_user(UserPoolId=pool["Id"], Username="alice", MessageAction="SUPPRESS")
    assert admin.admin_get_user(UserPoolId=pool["Id"], Username="alice")["Username"] == "alice"


def test_wrong_secret_unknown_key_and_no_signature(server: CognateServer, region: str) -> None:
    wrong = client_for(server, region, Key(ADMIN.access_key_id, "not-the-secret"))
    code, message, status = error_of(wrong.list_user_pools, MaxResults=10)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details."
    )
    assert ADMIN.secret not in message
    unknown = client_for(server, region, Key("AKIAUNKNOWN000000000", "whatever"))
    assert error_of(unknown.list_user_pools, MaxResults=10) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
    )
    unsigned = client_for(server, region, None)
    assert error_of(unsigned.list_user_pools, MaxResults=10) == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
        400,
    )
    assert error_of(unsigned.admin_get_user, UserPoolId=f"{region}_aaaaaaaaa", Username="x")[0] == (
        "MissingAuthenticationTokenException"
    )


def test_public_operations_need_no_signature(
    server: CognateServer, admin: Any, region: str
) -> None:
    pool_id = admin.create_user_pool(PoolName="public")["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    unsigned = client_for(server, region, None)
    unsigned.sign_up(ClientId=client_id, Username="bob", Password=PASSWORD)
    admin.admin_confirm_sign_up(UserPoolId=pool_id, Username="bob")
    tokens = unsigned.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    assert unsigned.get_user(AccessToken=tokens["AccessToken"])["Username"] == "bob"
    # a public operation's signature is not looked at, even one by an unknown key
    headers, body = signed_request(
        server.endpoint,
        region,
        "GetUser",
        {"AccessToken": tokens["AccessToken"]},
        Key("AKIAUNKNOWN000000000", "whatever"),
    )
    status, answer = send(server.endpoint, headers, body)
    assert (status, answer["Username"]) == (200, "bob")


def test_the_119_iam_operations_and_the_34_public_ones(server: CognateServer, region: str) -> None:
    names = model.operation_names()
    public = [name for name in names if model.is_public(name)]
    iam = [name for name in names if not model.is_public(name)]
    assert (len(iam), len(public)) == (119, 34)
    for name in names:
        headers, body = signed_request(server.endpoint, region, name, {}, None)
        status, answer = send(server.endpoint, headers, body)
        assert status == 400, (name, answer)
        if name in public or name == "GetDerivedToken":  # GetDerivedToken: IAM or its client
            assert answer["__type"] not in AUTH_ERRORS, (name, answer)
        else:
            assert answer == {
                "__type": "MissingAuthenticationTokenException",
                "message": "Missing Authentication Token",
            }, name


def test_signatures_expire_after_five_minutes(server: CognateServer, region: str) -> None:
    now = dt.datetime.now(dt.UTC)
    headers, body = signed_request(
        server.endpoint,
        region,
        "ListUserPools",
        {"MaxResults": 5},
        ADMIN,
        at=now - dt.timedelta(minutes=20),
    )
    status, answer = send(server.endpoint, headers, body)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    stamp = headers["X-Amz-Date"]
    assert re.fullmatch(
        rf"Signature expired: {stamp} is now earlier than \d{{8}}T\d{{6}}Z "
        r"\(\d{8}T\d{6}Z - 5 min\.\)",
        answer["message"],
    ), answer
    ahead = signed_request(
        server.endpoint,
        region,
        "ListUserPools",
        {"MaxResults": 5},
        ADMIN,
        at=now + dt.timedelta(minutes=20),
    )
    status, answer = send(server.endpoint, *ahead)
    assert answer["message"].startswith("Signature not yet current: ")
    # within the window a signed request is accepted, and so is its replay
    recent = signed_request(
        server.endpoint,
        region,
        "ListUserPools",
        {"MaxResults": 5},
        ADMIN,
        at=now - dt.timedelta(minutes=4),
    )
    assert send(server.endpoint, *recent) == (200, {"UserPools": []})
    assert send(server.endpoint, *recent) == (200, {"UserPools": []})


def test_a_body_changed_after_signing_is_refused(
    server: CognateServer, admin: Any, region: str
) -> None:
    pool_id = admin.create_user_pool(PoolName="tamper")["UserPool"]["Id"]
    headers, body = signed_request(
        server.endpoint, region, "DescribeUserPool", {"UserPoolId": pool_id}, ADMIN
    )
    assert send(server.endpoint, headers, body)[0] == 200
    tampered = body.replace(b'"}', b'x"}')
    status, answer = send(server.endpoint, headers, tampered)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    assert "The Canonical String for this request should have been" in answer["message"]
    # and a scope for another service, or a missing parameter, as AWS words them
    other = dict(headers)
    other["Authorization"] = headers["Authorization"].replace("/cognito-idp/", "/dynamodb/")
    assert send(server.endpoint, other, body) == (
        400,
        {
            "__type": "InvalidSignatureException",
            "message": "Credential should be scoped to correct service: 'cognito-idp'.",
        },
    )
    other["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + ADMIN.access_key_id
    status, answer = send(server.endpoint, other, body)
    assert answer["__type"] == "IncompleteSignatureException"
    assert answer["message"].startswith("Authorization header requires 'Signature' parameter.")


def test_wildcard_action_key(server: CognateServer, admin: Any, region: str) -> None:
    """`ops`: cognito-idp:Admin* on every resource."""
    pool_id = admin.create_user_pool(PoolName="ops")["UserPool"]["Id"]
    ops = client_for(server, region, OPS)
    ops.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS")
    assert ops.admin_get_user(UserPoolId=pool_id, Username="carol")["Username"] == "carol"
    assert error_of(ops.list_users, UserPoolId=pool_id) == (
        "AccessDeniedException",
        denied("ops", "ListUsers", pool_arn(pool_id)),
        400,
    )
    assert error_of(ops.create_user_pool, PoolName="no") == (
        "AccessDeniedException",
        denied("ops", "CreateUserPool", "*"),
        400,
    )


def test_a_key_limited_to_one_pool(server: CognateServer, admin: Any, region: str) -> None:
    mine = admin.create_user_pool(PoolName="mine")["UserPool"]
    other = admin.create_user_pool(PoolName="other")["UserPool"]
    client = admin.create_user_pool_client(
        UserPoolId=other["Id"],
        ClientName="exchange",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    for pool in (mine, other):
        admin.admin_create_user(UserPoolId=pool["Id"], Username="dave", MessageAction="SUPPRESS")
    write_keys(Path(server.workdir) / "access-keys.json", [mine["Arn"]])
    server.restart()  # the key file is read at start
    backend = client_for(server, region, BACKEND)
    assert backend.admin_get_user(UserPoolId=mine["Id"], Username="dave")["Username"] == "dave"
    assert backend.describe_user_pool(UserPoolId=mine["Id"])["UserPool"]["Arn"] == mine["Arn"]
    assert backend.list_tags_for_resource(ResourceArn=mine["Arn"]).get("Tags", {}) == {}
    assert error_of(backend.admin_get_user, UserPoolId=other["Id"], Username="dave") == (
        "AccessDeniedException",
        denied("backend", "AdminGetUser", other["Arn"]),
        400,
    )
    assert error_of(backend.list_tags_for_resource, ResourceArn=other["Arn"])[1] == denied(
        "backend", "ListTagsForResource", other["Arn"]
    )
    assert error_of(backend.list_users, UserPoolId=mine["Id"])[1] == denied(
        "backend", "ListUsers", mine["Arn"]
    )
    assert error_of(backend.list_user_pools, MaxResults=5)[1] == denied(
        "backend", "ListUserPools", "*"
    )
    # a pool that does not exist is still a resource the policy is asked about first
    missing = f"{region}_zzzzzzzzz"
    assert error_of(backend.describe_user_pool, UserPoolId=missing)[1] == denied(
        "backend", "DescribeUserPool", pool_arn(missing)
    )
    # GetDerivedToken names only a ClientId: the resource is the client's pool
    exchange = {
        "ClientId": client["ClientId"],
        "SubjectToken": "x" * 20,
        "SubjectTokenType": "ACCESS_TOKEN",
    }
    assert error_of(backend.get_derived_token, **exchange)[1] == denied(
        "backend", "GetDerivedToken", other["Arn"]
    )


def test_get_derived_token_signed_or_with_its_client(
    server: CognateServer, admin: Any, region: str
) -> None:
    """Unsigned, the client must send its secret; signed by a key, it need not."""
    pool_id = admin.create_user_pool(PoolName="exchange")["UserPool"]["Id"]
    client = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="exchange",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    exchange = {
        "ClientId": client["ClientId"],
        "SubjectToken": "x" * 20,
        "SubjectTokenType": "ACCESS_TOKEN",
    }
    unsigned = client_for(server, region, None)
    assert error_of(unsigned.get_derived_token, **exchange)[:2] == (
        "NotAuthorizedException",
        f"Client {client['ClientId']} is configured with secret but ClientSecret was not received",
    )
    # signed: past the secret check, on to the subject token
    assert error_of(admin.get_derived_token, **exchange)[:2] == (
        "NotAuthorizedException",
        "Invalid SubjectToken.",
    )
    wrong = client_for(server, region, Key(ADMIN.access_key_id, "not-the-secret"))
    assert error_of(wrong.get_derived_token, **exchange)[0] == "InvalidSignatureException"
