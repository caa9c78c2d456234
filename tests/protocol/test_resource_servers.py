"""Resource servers and GetClientToken (machine-to-machine access tokens), with boto3."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from joserfc import jws
from joserfc.jwk import KeySet

from tests.support.server import CognateServer

API = "https://api.example.com"
SCOPES = [
    {"ScopeName": "read", "ScopeDescription": "Read things"},
    {"ScopeName": "write", "ScopeDescription": "Write things"},
]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_resource_server_lifecycle(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    created = cognito.create_resource_server(
        UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES
    )["ResourceServer"]
    assert created == {"UserPoolId": pool_id, "Identifier": API, "Name": "api", "Scopes": SCOPES}
    assert (
        cognito.describe_resource_server(UserPoolId=pool_id, Identifier=API)["ResourceServer"]
        == created
    )
    with pytest.raises(ClientError) as excinfo:
        cognito.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="again")
    assert error_of(excinfo)[0] == "InvalidParameterException"

    updated = cognito.update_resource_server(
        UserPoolId=pool_id, Identifier=API, Name="renamed", Scopes=SCOPES[:1]
    )["ResourceServer"]
    assert updated["Name"] == "renamed"
    assert updated["Scopes"] == SCOPES[:1]

    for n in range(3):
        cognito.create_resource_server(UserPoolId=pool_id, Identifier=f"urn:r{n}", Name=f"r{n}")
    first = cognito.list_resource_servers(UserPoolId=pool_id, MaxResults=2)
    assert len(first["ResourceServers"]) == 2
    rest = cognito.list_resource_servers(
        UserPoolId=pool_id, MaxResults=10, NextToken=first["NextToken"]
    )
    listed = [s["Identifier"] for s in first["ResourceServers"] + rest["ResourceServers"]]
    assert listed == [API, "urn:r0", "urn:r1", "urn:r2"]
    assert "NextToken" not in rest

    cognito.delete_resource_server(UserPoolId=pool_id, Identifier=API)
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_resource_server(UserPoolId=pool_id, Identifier=API)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_duplicate_scope_names_and_the_quota(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    with pytest.raises(ClientError) as excinfo:
        cognito.create_resource_server(
            UserPoolId=pool_id, Identifier=API, Name="api", Scopes=[SCOPES[0], SCOPES[0]]
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    for n in range(25):
        cognito.create_resource_server(UserPoolId=pool_id, Identifier=f"urn:{n}", Name="r")
    with pytest.raises(ClientError) as excinfo:
        cognito.create_resource_server(UserPoolId=pool_id, Identifier="urn:26", Name="r")
    assert error_of(excinfo)[0] == "LimitExceededException"


def test_clients_may_be_granted_only_defined_custom_scopes(
    cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    with pytest.raises(ClientError) as excinfo:
        cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="c", AllowedOAuthScopes=[f"{API}/read"]
        )
    assert error_of(excinfo) == (
        "ScopeDoesNotExistException",
        f"Invalid scope requested: {API}/read",
    )
    cognito.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", AllowedOAuthScopes=[f"{API}/read"]
    )["UserPoolClient"]
    assert client["AllowedOAuthScopes"] == [f"{API}/read"]


def m2m_client(cognito: Any, pool_id: str, scopes: list[str]) -> dict[str, Any]:
    cognito.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api", Scopes=SCOPES)
    return cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="machine",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"],
        AllowedOAuthScopes=scopes,
    )["UserPoolClient"]


def test_get_client_token_issues_a_verifiable_m2m_access_token(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client = m2m_client(cognito, pool_id, [f"{API}/read", f"{API}/write"])
    result = cognito.get_client_token(ClientId=client["ClientId"], Secret=client["ClientSecret"])[
        "ClientAuthenticationResult"
    ]
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    claims = claims_of(result["AccessToken"])
    assert claims["sub"] == claims["client_id"] == client["ClientId"]
    assert claims["token_use"] == "access"
    assert claims["scope"] == f"{API}/read {API}/write"
    assert claims["version"] == 2
    assert claims["iss"] == f"{server.endpoint}/{pool_id}"
    assert claims["exp"] - claims["iat"] == 3600
    assert "username" not in claims
    jwks = requests.get(f"{server.endpoint}/{pool_id}/.well-known/jwks.json", timeout=10).json()
    verified = jws.deserialize_compact(result["AccessToken"], KeySet.import_key_set(jwks))
    assert json.loads(verified.payload) == claims

    narrowed = cognito.get_client_token(
        ClientId=client["ClientId"], Secret=client["ClientSecret"], Scopes=[f"{API}/write"]
    )["ClientAuthenticationResult"]
    assert claims_of(narrowed["AccessToken"])["scope"] == f"{API}/write"

    # An M2M token is no user's: user operations refuse it.
    with pytest.raises(ClientError) as excinfo:
        cognito.get_user(AccessToken=result["AccessToken"])
    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_get_client_token_refusals(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    client = m2m_client(cognito, pool_id, [f"{API}/read"])
    client_id, secret = client["ClientId"], client["ClientSecret"]
    with pytest.raises(ClientError) as excinfo:
        cognito.get_client_token(ClientId=client_id, Secret="x" * len(secret))
    assert error_of(excinfo) == (
        "NotAuthorizedException",
        f"Unable to verify secret for client {client_id}",
    )
    with pytest.raises(ClientError) as excinfo:
        cognito.get_client_token(ClientId=client_id, Secret=secret, Scopes=[f"{API}/write"])
    assert error_of(excinfo) == (
        "InvalidParameterException",
        f"Invalid scope requested: {API}/write",
    )

    user_client = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="users", GenerateSecret=True
    )["UserPoolClient"]
    with pytest.raises(ClientError) as excinfo:
        cognito.get_client_token(
            ClientId=user_client["ClientId"], Secret=user_client["ClientSecret"]
        )
    assert error_of(excinfo) == (
        "InvalidParameterException",
        "CLIENT_TOKEN_AUTH flow not enabled for this client",
    )


def test_client_token_auth_must_be_the_only_flow_of_a_client_with_a_secret(
    cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    with pytest.raises(ClientError) as excinfo:
        cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"]
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="c",
            GenerateSecret=True,
            ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_well_known_documents_of_an_unknown_pool_are_404(server: CognateServer) -> None:
    for name in ("jwks.json", "openid-configuration"):
        response = requests.get(
            f"{server.endpoint}/us-east-1_missing/.well-known/{name}", timeout=10
        )
        assert response.status_code == 404
        assert response.json() == {"message": "User pool us-east-1_missing does not exist."}
