"""SignUp through boto3 (a public operation: unsigned, authorized by the app client), and the
administrator confirming the user it creates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.outbox import read_outbox


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


@pytest.fixture
def public(server: Any, region: str) -> Any:
    """A client that signs nothing, like a browser app with no AWS credentials."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.endpoint,
        region_name=region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


@pytest.fixture
def app(cognito: Any) -> dict[str, str]:
    pool = cognito.create_user_pool(
        PoolName="signup",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "email", "Required": True}],
    )["UserPool"]
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web")
    return {"pool": pool["Id"], "client": client["UserPoolClient"]["ClientId"]}


def test_sign_up_then_admin_confirm(
    server: Any, cognito: Any, public: Any, app: dict[str, str]
) -> None:
    response = public.sign_up(
        ClientId=app["client"],
        Username="jane",
        Password="Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": "jane@example.com"}],
    )
    assert response["UserConfirmed"] is False
    assert re.fullmatch(r"[0-9a-f-]{36}", response["UserSub"])
    assert response["CodeDeliveryDetails"] == {
        "Destination": "j***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    user = cognito.admin_get_user(UserPoolId=app["pool"], Username="jane")
    assert user["UserStatus"] == "UNCONFIRMED"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["sub"] == response["UserSub"]
    (message,) = read_outbox(server, app["pool"])
    assert (message.kind, message.destination) == ("confirm_sign_up", "jane@example.com")
    assert re.fullmatch(r"Your verification code is \d{6}\. ", message.body)

    cognito.admin_confirm_sign_up(UserPoolId=app["pool"], Username="jane")
    assert cognito.admin_get_user(UserPoolId=app["pool"], Username="jane")["UserStatus"] == (
        "CONFIRMED"
    )
    with pytest.raises(ClientError) as exc:
        cognito.admin_confirm_sign_up(UserPoolId=app["pool"], Username="jane")
    assert error(exc) == (
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"Password": "weak"},
            "InvalidPasswordException",
            "Password did not conform with policy: Password not long enough",
        ),
        (
            {"UserAttributes": []},
            "InvalidParameterException",
            "Attributes did not conform to the schema: email: The attribute is required\n",
        ),
        (
            {
                "UserAttributes": [
                    {"Name": "email", "Value": "a@example.com"},
                    {"Name": "custom:x", "Value": "1"},
                ]
            },
            "InvalidParameterException",
            "Attributes did not conform to the schema: custom:x: Attribute does not exist in the "
            "schema.\n",
        ),
    ],
)
def test_sign_up_rejects(
    public: Any, app: dict[str, str], kwargs: dict[str, Any], code: str, message: str
) -> None:
    request = {
        "ClientId": app["client"],
        "Username": "jane",
        "Password": "Passw0rd!",
        "UserAttributes": [{"Name": "email", "Value": "jane@example.com"}],
        **kwargs,
    }
    with pytest.raises(ClientError) as exc:
        public.sign_up(**request)
    assert error(exc) == (code, message)


def test_duplicate_sign_up(public: Any, app: dict[str, str]) -> None:
    email = [{"Name": "email", "Value": "jane@example.com"}]
    public.sign_up(
        ClientId=app["client"], Username="jane", Password="Passw0rd!", UserAttributes=email
    )
    with pytest.raises(ClientError) as exc:
        public.sign_up(
            ClientId=app["client"], Username="jane", Password="Passw0rd!", UserAttributes=email
        )
    assert error(exc) == ("UsernameExistsException", "User already exists")


def test_secret_hash_rules(cognito: Any, public: Any, app: dict[str, str]) -> None:
    client = cognito.create_user_pool_client(
        UserPoolId=app["pool"], ClientName="server", GenerateSecret=True
    )["UserPoolClient"]
    client_id, secret = client["ClientId"], client["ClientSecret"]
    email = [{"Name": "email", "Value": "jane@example.com"}]
    base = {
        "ClientId": client_id,
        "Username": "jane",
        "Password": "Passw0rd!",
        "UserAttributes": email,
    }
    with pytest.raises(ClientError) as exc:
        public.sign_up(**base)
    assert error(exc) == (
        "NotAuthorizedException",
        f"Client {client_id} is configured with secret but SECRET_HASH was not received",
    )
    with pytest.raises(ClientError) as exc:
        public.sign_up(**base, SecretHash="d3Jvbmc=")
    assert error(exc) == (
        "NotAuthorizedException",
        f"Unable to verify secret hash for client {client_id}",
    )
    right = base64.b64encode(
        hmac.new(secret.encode(), f"jane{client_id}".encode(), hashlib.sha256).digest()
    ).decode()
    assert public.sign_up(**base, SecretHash=right)["UserConfirmed"] is False
    with pytest.raises(ClientError) as exc:
        public.sign_up(
            ClientId=app["client"],
            Username="john",
            Password="Passw0rd!",
            UserAttributes=[{"Name": "email", "Value": "john@example.com"}],
            SecretHash=right,
        )
    assert error(exc) == (
        "InvalidParameterException",
        f"App client {app['client']} is not configured for secret but secret hash was received",
    )


def test_sign_up_needs_permission(cognito: Any, public: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="closed", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True}
    )["UserPool"]
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web")
    with pytest.raises(ClientError) as exc:
        public.sign_up(
            ClientId=client["UserPoolClient"]["ClientId"], Username="jane", Password="Passw0rd!"
        )
    assert error(exc) == ("NotAuthorizedException", "SignUp is not permitted for this user pool")
    with pytest.raises(ClientError) as exc:
        public.sign_up(ClientId="a" * 26, Username="jane", Password="Passw0rd!")
    assert error(exc) == (
        "ResourceNotFoundException",
        f"User pool client {'a' * 26} does not exist.",
    )


def test_write_attributes_limit_what_a_client_sets(cognito: Any, public: Any) -> None:
    pool = cognito.create_user_pool(PoolName="limited")["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web", WriteAttributes=["email"]
    )["UserPoolClient"]
    with pytest.raises(ClientError) as exc:
        public.sign_up(
            ClientId=client["ClientId"],
            Username="jane",
            Password="Passw0rd!",
            UserAttributes=[{"Name": "name", "Value": "Jane"}],
        )
    assert error(exc) == (
        "NotAuthorizedException",
        "A client attempted to write unauthorized attribute",
    )


def test_email_as_username_sign_up(cognito: Any, public: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="by-email", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"]
    )["UserPool"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web")[
        "UserPoolClient"
    ]["ClientId"]
    response = public.sign_up(ClientId=client_id, Username="jane@example.com", Password="Passw0rd!")
    user = cognito.admin_get_user(UserPoolId=pool["Id"], Username="jane@example.com")
    assert user["Username"] == response["UserSub"]
    with pytest.raises(ClientError) as exc:
        public.sign_up(ClientId=client_id, Username="jane@example.com", Password="Passw0rd!")
    assert error(exc) == (
        "UsernameExistsException",
        "An account with the given email already exists.",
    )
