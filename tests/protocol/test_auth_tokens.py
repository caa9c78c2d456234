"""Tokens through boto3: their claims and encoding, the JWKS and discovery documents, refresh
(with and without rotation), revocation, sign-out, and the operations a signed-in user
calls with an access token (GetUser, ChangePassword, GetUserAuthFactors).

Expected values are Cognito's, as researched in /work/research/auth.md (decoded real
tokens, pasted error responses).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import RSAKey

from tests.conftest import make_client
from tests.support.auth import (
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    SIGN_IN_SCOPE,
    WRONG_PASSWORD,
    attributes_of,
    claims,
    error,
    header,
    new_client,
    new_pool,
    new_user,
    password_auth,
    raw_header,
    raw_payload,
    secret_hash,
    sign_in,
)
from tests.support.server import start_server

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KID = re.compile(r"[A-Za-z0-9+/]{43}=")
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")
INVALID_REFRESH = ("NotAuthorizedException", "Invalid Refresh Token.")
BAD_SIGNATURE = ("NotAuthorizedException", "Could not verify signature for Access Token")
ROLE_A = "arn:aws:iam::000000000000:role/admins"
ROLE_B = "arn:aws:iam::000000000000:role/staff"
ROLE_C = "arn:aws:iam::000000000000:role/readers"


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def fetch_json(url: str) -> tuple[dict[str, Any], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        body: bytes = response.read()
    document: dict[str, Any] = json.loads(body)
    return document, body


def refresh(cognito: Any, client_id: str, token: str, **params: str) -> dict[str, Any]:
    """InitiateAuth REFRESH_TOKEN_AUTH; the whole response."""
    response: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": token, **params},
    )
    return response


def works(cognito: Any, access_token: str) -> bool:
    cognito.get_user(AccessToken=access_token)
    return True


@pytest.fixture
def pool_id(cognito: Any) -> str:
    return new_pool(
        cognito,
        "tokens",
        Schema=[
            {"Name": "team", "AttributeDataType": "String", "Mutable": True},
            {"Name": "level", "AttributeDataType": "Number", "Mutable": True},
        ],
    )


@pytest.fixture
def client_id(cognito: Any, pool_id: str) -> str:
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return client_id


@pytest.fixture
def alice(cognito: Any, pool_id: str) -> str:
    return new_user(
        cognito,
        pool_id,
        "alice",
        attributes={
            "email": "alice@example.com",
            "email_verified": "true",
            "phone_number": "+15555550100",
            "phone_number_verified": "false",
            "name": "Alice",
            "custom:team": "blue",
            "custom:level": "7",
        },
    )


# ----------------------------------------------------------------------------- claims


def test_id_and_access_token_claims(
    server: Any, cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    # groups created out of order; precedence decides their order in the tokens
    for name, precedence, role in (
        ("readers", 10, ROLE_C),
        ("staff", 5, ROLE_B),
        ("admins", 1, ROLE_A),
    ):
        cognito.create_group(
            UserPoolId=pool_id, GroupName=name, Precedence=precedence, RoleArn=role
        )
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName=name)
    sub = attributes_of(cognito.admin_get_user(UserPoolId=pool_id, Username="alice"))["sub"]
    result = sign_in(cognito, client_id)
    identity, access = claims(result["IdToken"]), claims(result["AccessToken"])
    issuer = f"{server.endpoint}/{pool_id}"

    assert identity["sub"] == access["sub"] == sub
    assert identity["iss"] == access["iss"] == issuer
    assert identity["token_use"] == "id"
    assert identity["aud"] == client_id
    assert identity["cognito:username"] == "alice"
    assert identity["email"] == "alice@example.com"
    assert identity["email_verified"] is True
    assert identity["phone_number"] == "+15555550100"
    assert identity["phone_number_verified"] is False
    assert identity["name"] == "Alice"
    assert identity["custom:team"] == "blue"
    assert identity["custom:level"] == "7"  # a Number attribute, as a string
    assert identity["cognito:groups"] == ["admins", "staff", "readers"]
    assert identity["cognito:preferred_role"] == ROLE_A
    assert sorted(identity["cognito:roles"]) == sorted([ROLE_A, ROLE_B, ROLE_C])
    for absent in ("client_id", "username", "scope"):
        assert absent not in identity

    assert access["token_use"] == "access"
    assert access["client_id"] == client_id
    assert access["username"] == "alice"
    assert access["scope"] == SIGN_IN_SCOPE
    assert access["cognito:groups"] == ["admins", "staff", "readers"]
    for absent in ("aud", "email", "name", "custom:team", "cognito:roles", "version"):
        assert absent not in access
    # the access token of an API sign-in, claim for claim in Cognito's order
    assert list(access) == [
        "sub",
        "cognito:groups",
        "iss",
        "client_id",
        "origin_jti",
        "event_id",
        "token_use",
        "scope",
        "auth_time",
        "exp",
        "iat",
        "jti",
        "username",
    ]

    for token in (identity, access):
        assert all(isinstance(token[k], int) for k in ("auth_time", "exp", "iat"))
        assert token["exp"] - token["iat"] == 3600
        assert token["auth_time"] == token["iat"]
        assert UUID.fullmatch(token["jti"])
        assert UUID.fullmatch(token["origin_jti"])
        assert UUID.fullmatch(token["event_id"])
    # one sign-in: one origin and event, two tokens
    assert identity["origin_jti"] == access["origin_jti"]
    assert identity["event_id"] == access["event_id"]
    assert identity["jti"] != access["jti"]
    again = claims(sign_in(cognito, client_id)["AccessToken"])
    assert again["origin_jti"] != access["origin_jti"]


def test_no_groups_no_group_claims(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    cognito.create_group(UserPoolId=pool_id, GroupName="norole", Precedence=3)
    result = sign_in(cognito, client_id)
    for token in (result["IdToken"], result["AccessToken"]):
        assert "cognito:groups" not in claims(token)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="norole")
    identity = claims(sign_in(cognito, client_id)["IdToken"])
    assert identity["cognito:groups"] == ["norole"]
    assert "cognito:roles" not in identity
    assert "cognito:preferred_role" not in identity


def test_token_validity_comes_from_the_client(cognito: Any, pool_id: str, alice: str) -> None:
    short = new_client(
        cognito,
        pool_id,
        AccessTokenValidity=5,
        IdTokenValidity=2,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours"},
    )["ClientId"]
    result = sign_in(cognito, short)
    access, identity = claims(result["AccessToken"]), claims(result["IdToken"])
    assert access["exp"] - access["iat"] == 300
    assert identity["exp"] - identity["iat"] == 7200
    assert result["ExpiresIn"] == 300
    refreshed = refresh(cognito, short, result["RefreshToken"])["AuthenticationResult"]
    assert refreshed["ExpiresIn"] == 300
    assert claims(refreshed["IdToken"])["exp"] - claims(refreshed["IdToken"])["iat"] == 7200
    in_seconds = new_client(
        cognito,
        pool_id,
        AccessTokenValidity=900,
        IdTokenValidity=1,
        TokenValidityUnits={"AccessToken": "seconds", "IdToken": "days"},
    )["ClientId"]
    result = sign_in(cognito, in_seconds)
    assert claims(result["AccessToken"])["exp"] - claims(result["AccessToken"])["iat"] == 900
    assert claims(result["IdToken"])["exp"] - claims(result["IdToken"])["iat"] == 86400
    assert result["ExpiresIn"] == 900


def test_token_encoding(
    server: Any, cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    kids = set()
    for token in (result["IdToken"], result["AccessToken"]):
        kid = header(token)["kid"]
        assert KID.fullmatch(kid)
        kids.add(kid)
        # {"kid","alg"} in that order, compact, no typ
        assert raw_header(token) == f'{{"kid":"{kid}","alg":"RS256"}}'.encode()
        payload = raw_payload(token)
        # compact JSON with escaped slashes, byte for byte
        decoded = json.loads(payload)
        compact = json.dumps(decoded, separators=(",", ":"), ensure_ascii=False)
        assert payload == compact.replace("/", "\\/").encode()
        host = server.endpoint.removeprefix("http://")
        assert f'"iss":"http:\\/\\/{host}\\/{pool_id}"'.encode() in payload
        assert b"\n" not in payload
    assert len(kids) == 2  # ID and access tokens have their own keys


def test_aws_issuer_mode(tmp_path: Path, region: str) -> None:
    with start_server(
        tmp_path, db=f"sqlite:///{tmp_path}/aws.db", env={"COGNATE_ISSUER": "aws"}
    ) as aws_server:
        cognito = make_client(aws_server.endpoint, region)
        pool_id = new_pool(cognito)
        client_id = new_client(cognito, pool_id)["ClientId"]
        new_user(cognito, pool_id)
        result = sign_in(cognito, client_id)
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        escaped = f'"iss":"https:\\/\\/cognito-idp.{region}.amazonaws.com\\/{pool_id}"'.encode()
        for token in (result["IdToken"], result["AccessToken"]):
            assert claims(token)["iss"] == issuer
            assert escaped in raw_payload(token)
        discovery, _ = fetch_json(
            f"{aws_server.endpoint}/{pool_id}/.well-known/openid-configuration"
        )
        assert discovery["issuer"] == issuer
        # the keys are still served here
        assert discovery["jwks_uri"] == f"{aws_server.endpoint}/{pool_id}/.well-known/jwks.json"
        jwks, _ = fetch_json(discovery["jwks_uri"])
        assert [k["kid"] for k in jwks["keys"]] == [
            header(result["IdToken"])["kid"],
            header(result["AccessToken"])["kid"],
        ]
        # and the server accepts its own tokens
        assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"


# ----------------------------------------------------------------------------- JWKS, discovery


def test_signatures_verify_with_the_jwks(
    server: Any, cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    jwks, body = fetch_json(f"{server.endpoint}/{pool_id}/.well-known/jwks.json")
    assert list(jwks) == ["keys"]
    keys = jwks["keys"]
    assert len(keys) == 2
    for key in keys:
        assert list(key) == ["alg", "e", "kid", "kty", "n", "use"]
        assert (key["alg"], key["e"], key["kty"], key["use"]) == ("RS256", "AQAB", "RSA", "sig")
        assert KID.fullmatch(key["kid"])
    id_key, access_key = keys
    assert id_key["kid"] == header(result["IdToken"])["kid"]
    assert access_key["kid"] == header(result["AccessToken"])["kid"]
    id_public, access_public = RSAKey.import_key(id_key), RSAKey.import_key(access_key)
    # 2048-bit keys
    assert len(base64.urlsafe_b64decode(id_key["n"] + "==")) == 256
    verified = jws.deserialize_compact(result["IdToken"], id_public, algorithms=["RS256"])
    assert json.loads(verified.payload)["token_use"] == "id"
    verified = jws.deserialize_compact(result["AccessToken"], access_public, algorithms=["RS256"])
    assert json.loads(verified.payload)["token_use"] == "access"
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(result["IdToken"], access_public, algorithms=["RS256"])
    # the set is stable, and each pool has its own keys
    assert fetch_json(f"{server.endpoint}/{pool_id}/.well-known/jwks.json")[1] == body
    other_pool = new_pool(cognito, "other")
    other, _ = fetch_json(f"{server.endpoint}/{other_pool}/.well-known/jwks.json")
    assert {k["kid"] for k in other["keys"]}.isdisjoint({k["kid"] for k in keys})


def test_openid_configuration(server: Any, cognito: Any, pool_id: str) -> None:
    document, _body = fetch_json(f"{server.endpoint}/{pool_id}/.well-known/openid-configuration")
    issuer = f"{server.endpoint}/{pool_id}"
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["response_types_supported"] == ["code", "token"]
    assert document["scopes_supported"] == ["openid", "email", "phone", "profile"]
    assert document["subject_types_supported"] == ["public"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "end_session_endpoint",
    ):
        assert document[endpoint].startswith("http")
    assert set(document) == {
        "authorization_endpoint",
        "end_session_endpoint",
        "id_token_signing_alg_values_supported",
        "issuer",
        "jwks_uri",
        "response_types_supported",
        "scopes_supported",
        "subject_types_supported",
        "token_endpoint",
        "token_endpoint_auth_methods_supported",
        "userinfo_endpoint",
    }
    assert list(document) == sorted(document)  # Cognito's keys are in alphabetical order
    fetch_json(document["jwks_uri"])


# ----------------------------------------------------------------------------- attributes


def test_read_attributes_limit_the_id_token_and_get_user(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    limited = new_client(cognito, pool_id, ReadAttributes=["email", "custom:team"])["ClientId"]
    result = sign_in(cognito, limited)
    identity = claims(result["IdToken"])
    assert identity["email"] == "alice@example.com"
    assert identity["custom:team"] == "blue"
    for hidden in ("name", "email_verified", "phone_number", "custom:level"):
        assert hidden not in identity
    user = cognito.get_user(AccessToken=result["AccessToken"])
    assert user["Username"] == "alice"
    assert set(attributes_of(user)) == {"sub", "email", "custom:team"}
    # a client without ReadAttributes reads everything
    everything = cognito.get_user(AccessToken=sign_in(cognito, client_id)["AccessToken"])
    assert attributes_of(everything) == attributes_of(
        cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    )


# ----------------------------------------------------------------------------- refresh


def test_refresh_token_auth(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    signed_in = sign_in(cognito, client_id)
    first = claims(signed_in["AccessToken"])
    response = refresh(cognito, client_id, signed_in["RefreshToken"])
    assert response["ChallengeParameters"] == {}
    result = response["AuthenticationResult"]
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "IdToken"}  # no refresh token
    renewed = claims(result["AccessToken"])
    assert renewed["origin_jti"] == first["origin_jti"]
    assert renewed["auth_time"] == first["auth_time"]
    assert renewed["jti"] != first["jti"]
    assert claims(result["IdToken"])["origin_jti"] == first["origin_jti"]
    assert claims(result["IdToken"])["auth_time"] == first["auth_time"]
    assert works(cognito, result["AccessToken"])
    assert works(cognito, signed_in["AccessToken"])
    # the legacy flow name, and the admin operation
    legacy = refresh_flow(cognito, client_id, signed_in["RefreshToken"], "REFRESH_TOKEN")
    assert claims(legacy["AccessToken"])["origin_jti"] == first["origin_jti"]
    admin = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": signed_in["RefreshToken"]},
    )["AuthenticationResult"]
    assert "RefreshToken" not in admin
    assert claims(admin["AccessToken"])["origin_jti"] == first["origin_jti"]


def refresh_flow(cognito: Any, client_id: str, token: str, flow: str) -> dict[str, Any]:
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id, AuthFlow=flow, AuthParameters={"REFRESH_TOKEN": token}
    )["AuthenticationResult"]
    return result


def test_refresh_token_errors(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    token = sign_in(cognito, client_id)["RefreshToken"]
    other = new_client(cognito, pool_id)["ClientId"]
    assert refused(lambda: refresh(cognito, other, token)) == INVALID_REFRESH
    assert refused(lambda: refresh(cognito, client_id, "garbage")) == INVALID_REFRESH
    assert refused(lambda: refresh(cognito, client_id, token[:-2])) == INVALID_REFRESH
    assert (
        refused(lambda: cognito.get_tokens_from_refresh_token(ClientId=other, RefreshToken=token))
        == INVALID_REFRESH
    )
    assert refused(
        lambda: cognito.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={}
        )
    ) == ("InvalidParameterException", "Missing required parameter REFRESH_TOKEN")
    # the token is unharmed
    assert "AccessToken" in refresh(cognito, client_id, token)["AuthenticationResult"]


def test_refresh_with_a_client_secret(cognito: Any, pool_id: str, alice: str) -> None:
    client = new_client(cognito, pool_id, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    right = secret_hash(secret, "alice", client_id)
    token = sign_in(cognito, client_id, SECRET_HASH=right)["RefreshToken"]
    assert refused(lambda: refresh(cognito, client_id, token)) == (
        "NotAuthorizedException",
        f"Client {client_id} is configured with secret but SECRET_HASH was not received",
    )
    assert refused(
        lambda: refresh(
            cognito, client_id, token, SECRET_HASH=secret_hash(secret, "bob", client_id)
        )
    ) == ("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}")
    assert (
        "AccessToken"
        in refresh(cognito, client_id, token, SECRET_HASH=right)["AuthenticationResult"]
    )


def test_get_tokens_from_refresh_token_without_rotation(
    cognito: Any, client_id: str, alice: str
) -> None:
    signed_in = sign_in(cognito, client_id)
    result = cognito.get_tokens_from_refresh_token(
        ClientId=client_id, RefreshToken=signed_in["RefreshToken"]
    )["AuthenticationResult"]
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "IdToken"}
    assert (
        claims(result["AccessToken"])["origin_jti"]
        == claims(signed_in["AccessToken"])["origin_jti"]
    )
    # the same refresh token keeps working
    again = cognito.get_tokens_from_refresh_token(
        ClientId=client_id, RefreshToken=signed_in["RefreshToken"]
    )
    assert works(cognito, again["AuthenticationResult"]["AccessToken"])


def rotating_client(cognito: Any, pool_id: str, grace: int, **kwargs: Any) -> dict[str, Any]:
    return new_client(
        cognito,
        pool_id,
        kwargs.pop("flows", ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]),
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": grace},
        **kwargs,
    )


def test_rotation_without_grace(cognito: Any, pool_id: str, alice: str) -> None:
    client_id = rotating_client(cognito, pool_id, 0)["ClientId"]
    signed_in = sign_in(cognito, client_id)
    first = signed_in["RefreshToken"]
    rotated = cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)[
        "AuthenticationResult"
    ]
    assert set(rotated) == {"AccessToken", "ExpiresIn", "TokenType", "IdToken", "RefreshToken"}
    second = rotated["RefreshToken"]
    assert second != first
    assert (
        claims(rotated["AccessToken"])["origin_jti"]
        == claims(signed_in["AccessToken"])["origin_jti"]
    )
    code, _message = refused(
        lambda: cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)
    )
    assert code == "RefreshTokenReuseException"
    third = cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=second)[
        "AuthenticationResult"
    ]["RefreshToken"]
    assert third not in (first, second)
    # the session's access tokens are all still good
    assert works(cognito, signed_in["AccessToken"])
    assert works(cognito, rotated["AccessToken"])
    # a rotating client refreshes through GetTokensFromRefreshToken only
    assert refused(lambda: refresh(cognito, client_id, third))[0] == "InvalidParameterException"


def test_rotation_refuses_refresh_token_auth_even_when_listed(
    cognito: Any, pool_id: str, alice: str
) -> None:
    client = rotating_client(
        cognito,
        pool_id,
        0,
        flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    token = sign_in(cognito, client["ClientId"])["RefreshToken"]
    assert refused(lambda: refresh(cognito, client["ClientId"], token))[0] == (
        "InvalidParameterException"
    )


def test_rotation_with_grace(cognito: Any, pool_id: str, alice: str) -> None:
    client_id = rotating_client(cognito, pool_id, 60)["ClientId"]
    first = sign_in(cognito, client_id)["RefreshToken"]
    second = cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)[
        "AuthenticationResult"
    ]["RefreshToken"]
    # within the grace period the old token still refreshes (a client's retry)
    retried = cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)[
        "AuthenticationResult"
    ]
    assert works(cognito, retried["AccessToken"])
    assert works(
        cognito,
        cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=second)[
            "AuthenticationResult"
        ]["AccessToken"],
    )


def test_rotation_with_a_client_secret(cognito: Any, pool_id: str, alice: str) -> None:
    client = rotating_client(cognito, pool_id, 0, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    token = sign_in(cognito, client_id, SECRET_HASH=secret_hash(secret, "alice", client_id))[
        "RefreshToken"
    ]

    def get(**extra: str) -> Any:
        return cognito.get_tokens_from_refresh_token(
            ClientId=client_id, RefreshToken=token, **extra
        )

    assert refused(get)[0] == "NotAuthorizedException"
    assert refused(lambda: get(ClientSecret="x" * len(secret)))[0] == "NotAuthorizedException"
    # the refused attempts did not rotate the token away
    assert "RefreshToken" in get(ClientSecret=secret)["AuthenticationResult"]
    # a client without a secret is not sent one
    public = new_client(cognito, pool_id)["ClientId"]
    other = sign_in(cognito, public)["RefreshToken"]
    assert refused(
        lambda: cognito.get_tokens_from_refresh_token(
            ClientId=public, RefreshToken=other, ClientSecret="x" * 52
        )
    )[0] in ("InvalidParameterException", "NotAuthorizedException")


# ----------------------------------------------------------------------------- revocation


def test_revoke_token(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    renewed = refresh(cognito, client_id, one["RefreshToken"])["AuthenticationResult"]
    response = cognito.revoke_token(ClientId=client_id, Token=one["RefreshToken"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(response) == {"ResponseMetadata"}
    # the refresh token and every access token it gave are dead...
    assert refused(lambda: cognito.get_user(AccessToken=one["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: cognito.get_user(AccessToken=renewed["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(cognito, client_id, one["RefreshToken"])) == REFRESH_REVOKED
    assert (
        refused(
            lambda: cognito.get_tokens_from_refresh_token(
                ClientId=client_id, RefreshToken=one["RefreshToken"]
            )
        )
        == REFRESH_REVOKED
    )
    # ...the other session is not
    assert works(cognito, two["AccessToken"])
    assert "AccessToken" in refresh(cognito, client_id, two["RefreshToken"])["AuthenticationResult"]
    # revoking again, or an unknown token, is not an error
    cognito.revoke_token(ClientId=client_id, Token=one["RefreshToken"])
    cognito.revoke_token(ClientId=client_id, Token="not-a-token-this-server-issued")


def test_revoke_token_only_takes_refresh_tokens(cognito: Any, client_id: str, alice: str) -> None:
    result = sign_in(cognito, client_id)
    for token in (result["AccessToken"], result["IdToken"]):
        assert (
            refused(lambda token=token: cognito.revoke_token(ClientId=client_id, Token=token))[0]
            == "UnsupportedTokenTypeException"
        )
    assert works(cognito, result["AccessToken"])


def test_revoke_token_with_another_client_revokes_nothing(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    other = new_client(cognito, pool_id)["ClientId"]
    # (Cognito's answer is not known: the point is that nothing is revoked)
    with contextlib.suppress(ClientError):
        cognito.revoke_token(ClientId=other, Token=result["RefreshToken"])
    assert works(cognito, result["AccessToken"])
    assert (
        "AccessToken" in refresh(cognito, client_id, result["RefreshToken"])["AuthenticationResult"]
    )


def test_revoke_token_when_revocation_is_disabled(cognito: Any, pool_id: str, alice: str) -> None:
    client_id = new_client(cognito, pool_id, EnableTokenRevocation=False)["ClientId"]
    result = sign_in(cognito, client_id)
    assert (
        refused(lambda: cognito.revoke_token(ClientId=client_id, Token=result["RefreshToken"]))[0]
        == "UnsupportedOperationException"
    )
    assert (
        "AccessToken" in refresh(cognito, client_id, result["RefreshToken"])["AuthenticationResult"]
    )


def test_no_origin_jti_without_revocation(cognito: Any, pool_id: str, alice: str) -> None:
    client_id = new_client(cognito, pool_id, EnableTokenRevocation=False)["ClientId"]
    result = sign_in(cognito, client_id)
    assert "origin_jti" not in claims(result["AccessToken"])
    assert "origin_jti" not in claims(result["IdToken"])


def test_revoke_token_with_a_client_secret(cognito: Any, pool_id: str, alice: str) -> None:
    client = new_client(cognito, pool_id, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    result = sign_in(cognito, client_id, SECRET_HASH=secret_hash(secret, "alice", client_id))
    token = result["RefreshToken"]
    assert (
        refused(lambda: cognito.revoke_token(ClientId=client_id, Token=token))[0]
        == "UnauthorizedException"
    )
    assert (
        refused(
            lambda: cognito.revoke_token(ClientId=client_id, Token=token, ClientSecret="x" * 52)
        )[0]
        == "UnauthorizedException"
    )
    assert works(cognito, result["AccessToken"])
    cognito.revoke_token(ClientId=client_id, Token=token, ClientSecret=secret)
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"])) == ACCESS_REVOKED


def test_global_sign_out(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    other_client = new_client(cognito, pool_id)["ClientId"]
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, other_client)
    new_user(cognito, pool_id, "bob")
    bob = sign_in(cognito, client_id, "bob")
    response = cognito.global_sign_out(AccessToken=one["AccessToken"])
    assert set(response) == {"ResponseMetadata"}
    for session, client in ((one, client_id), (two, other_client)):
        assert (
            refused(lambda session=session: cognito.get_user(AccessToken=session["AccessToken"]))
            == ACCESS_REVOKED
        )
        assert (
            refused(
                lambda session=session, client=client: refresh(
                    cognito, client, session["RefreshToken"]
                )
            )
            == REFRESH_REVOKED
        )
    assert refused(lambda: cognito.global_sign_out(AccessToken=one["AccessToken"])) == (
        ACCESS_REVOKED
    )
    # other users are not signed out; the user can sign in again at once
    assert works(cognito, bob["AccessToken"])
    again = sign_in(cognito, client_id)
    assert cognito.get_user(AccessToken=again["AccessToken"])["Username"] == "alice"
    assert (
        "AccessToken" in refresh(cognito, client_id, again["RefreshToken"])["AuthenticationResult"]
    )


def test_admin_user_global_sign_out(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    response = cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username="alice")
    assert set(response) == {"ResponseMetadata"}
    for session in (one, two):
        assert (
            refused(lambda session=session: cognito.get_user(AccessToken=session["AccessToken"]))
            == ACCESS_REVOKED
        )
        assert (
            refused(lambda session=session: refresh(cognito, client_id, session["RefreshToken"]))
            == REFRESH_REVOKED
        )
    again = sign_in(cognito, client_id)
    assert works(cognito, again["AccessToken"])
    assert refused(
        lambda: cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username="ghost")
    ) == ("UserNotFoundException", "User does not exist.")


def test_admin_disable_user_revokes_tokens(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    cognito.admin_disable_user(UserPoolId=pool_id, Username="alice")
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"]))[0] == (
        "NotAuthorizedException"
    )
    assert refused(lambda: refresh(cognito, client_id, result["RefreshToken"]))[0] == (
        "NotAuthorizedException"
    )
    cognito.admin_enable_user(UserPoolId=pool_id, Username="alice")
    # enabling the user again does not bring the old tokens back
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(cognito, client_id, result["RefreshToken"])) == REFRESH_REVOKED
    assert works(cognito, sign_in(cognito, client_id)["AccessToken"])


def test_admin_set_user_password_revokes_tokens(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password=NEW_PASSWORD, Permanent=True
    )
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(cognito, client_id, result["RefreshToken"])) == REFRESH_REVOKED
    assert works(cognito, sign_in(cognito, client_id, password=NEW_PASSWORD)["AccessToken"])


def test_deleted_user(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    result = sign_in(cognito, client_id)
    cognito.admin_delete_user(UserPoolId=pool_id, Username="alice")
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"])) == (
        "UserNotFoundException",
        "User does not exist.",
    )
    # a new alice is another user: the old tokens are not hers
    new_user(cognito, pool_id, "alice")
    assert refused(lambda: cognito.get_user(AccessToken=result["AccessToken"]))[0] in (
        "UserNotFoundException",
        "NotAuthorizedException",
    )
    assert refused(lambda: refresh(cognito, client_id, result["RefreshToken"]))[0] in (
        "UserNotFoundException",
        "NotAuthorizedException",
    )


def test_refresh_token_of_a_deleted_user(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    result = sign_in(cognito, client_id)
    cognito.admin_delete_user(UserPoolId=pool_id, Username="alice")
    not_found = ("UserNotFoundException", "User does not exist.")
    assert refused(lambda: refresh(cognito, client_id, result["RefreshToken"])) == not_found
    assert (
        refused(
            lambda: cognito.get_tokens_from_refresh_token(
                ClientId=client_id, RefreshToken=result["RefreshToken"]
            )
        )
        == not_found
    )


# ----------------------------------------------------------------------------- access tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_access_token_errors(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    token = sign_in(cognito, client_id)["AccessToken"]
    head, body, signature = token.split(".")
    for garbage in ("garbage", "a.b.c", f"{head}.{body}", "eyJhbGciOiJub25lIn0.e30."):
        assert refused(lambda garbage=garbage: cognito.get_user(AccessToken=garbage)) == (
            "NotAuthorizedException",
            "Invalid Access Token",
        )
    # a tampered payload
    payload = claims(token)
    payload["username"] = "mallory"
    tampered = f"{head}.{b64url(json.dumps(payload).encode())}.{signature}"
    assert refused(lambda: cognito.get_user(AccessToken=tampered)) == BAD_SIGNATURE
    # the right key id, signed by someone else's key
    foreign_key = RSAKey.generate_key(2048)
    forged = jws.serialize_compact(
        {"kid": header(token)["kid"], "alg": "RS256"}, json.dumps(claims(token)), foreign_key
    )
    assert refused(lambda: cognito.get_user(AccessToken=forged)) == BAD_SIGNATURE
    # a key id this server never issued
    unknown = jws.serialize_compact(
        {"kid": "A" * 43 + "=", "alg": "RS256"}, json.dumps(claims(token)), foreign_key
    )
    assert refused(lambda: cognito.get_user(AccessToken=unknown)) == BAD_SIGNATURE
    assert works(cognito, token)


def test_access_token_errors_on_other_operations(cognito: Any, client_id: str, alice: str) -> None:
    result = sign_in(cognito, client_id)
    cognito.global_sign_out(AccessToken=result["AccessToken"])
    token = result["AccessToken"]
    for call in (
        lambda: cognito.get_user(AccessToken=token),
        lambda: cognito.change_password(
            AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
        ),
        lambda: cognito.get_user_auth_factors(AccessToken=token),
        lambda: cognito.global_sign_out(AccessToken=token),
    ):
        assert refused(call) == ACCESS_REVOKED
    for call in (
        lambda: cognito.change_password(
            AccessToken="garbage", PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
        ),
        lambda: cognito.get_user_auth_factors(AccessToken="garbage"),
        lambda: cognito.global_sign_out(AccessToken="garbage"),
    ):
        assert refused(call) == ("NotAuthorizedException", "Invalid Access Token")
    # the password did not change
    assert works(cognito, sign_in(cognito, client_id)["AccessToken"])


# ----------------------------------------------------------------------------- account


def test_get_user(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    user = cognito.get_user(AccessToken=sign_in(cognito, client_id)["AccessToken"])
    assert set(user) == {"Username", "UserAttributes", "ResponseMetadata"}
    assert user["Username"] == "alice"
    assert user["UserAttributes"][0]["Name"] == "sub"
    admin = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert attributes_of(user) == attributes_of(admin)


def test_change_password(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    result = sign_in(cognito, client_id)
    token = result["AccessToken"]
    assert (
        refused(
            lambda: cognito.change_password(
                AccessToken=token, PreviousPassword=WRONG_PASSWORD, ProposedPassword=NEW_PASSWORD
            )
        )
        == INCORRECT
    )
    assert refused(
        lambda: cognito.change_password(
            AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="nouppercase1!"
        )
    ) == (
        "InvalidPasswordException",
        "Password does not conform to policy: Password must have uppercase characters",
    )
    response = cognito.change_password(
        AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
    )
    assert set(response) == {"ResponseMetadata"}
    assert refused(lambda: password_auth(cognito, client_id)) == INCORRECT
    assert works(cognito, sign_in(cognito, client_id, password=NEW_PASSWORD)["AccessToken"])
    # the session that changed the password goes on
    assert works(cognito, token)
    assert (
        "AccessToken" in refresh(cognito, client_id, result["RefreshToken"])["AuthenticationResult"]
    )


def test_change_password_history(cognito: Any) -> None:
    pool_id = new_pool(cognito, "history", Policies={"PasswordPolicy": {"PasswordHistorySize": 2}})
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    token = sign_in(cognito, client_id)["AccessToken"]
    assert (
        refused(
            lambda: cognito.change_password(
                AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=PASSWORD
            )
        )[0]
        == "PasswordHistoryPolicyViolationException"
    )
    cognito.change_password(
        AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
    )
    assert works(cognito, sign_in(cognito, client_id, password=NEW_PASSWORD)["AccessToken"])


def test_user_auth_factors(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    token = sign_in(cognito, client_id)["AccessToken"]
    own = cognito.get_user_auth_factors(AccessToken=token)
    del own["ResponseMetadata"]
    assert own == {"Username": "alice", "ConfiguredUserAuthFactors": ["PASSWORD"]}
    admin = cognito.admin_get_user_auth_factors(UserPoolId=pool_id, Username="alice")
    del admin["ResponseMetadata"]
    assert admin == own
    assert refused(
        lambda: cognito.admin_get_user_auth_factors(UserPoolId=pool_id, Username="ghost")
    ) == ("UserNotFoundException", "User does not exist.")


def test_user_auth_factors_name_the_internal_username(cognito: Any) -> None:
    pool_id = new_pool(cognito, "by-email", UsernameAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    username = new_user(cognito, pool_id, "jane@example.com")
    token = sign_in(cognito, client_id, "jane@example.com")["AccessToken"]
    assert cognito.get_user_auth_factors(AccessToken=token)["Username"] == username
    admin = cognito.admin_get_user_auth_factors(UserPoolId=pool_id, Username="jane@example.com")
    assert admin["Username"] == username
    assert cognito.get_user(AccessToken=token)["Username"] == username
