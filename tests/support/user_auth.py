"""Helpers for the choice-based sign-in tests (USER_AUTH): a pool allowing every first
factor, passkey registration with the software authenticator (tests/support/authenticator.py)
and the USER_AUTH steps, by InitiateAuth or AdminInitiateAuth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.support.auth import new_client, new_user, sign_in
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.outbox import Message, read_outbox
from tests.support.server import CognateServer

ORIGIN = "http://localhost:3000"
ALL_FACTORS = ["PASSWORD", "WEB_AUTHN", "EMAIL_OTP", "SMS_OTP"]
CHOICE_FLOWS = ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
SMS_CONFIGURATION = {
    "SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms",
    "ExternalId": "cognate-tests",
}
PHONE = "+15555551234"
EMAIL = "alice@example.com"
VERIFIED_EMAIL = {"email": EMAIL, "email_verified": "true"}
VERIFIED_PHONE = {"phone_number": PHONE, "phone_number_verified": "true"}


def digits(count: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9])([0-9]{{{count}}})(?![0-9])")


@dataclass
class ChoicePool:
    """A pool whose SignInPolicy allows `factors`, with an app client allowing USER_AUTH and
    USER_PASSWORD_AUTH (no secret)."""

    server: CognateServer
    cognito: Any
    pool_id: str
    client_id: str

    def user(self, username: str = "alice", **attributes: str) -> str:
        return new_user(self.cognito, self.pool_id, username, attributes=attributes or None)

    def client(self) -> str:
        """Another app client of the pool, with the same flows."""
        client_id: str = new_client(self.cognito, self.pool_id, CHOICE_FLOWS)["ClientId"]
        return client_id

    def access_token(self, username: str = "alice", client_id: str | None = None) -> str:
        token: str = sign_in(self.cognito, client_id or self.client_id, username)["AccessToken"]
        return token

    # ------------------------------------------------------------------------- passkeys

    def creation_options(self, access_token: str) -> dict[str, Any]:
        started = self.cognito.start_web_authn_registration(AccessToken=access_token)
        options: dict[str, Any] = started["CredentialCreationOptions"]
        return options

    def register(
        self,
        authenticator: SoftwareAuthenticator,
        username: str = "alice",
        *,
        access_token: str | None = None,
        origin: str = ORIGIN,
    ) -> str:
        """A passkey made by `authenticator` for the user; its credential id."""
        token = access_token or self.access_token(username)
        credential = authenticator.create(self.creation_options(token), origin)
        self.cognito.complete_web_authn_registration(AccessToken=token, Credential=credential)
        credential_id: str = credential["id"]
        return credential_id

    # ------------------------------------------------------------------------- USER_AUTH

    def start(self, username: str = "alice", *, admin: bool = False, **params: str) -> Any:
        """(Admin)InitiateAuth USER_AUTH; the whole response."""
        request: dict[str, Any] = {
            "ClientId": self.client_id,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": {"USERNAME": username, **params},
        }
        if admin:
            return self.cognito.admin_initiate_auth(UserPoolId=self.pool_id, **request)
        return self.cognito.initiate_auth(**request)

    def answer(
        self,
        challenge: dict[str, Any],
        username: str = "alice",
        *,
        admin: bool = False,
        name: str | None = None,
        **responses: str,
    ) -> Any:
        """(Admin)RespondToAuthChallenge to `challenge` (as `name` when given)."""
        request: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": name or challenge["ChallengeName"],
            "Session": challenge["Session"],
            "ChallengeResponses": {"USERNAME": username, **responses},
        }
        if admin:
            return self.cognito.admin_respond_to_auth_challenge(UserPoolId=self.pool_id, **request)
        return self.cognito.respond_to_auth_challenge(**request)

    def select(
        self, factor: str, username: str = "alice", *, admin: bool = False, **responses: str
    ) -> Any:
        """USER_AUTH's menu, answered with `factor`; the response to the answer."""
        menu = self.start(username, admin=admin)
        assert menu["ChallengeName"] == "SELECT_CHALLENGE", menu
        assert factor in menu["AvailableChallenges"], menu
        return self.answer(menu, username, admin=admin, ANSWER=factor, **responses)

    def available(self, username: str = "alice") -> list[str]:
        menu = self.start(username)
        assert menu["ChallengeName"] == "SELECT_CHALLENGE", menu
        factors: list[str] = menu["AvailableChallenges"]
        return factors

    def passkey_answer(
        self,
        challenge: dict[str, Any],
        authenticator: SoftwareAuthenticator,
        username: str = "alice",
        *,
        admin: bool = False,
        origin: str = ORIGIN,
    ) -> Any:
        """The WEB_AUTHN challenge answered by `authenticator`."""
        assertion = authenticator.get(request_options(challenge), origin)
        return self.answer(challenge, username, admin=admin, CREDENTIAL=json.dumps(assertion))

    # ------------------------------------------------------------------------- codes

    def codes(self, username: str = "alice") -> list[Message]:
        """The sign-in codes the server queued for a user, oldest first."""
        return [
            m
            for m in read_outbox(self.server, self.pool_id)
            if m.username == username and m.kind == "sign_in_code"
        ]

    def last_code(self, username: str = "alice", length: int = 8) -> str:
        messages = self.codes(username)
        assert messages, f"no sign-in code was sent to {username}"
        found = digits(length).search(messages[-1].body)
        assert found is not None, messages[-1].body
        return found.group(1)


def choice_pool(
    server: CognateServer,
    cognito: Any,
    factors: list[str] | None = None,
    **pool: Any,
) -> ChoicePool:
    """A pool allowing `factors` (all four by default) as first factors, able to send SMS."""
    pool.setdefault("SmsConfiguration", SMS_CONFIGURATION)
    pool_id: str = cognito.create_user_pool(
        PoolName="choice",
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": factors or ALL_FACTORS}},
        **pool,
    )["UserPool"]["Id"]
    client_id: str = new_client(cognito, pool_id, CHOICE_FLOWS)["ClientId"]
    return ChoicePool(server, cognito, pool_id, client_id)


def request_options(challenge: dict[str, Any]) -> dict[str, Any]:
    """The PublicKeyCredentialRequestOptionsJSON of a WEB_AUTHN challenge."""
    assert challenge.get("ChallengeName") == "WEB_AUTHN", challenge
    options: dict[str, Any] = json.loads(
        challenge["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
    )
    return options
