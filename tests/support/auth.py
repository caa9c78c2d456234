"""Helpers for the authentication tests: app clients, users, sign-in, SRP, token decoding.

SRP is computed with pycognito's `aws_srp` module (an independent client implementation):
`Srp` drives its `AWSSRP` object step by step, so that a test can choose the password,
the TIMESTAMP or the SECRET_BLOCK it answers with.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito import aws_srp

PASSWORD = "Corr3ct-Horse!"
NEW_PASSWORD = "N3w-Battery-Staple!"
WRONG_PASSWORD = "Wr0ng-Passw0rd!"
TEMPORARY_PASSWORD = "Temp-0rary-Pass!"
SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"
INCORRECT = ("NotAuthorizedException", "Incorrect username or password.")
ALL_FLOWS = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def unsigned_client(endpoint: str, region: str) -> Any:
    """A client that signs nothing, like a browser app with no AWS credentials."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def secret_hash(secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# ----------------------------------------------------------------------------- set-up


def new_pool(cognito: Any, name: str = "auth", **kwargs: Any) -> str:
    pool_id: str = cognito.create_user_pool(PoolName=name, **kwargs)["UserPool"]["Id"]
    return pool_id


def new_client(
    cognito: Any, pool_id: str, flows: list[str] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """An app client (no secret unless GenerateSecret) allowing every password flow."""
    client: dict[str, Any] = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=ALL_FLOWS if flows is None else flows,
        **kwargs,
    )["UserPoolClient"]
    return client


def new_user(
    cognito: Any,
    pool_id: str,
    username: str = "alice",
    password: str | None = PASSWORD,
    attributes: dict[str, str] | None = None,
) -> str:
    """A user created by the administrator; CONFIRMED with `password` unless it is None
    (then FORCE_CHANGE_PASSWORD with TEMPORARY_PASSWORD). Returns the Username."""
    user = cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword=TEMPORARY_PASSWORD,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": k, "Value": v} for k, v in (attributes or {}).items()],
    )["User"]
    if password is not None:
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
    name: str = user["Username"]
    return name


def attributes_of(user: dict[str, Any]) -> dict[str, str]:
    key = "UserAttributes" if "UserAttributes" in user else "Attributes"
    return {a["Name"]: a["Value"] for a in user[key]}


def password_auth(
    cognito: Any,
    client_id: str,
    username: str = "alice",
    password: str = PASSWORD,
    **params: str,
) -> dict[str, Any]:
    """InitiateAuth USER_PASSWORD_AUTH; the whole response."""
    response: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **params},
    )
    return response


def sign_in(
    cognito: Any, client_id: str, username: str = "alice", password: str = PASSWORD, **params: str
) -> dict[str, Any]:
    """USER_PASSWORD_AUTH that must end with tokens; the AuthenticationResult."""
    response = password_auth(cognito, client_id, username, password, **params)
    assert "ChallengeName" not in response, response
    result: dict[str, Any] = response["AuthenticationResult"]
    return result


# ----------------------------------------------------------------------------- tokens


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def header(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(_b64(token.split(".")[0]))
    return decoded


def raw_header(token: str) -> bytes:
    return _b64(token.split(".")[0])


def raw_payload(token: str) -> bytes:
    return _b64(token.split(".")[1])


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(raw_payload(token))
    return decoded


# ----------------------------------------------------------------------------- SRP


def cognito_timestamp(when: dt.datetime) -> str:
    """`Tue Sep 3 08:05:09 UTC 2019`: the format clients send (day not zero-padded)."""
    return str(aws_srp.AWSSRP.get_cognito_formatted_timestamp(when))


class Srp:
    """One SRP sign-in attempt, computed with pycognito's aws_srp."""

    def __init__(
        self,
        cognito: Any,
        pool_id: str,
        client_id: str,
        username: str = "alice",
        password: str = PASSWORD,
        secret: str | None = None,
    ) -> None:
        self.cognito = cognito
        self.pool_id = pool_id
        self.client_id = client_id
        self.username = username
        self.password = password
        self.secret = secret
        self.aws = aws_srp.AWSSRP(
            username, password, pool_id, client_id, client=cognito, client_secret=secret
        )

    @property
    def srp_a(self) -> str:
        return str(aws_srp.long_to_hex(self.aws.large_a_value))

    def initiate(self, *, admin: bool = False, **params: str) -> dict[str, Any]:
        """InitiateAuth (or AdminInitiateAuth) USER_SRP_AUTH; the whole response."""
        auth = {"USERNAME": self.username, "SRP_A": self.srp_a, **params}
        if self.secret is not None and "SECRET_HASH" not in params:
            auth["SECRET_HASH"] = secret_hash(self.secret, self.username, self.client_id)
        if admin:
            response: dict[str, Any] = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="USER_SRP_AUTH",
                AuthParameters=auth,
            )
        else:
            response = self.cognito.initiate_auth(
                ClientId=self.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth
            )
        return response

    def responses(
        self,
        parameters: dict[str, str],
        *,
        timestamp: str | None = None,
        signed_timestamp: str | None = None,
        password: str | None = None,
    ) -> dict[str, str]:
        """The PASSWORD_VERIFIER answer to `parameters`. `timestamp` is what is sent as
        TIMESTAMP, `signed_timestamp` what the signature covers (default: the same)."""
        sent = timestamp or cognito_timestamp(dt.datetime.now(dt.UTC))
        signed = signed_timestamp or sent
        user_id = parameters["USER_ID_FOR_SRP"]
        key = self.aws.get_password_authentication_key(
            user_id,
            password or self.password,
            aws_srp.hex_to_long(parameters["SRP_B"]),
            parameters["SALT"],
        )
        message = (
            self.pool_id.split("_")[1].encode()
            + user_id.encode()
            + base64.b64decode(parameters["SECRET_BLOCK"])
            + signed.encode()
        )
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        answer = {
            "USERNAME": parameters["USERNAME"],
            "TIMESTAMP": sent,
            "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }
        if self.secret is not None:
            answer["SECRET_HASH"] = secret_hash(self.secret, parameters["USERNAME"], self.client_id)
        return answer

    def respond(self, answer: dict[str, str], *, admin: bool = False) -> dict[str, Any]:
        if admin:
            response: dict[str, Any] = self.cognito.admin_respond_to_auth_challenge(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses=answer,
            )
        else:
            response = self.cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses=answer,
            )
        return response

    def run(self, *, admin: bool = False, **answer_options: Any) -> dict[str, Any]:
        """Both steps; the RespondToAuthChallenge response."""
        started = self.initiate(admin=admin)
        assert started["ChallengeName"] == "PASSWORD_VERIFIER", started
        answer = self.responses(started["ChallengeParameters"], **answer_options)
        return self.respond(answer, admin=admin)
