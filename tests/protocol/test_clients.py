"""App clients through boto3: defaults, validation, OAuth rules, secrets and rotation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_client_created_with_only_a_name_has_cognitos_defaults(
    cognito: Any, pool: dict[str, Any]
) -> None:
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web")[
        "UserPoolClient"
    ]
    assert re.fullmatch(r"[a-z0-9]{26}", client["ClientId"])
    dates = {k: client.pop(k) for k in ("CreationDate", "LastModifiedDate")}
    assert dates["CreationDate"] == dates["LastModifiedDate"]
    assert client == {
        "UserPoolId": pool["Id"],
        "ClientName": "web",
        "ClientId": client["ClientId"],
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {},
        "AllowedOAuthFlowsUserPoolClient": False,
        "EnableTokenRevocation": True,
        "EnablePropagateAdditionalUserContextData": False,
        "AuthSessionValidity": 3,
        "ClientType": "REGULAR",
    }
    described = cognito.describe_user_pool_client(
        UserPoolId=pool["Id"], ClientId=client["ClientId"]
    )["UserPoolClient"]
    assert described == {**client, **dates}


def test_generated_secret(cognito: Any, pool: dict[str, Any]) -> None:
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="server", GenerateSecret=True
    )["UserPoolClient"]
    assert re.fullmatch(r"[a-z0-9]{52}", client["ClientSecret"])
    described = cognito.describe_user_pool_client(
        UserPoolId=pool["Id"], ClientId=client["ClientId"]
    )["UserPoolClient"]
    assert described["ClientSecret"] == client["ClientSecret"]


def test_custom_secret_and_conflicting_secret_options(cognito: Any, pool: dict[str, Any]) -> None:
    secret = "my+custom_secret_value_0123456789"
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="custom", ClientSecret=secret
    )["UserPoolClient"]
    assert client["ClientSecret"] == secret
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_client(
            UserPoolId=pool["Id"], ClientName="both", ClientSecret=secret, GenerateSecret=True
        )
    assert error(exc)[0] == "InvalidParameterException"


def test_secret_rotation_holds_two_secrets_at_most(cognito: Any, pool: dict[str, Any]) -> None:
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="rotating", GenerateSecret=True
    )["UserPoolClient"]
    ids = {"UserPoolId": pool["Id"], "ClientId": client["ClientId"]}
    first = cognito.list_user_pool_client_secrets(**ids)["ClientSecrets"]
    assert len(first) == 1
    assert first[0]["ClientSecretId"].startswith(client["ClientId"] + "--")
    assert "ClientSecretValue" not in first[0]

    added = cognito.add_user_pool_client_secret(**ids)["ClientSecretDescriptor"]
    assert re.fullmatch(r"[a-z0-9]{52}", added["ClientSecretValue"])
    assert re.fullmatch(rf"{client['ClientId']}--\d{{13}}", added["ClientSecretId"])
    listed = cognito.list_user_pool_client_secrets(**ids)["ClientSecrets"]
    assert [s["ClientSecretId"] for s in listed] == [
        first[0]["ClientSecretId"],
        added["ClientSecretId"],
    ]

    with pytest.raises(ClientError) as exc:
        cognito.add_user_pool_client_secret(**ids)
    assert error(exc)[0] == "LimitExceededException"

    cognito.delete_user_pool_client_secret(**ids, ClientSecretId=first[0]["ClientSecretId"])
    described = cognito.describe_user_pool_client(**ids)["UserPoolClient"]
    assert described["ClientSecret"] == added["ClientSecretValue"]

    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_client_secret(**ids, ClientSecretId=added["ClientSecretId"])
    assert error(exc)[0] == "InvalidParameterException"

    custom = cognito.add_user_pool_client_secret(**ids, ClientSecret="a" * 40)
    assert "ClientSecretValue" not in custom["ClientSecretDescriptor"]

    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_client_secret(**ids, ClientSecretId="nope--1")
    assert error(exc)[0] == "ResourceNotFoundException"


def test_public_client_has_no_secret_to_rotate(cognito: Any, pool: dict[str, Any]) -> None:
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="spa")
    ids = {"UserPoolId": pool["Id"], "ClientId": client["UserPoolClient"]["ClientId"]}
    assert cognito.list_user_pool_client_secrets(**ids)["ClientSecrets"] == []
    with pytest.raises(ClientError) as exc:
        cognito.add_user_pool_client_secret(**ids)
    assert error(exc)[0] == "InvalidParameterException"


def test_oauth_client_round_trip(cognito: Any, pool: dict[str, Any]) -> None:
    settings = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email", "aws.cognito.signin.user.admin"],
        "CallbackURLs": ["https://app.example.com/cb", "http://localhost:3000/cb", "myapp://cb"],
        "LogoutURLs": ["https://app.example.com/bye"],
        "DefaultRedirectURI": "https://app.example.com/cb",
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
        "AccessTokenValidity": 30,
        "IdTokenValidity": 30,
        "RefreshTokenValidity": 7,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes"},
        "ReadAttributes": ["email", "email_verified", "name"],
        "WriteAttributes": ["email", "name"],
        "AuthSessionValidity": 10,
        "EnableTokenRevocation": False,
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
    }
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="oauth", **settings)[
        "UserPoolClient"
    ]
    for key, value in settings.items():
        assert client[key] == value, key


@pytest.mark.parametrize(
    ("settings", "code", "message"),
    [
        (
            {"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"]},
            "InvalidParameterException",
            "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed "
            "to use OAuth flows.",
        ),
        (
            {
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid"],
            },
            "InvalidOAuthFlowException",
            "CallbackUrls can not be empty when code flow or implicit flow is selected",
        ),
        (
            {
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["client_credentials", "code"],
                "AllowedOAuthScopes": ["openid"],
                "CallbackURLs": ["https://a.example/cb"],
            },
            "InvalidOAuthFlowException",
            "client_credentials flow can not be selected along with code flow or implicit flow.",
        ),
        (
            {
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthScopes": ["openid"],
            },
            "InvalidOAuthFlowException",
            "client_credentials flow can not be selected if client does not have a client secret.",
        ),
        (
            {
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthScopes": ["openid"],
                "GenerateSecret": True,
            },
            "InvalidOAuthFlowException",
            "openid is not supported with client_credentials flow",
        ),
        (
            {
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["api/read"],
                "CallbackURLs": ["https://a.example/cb"],
            },
            "ScopeDoesNotExistException",
            "Invalid scope requested: api/read",
        ),
        (
            {"CallbackURLs": ["http://example.com/cb"]},
            "InvalidParameterException",
            "http://example.com/cb cannot use the HTTP protocol.",
        ),
        (
            {"CallbackURLs": ["https://example.com/cb#frag"]},
            "InvalidParameterException",
            "https://example.com/cb#frag cannot use fragment",
        ),
        (
            {
                "CallbackURLs": ["https://example.com/cb"],
                "DefaultRedirectURI": "https://other.example.com/cb",
            },
            "InvalidParameterException",
            "The default redirect URI https://other.example.com/cb is not in the callback URIs "
            "list.",
        ),
        (
            {"SupportedIdentityProviders": ["COGNITO", "Google"]},
            "InvalidParameterException",
            "The provider Google does not exist for User Pool {pool}.",
        ),
        (
            {"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "USER_PASSWORD_AUTH"]},
            "InvalidParameterException",
            "Auth flow name with prefix 'ALLOW' cannot be used with legacy auth flow names.",
        ),
        (
            {"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]},
            "InvalidParameterException",
            "REFRESH_TOKEN_AUTH should always be allowed.",
        ),
        (
            {"AccessTokenValidity": 25},
            "InvalidParameterException",
            "Invalid range for token validity.",
        ),
        (
            {"RefreshTokenValidity": 30, "TokenValidityUnits": {"RefreshToken": "minutes"}},
            "InvalidParameterException",
            "Invalid range for token validity.",
        ),
        (
            {"TokenValidityUnits": {"IdToken": "minutes"}},
            "InvalidParameterException",
            "Invalid range for token validity.",
        ),
        (
            {
                "AccessTokenValidity": 12,
                "RefreshTokenValidity": 2,
                "TokenValidityUnits": {"RefreshToken": "hours"},
            },
            "InvalidParameterException",
            "Access and Id Token expiration times must be less than or equal to refresh token "
            "expiration times.",
        ),
        (
            {"ReadAttributes": ["email", "custom:nope"]},
            "InvalidParameterException",
            "Invalid read attributes specified while creating a client",
        ),
        (
            {"WriteAttributes": ["email_verified"]},
            "InvalidParameterException",
            "Invalid write attributes specified while creating a client",
        ),
    ],
)
def test_create_client_rejects_what_cognito_rejects(
    cognito: Any, pool: dict[str, Any], settings: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="bad", **settings)
    assert error(exc) == (code, message.format(pool=pool["Id"]))
    assert cognito.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"] == []


def test_machine_to_machine_client_is_not_yet_possible_without_resource_servers(
    cognito: Any, pool: dict[str, Any]
) -> None:
    # client_credentials needs a custom scope; custom scopes need resource servers.
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="m2m",
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["orders/read"],
        )
    assert error(exc) == ("ScopeDoesNotExistException", "Invalid scope requested: orders/read")


def test_update_resets_omitted_settings_and_keeps_secret(
    cognito: Any, pool: dict[str, Any]
) -> None:
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="v1",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AccessTokenValidity=2,
    )["UserPoolClient"]
    updated = cognito.update_user_pool_client(
        UserPoolId=pool["Id"], ClientId=client["ClientId"], AuthSessionValidity=15
    )["UserPoolClient"]
    assert updated["ClientName"] == "v1"
    assert updated["ClientSecret"] == client["ClientSecret"]
    assert updated["AuthSessionValidity"] == 15
    assert "ExplicitAuthFlows" not in updated
    assert "AccessTokenValidity" not in updated
    assert updated["CreationDate"] == client["CreationDate"]
    assert (
        updated
        == cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])[
            "UserPoolClient"
        ]
    )
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool_client(
            UserPoolId=pool["Id"], ClientId=client["ClientId"], WriteAttributes=["sub"]
        )
    assert error(exc) == (
        "InvalidParameterException",
        "Invalid write attributes specified while updating a client",
    )


def test_unknown_client_and_unknown_pool(cognito: Any, pool: dict[str, Any], region: str) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId="a" * 26)
    assert error(exc) == (
        "ResourceNotFoundException",
        f"User pool client {'a' * 26} does not exist.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_client(UserPoolId=pool["Id"], ClientId="b" * 26)
    assert error(exc)[0] == "ResourceNotFoundException"
    missing = f"{region}_AAAAAAAAA"
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_client(UserPoolId=missing, ClientName="x")
    assert error(exc) == ("ResourceNotFoundException", f"User pool {missing} does not exist.")


def test_client_of_another_pool_is_not_found(cognito: Any, pool: dict[str, Any]) -> None:
    other = cognito.create_user_pool(PoolName="other")["UserPool"]
    client = cognito.create_user_pool_client(UserPoolId=other["Id"], ClientName="c")
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_user_pool_client(
            UserPoolId=pool["Id"], ClientId=client["UserPoolClient"]["ClientId"]
        )


def test_list_and_delete_clients(cognito: Any, pool: dict[str, Any]) -> None:
    ids = [
        cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName=f"c{i}")[
            "UserPoolClient"
        ]["ClientId"]
        for i in range(5)
    ]
    paginator = cognito.get_paginator("list_user_pool_clients")
    pages = list(paginator.paginate(UserPoolId=pool["Id"], MaxResults=2))
    assert len(pages) == 3
    listed = [c for page in pages for c in page["UserPoolClients"]]
    assert listed == [
        {"ClientId": cid, "UserPoolId": pool["Id"], "ClientName": f"c{i}"}
        for i, cid in enumerate(ids)
    ]
    cognito.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=ids[0])
    remaining = cognito.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    assert [c["ClientId"] for c in remaining] == ids[1:]
    assert (
        cognito.list_user_pool_clients(UserPoolId=pool["Id"], ClientType="DCR")["UserPoolClients"]
        == []
    )


def test_next_token_is_bound_to_its_pool(cognito: Any, pool: dict[str, Any]) -> None:
    other = cognito.create_user_pool(PoolName="other")["UserPool"]
    for name in ("a", "b"):
        cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName=name)
    token = cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as exc:
        cognito.list_user_pool_clients(UserPoolId=other["Id"], MaxResults=1, NextToken=token)
    assert error(exc)[1].startswith(f"Paging marker {token} is invalid for request ")
