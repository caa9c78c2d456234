"""Helpers for the MFA tests: pools offering SMS, TOTP and email MFA, an authenticator app
(pyotp) whose codes follow the server's shifted clock, and the codes the server sent.

A server accepts each TOTP time step once, so `Authenticator.code()` moves the server's
clock (tests/support/clock.py) one 30-second step forward before computing a code: every
code it gives belongs to a step not used before, with no sleeping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyotp

from tests.support.auth import (
    PASSWORD,
    Srp,
    claims,
    new_client,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.clock import ShiftedClock
from tests.support.outbox import Message, read_outbox
from tests.support.server import CognateServer

SMS_CONFIGURATION = {
    "SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms",
    "ExternalId": "cognate-tests",
}
DEVELOPER_EMAIL = {
    "EmailSendingAccount": "DEVELOPER",
    "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/no-reply@example.com",
    "From": "no-reply@example.com",
}
EMAIL_MFA = {"Message": "Your sign-in code: {####}", "Subject": "Sign-in code"}
BASE32 = re.compile(r"[A-Z2-7]{32}")
SIX_DIGITS = re.compile(r"\b([0-9]{6})\b")
STEP = 30
# The password flows an MFA challenge can follow: public, SRP, and the administrator's.
FLOWS = ["USER_PASSWORD_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH"]


@dataclass
class MfaPool:
    """A pool with MFA configured, an app client allowing every password flow (no secret)."""

    server: CognateServer
    cognito: Any
    pool_id: str
    client_id: str

    def user(self, username: str = "alice", **attributes: str) -> str:
        return new_user(self.cognito, self.pool_id, username, attributes=attributes or None)

    def access_token(self, username: str = "alice") -> str:
        """A password sign-in that must end with tokens (no MFA due); its access token."""
        token: str = sign_in(self.cognito, self.client_id, username)["AccessToken"]
        return token

    def start(self, flow: str = "USER_PASSWORD_AUTH", username: str = "alice") -> dict[str, Any]:
        """The password step of a sign-in by `flow` (SRP answered by pycognito); the
        response that follows it (an MFA challenge, or tokens)."""
        if flow == "USER_SRP_AUTH":
            return Srp(self.cognito, self.pool_id, self.client_id, username).run()
        if flow == "ADMIN_USER_PASSWORD_AUTH":
            response: dict[str, Any] = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow=flow,
                AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
            )
            return response
        return password_auth(self.cognito, self.client_id, username)

    def answer(
        self,
        challenge: dict[str, Any],
        flow: str = "USER_PASSWORD_AUTH",
        username: str = "alice",
        **responses: str,
    ) -> dict[str, Any]:
        """(Admin)RespondToAuthChallenge to `challenge` (admin for the admin flow)."""
        request: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": challenge["ChallengeName"],
            "Session": challenge["Session"],
            "ChallengeResponses": {"USERNAME": username, **responses},
        }
        if flow.startswith("ADMIN_"):
            response: dict[str, Any] = self.cognito.admin_respond_to_auth_challenge(
                UserPoolId=self.pool_id, **request
            )
        else:
            response = self.cognito.respond_to_auth_challenge(**request)
        return response

    def codes(self, username: str = "alice") -> list[Message]:
        """The sign-in codes the server queued for a user, oldest first."""
        return [
            m
            for m in read_outbox(self.server, self.pool_id)
            if m.username == username and m.kind == "sign_in_code"
        ]

    def last_code(self, username: str = "alice") -> str:
        messages = self.codes(username)
        assert messages, f"no sign-in code was sent to {username}"
        found = SIX_DIGITS.search(messages[-1].body)
        assert found is not None, messages[-1].body
        return found.group(1)


def mfa_pool(
    server: CognateServer,
    cognito: Any,
    mode: str = "OPTIONAL",
    *,
    sms: bool = False,
    totp: bool = True,
    email: bool = False,
    **pool: Any,
) -> MfaPool:
    """A pool whose MfaConfiguration is `mode` with the factors asked for (email MFA on the
    Essentials tier, sending from a DEVELOPER SES identity as Cognito requires)."""
    if sms:
        pool.setdefault("SmsConfiguration", SMS_CONFIGURATION)
    if email:
        pool.setdefault("EmailConfiguration", DEVELOPER_EMAIL)
        pool.setdefault("UserPoolTier", "ESSENTIALS")
    pool_id: str = cognito.create_user_pool(PoolName="mfa", **pool)["UserPool"]["Id"]
    config: dict[str, Any] = {}
    if sms:
        config["SmsMfaConfiguration"] = {"SmsAuthenticationMessage": "Your code is {####}"}
    if totp:
        config["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
    if email:
        config["EmailMfaConfiguration"] = EMAIL_MFA
    if config:
        cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mode, **config)
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return MfaPool(server, cognito, pool_id, client_id)


@dataclass
class Authenticator:
    """An authenticator app holding one secret; codes are computed at the server's time."""

    secret: str
    clock: ShiftedClock
    totp: pyotp.TOTP = field(init=False)

    def __post_init__(self) -> None:
        self.totp = pyotp.TOTP(self.secret)

    def code(self) -> str:
        """A code of a step no earlier code used: the server's clock moves a step first."""
        self.clock.shift(seconds=STEP)
        return self.at(0)

    def at(self, steps: int) -> str:
        """The code `steps` time steps away from the server's now (no clock move)."""
        when = self.clock.now().timestamp() + steps * STEP
        return str(self.totp.at(int(when)))


def set_up_totp(
    cognito: Any,
    access_token: str,
    clock: ShiftedClock,
    *,
    name: str | None = None,
    prefer: bool = True,
) -> Authenticator:
    """AssociateSoftwareToken and VerifySoftwareToken with an access token; then (with
    `prefer`) SetUserMFAPreference making TOTP the enabled, preferred factor."""
    secret = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    app = Authenticator(secret, clock)
    named = {"FriendlyDeviceName": name} if name is not None else {}
    verified = cognito.verify_software_token(AccessToken=access_token, UserCode=app.code(), **named)
    assert verified["Status"] == "SUCCESS", verified
    if prefer:
        cognito.set_user_mfa_preference(
            AccessToken=access_token,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
    return app


def assert_tokens(response: dict[str, Any], client_id: str, username: str = "alice") -> None:
    """A sign-in that ended with tokens for this user and client, and no further step."""
    assert "ChallengeName" not in response, response
    assert response["ChallengeParameters"] == {}
    assert "Session" not in response
    access = claims(response["AuthenticationResult"]["AccessToken"])
    assert (access["username"], access["client_id"]) == (username, client_id)


def challenge_of(response: dict[str, Any], name: str) -> dict[str, str]:
    """The ChallengeParameters of a response that must be the challenge `name`."""
    assert response.get("ChallengeName") == name, response
    assert "AuthenticationResult" not in response
    assert response["Session"]
    parameters: dict[str, str] = response["ChallengeParameters"]
    return parameters
