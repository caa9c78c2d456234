"""Hosted sign-in with steps: the password of /login, then whatever the API would ask.

The hosted pages drive the API's own sign-in machinery, so a page answers exactly as
InitiateAuth/RespondToAuthChallenge would: the password is checked by
`SignInSteps.password` (as USER_PASSWORD_AUTH, after the UserMigration trigger for an
unknown user and the PreAuthentication trigger, but without the client's
ExplicitAuthFlows or SECRET_HASH: the hosted UI needs neither), and each page's answer
goes through `RespondToAuthChallenge.respond` (with the SECRET_HASH
computed here for clients with a secret). Challenges served: NEW_PASSWORD_REQUIRED (with
the missing required attributes), SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE
and MFA_SETUP for TOTP (AssociateSoftwareToken and VerifySoftwareToken by session, then
the MFA_SETUP answer). A passkey sign-in starts as USER_AUTH with WEB_AUTHN would
(`SignInSteps.first_factor`), and the browser's assertion is the WEB_AUTHN answer.

Between pages the API's challenge Session (and the challenge's parameters) is kept in a
`HOSTED_STEP` row of auth_sessions, single use, as long as the client's
AuthSessionValidity; the browser carries only its opaque token in a hidden field. A
refused answer (wrong code, password the policy rejects) opens a new step with the same
state: the API session was given back for another try where Cognito allows one, and if it
was used up the next answer says so. When the API completes the sign-in, its tokens are
not handed out: the refresh token is revoked (so no stray session remains), and a hosted
session (HOSTED_SESSION) is opened for the user, as /login does without steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cognate import metrics
from cognate.api.errors import ServiceError
from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import auth_events
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.account import AccountService
from cognate.domain.auth.auth_triggers import AuthTriggers
from cognate.domain.auth.challenges import RespondToAuthChallenge
from cognate.domain.auth.context import find_sign_in_user, prevents_user_existence_errors
from cognate.domain.auth.flows import Migrate
from cognate.domain.auth.steps import SignInSteps
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.challenge_sessions import (
    INVALID_SESSION,
    ChallengeSessions,
    session_minutes,
)
from cognate.domain.client_auth import ClientScope, secret_hash
from cognate.domain.federation.cimd_clients import app_client_id
from cognate.domain.mfa_settings import MfaSettings
from cognate.domain.oauth import codes
from cognate.domain.oauth.hosted import HostedSignIn
from cognate.domain.passkeys import WEB_AUTHN
from cognate.domain.pool_settings import first_auth_factors
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo

HOSTED_STEP = "HOSTED_STEP"
HOSTED_UI = "HOSTED_UI"  # the login pages, as the sign-in metrics name their flow
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"
SELECT_MFA_TYPE = "SELECT_MFA_TYPE"
MFA_SETUP = "MFA_SETUP"
SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"
EMAIL_OTP = "EMAIL_OTP"
CODE_FIELDS = {
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
}
SERVED = frozenset({NEW_PASSWORD_REQUIRED, SELECT_MFA_TYPE, MFA_SETUP, WEB_AUTHN, *CODE_FIELDS})
SETTABLE = (SOFTWARE_TOKEN_MFA, EMAIL_OTP)
NO_PASSKEY = "This account cannot sign in with a passkey."
NEEDS_PHONE = (
    "Multi-factor authentication by text message is required, and this account has no "
    "phone number. Ask the application's administrator to add one, then sign in again."
)
ISSUER_NAME = "Cognate"


@dataclass(frozen=True, slots=True)
class Step:
    """A challenge for the next page: its name, the API's parameters, the page token."""

    name: str
    token: str
    username: str
    parameters: dict[str, str] = field(default_factory=dict)
    secret_code: str | None = None  # MFA_SETUP: the TOTP secret to add to an app
    setup: str | None = None  # MFA_SETUP: the factor being set up (None: choose one)

    def required_attributes(self) -> list[str]:
        raw = self.parameters.get("requiredAttributes") or "[]"
        return [n.removeprefix("userAttributes.") for n in json.loads(raw)]

    def choices(self) -> list[str]:
        if self.name == MFA_SETUP:
            return settable_factors(self.parameters)
        return list(json.loads(self.parameters.get("MFAS_CAN_CHOOSE") or "[]"))

    def otpauth_uri(self, issuer: str = ISSUER_NAME) -> str:
        """The otpauth:// URI authenticator apps read (Key URI Format)."""
        label = f"{quote(issuer)}:{quote(self.username)}"
        return f"otpauth://totp/{label}?secret={self.secret_code}&issuer={quote(issuer)}"


@dataclass(frozen=True, slots=True)
class Done:
    """The sign-in is complete: the value of the new hosted session cookie."""

    cookie: str


def settable_factors(parameters: dict[str, str]) -> list[str]:
    """The factors of MFAS_CAN_SETUP these pages can set up during sign-in."""
    offered = json.loads(parameters.get("MFAS_CAN_SETUP") or "[]")
    return [f for f in offered if f in SETTABLE]


def passkeys_allowed(scope: ClientScope) -> bool:
    """Whether the pool lets users sign in with a passkey (the /login page's button)."""
    return WEB_AUTHN in first_auth_factors(scope.pool.settings)


class StepNotSupported(Exception):
    """The sign-in needs a step the hosted pages do not serve (e.g. a custom challenge)."""


class StepRefused(Exception):
    """An answer was refused; `step` is the page to show again (None: start over;
    `expired`: because the step's session is gone)."""

    def __init__(self, message: str, step: Step | None, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.expired = expired


class HostedChallenges:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        challenges: ChallengeSessions,
        steps: SignInSteps,
        respond: RespondToAuthChallenge,
        mfa_settings: MfaSettings,
        access: AccessCheck,
        account: AccountService,
        auth_triggers: AuthTriggers,
        hosted: HostedSignIn,
        migrate: Migrate | None = None,
    ) -> None:
        self._db = db
        self._box = box
        self._challenges = challenges
        self._steps = steps
        self._respond = respond
        self._mfa_settings = mfa_settings
        self._access = access
        self._account = account
        self._auth_triggers = auth_triggers
        self._hosted = hosted
        self._migrate = migrate

    def start(
        self, scope: ClientScope, username: str, password: str, ip: str | None
    ) -> Step | Done:
        """The password of /login (ServiceError as the API would answer it)."""
        with metrics.sign_in_attempt(HOSTED_UI):  # cognate_sign_ins_total
            activity = Activity(ip=ip)
            found = find_sign_in_user(self._db, scope.pool, username)
            if found is None and self._migrate is not None:  # the UserMigration trigger
                found = self._migrate(scope, username, password, activity)
            auth_events.screen(scope, found, activity)  # threat protection's IP block list
            if found is not None or prevents_user_existence_errors(scope.client):
                self._auth_triggers.pre_authentication(scope, found, username, activity)
            result = self._steps.password(scope, found, password, activity)
            return self._next(scope, result, username)

    def start_passkey(self, scope: ClientScope, username: str, ip: str | None) -> Step:
        """USER_AUTH's WEB_AUTHN first factor for a username: the passkey step (its
        CREDENTIAL_REQUEST_OPTIONS for the browser)."""
        activity = Activity(ip=ip)
        found = find_sign_in_user(self._db, scope.pool, username)
        if found is not None or prevents_user_existence_errors(scope.client):
            self._auth_triggers.pre_authentication(scope, found, username, activity)
        if found is not None and WEB_AUTHN not in self._steps.available_factors(scope, found):
            raise StepRefused(NO_PASSKEY, None)
        result = self._steps.first_factor(scope, found, WEB_AUTHN)
        step = self._next(scope, result, username)
        assert isinstance(step, Step)
        return step

    def answer(
        self, scope: ClientScope, token: str | None, form: dict[str, str], ip: str | None
    ) -> Step | Done:
        """A page's answer: the next step, or Done; StepRefused with the page to show
        again (or None when the sign-in must start over)."""
        try:
            taken = self._challenges.take(codes.from_url(token), scope.client.pk)
        except NotAuthorizedException as exc:
            raise StepRefused(exc.message, None, expired=True) from None
        if taken.name != HOSTED_STEP:
            raise StepRefused(INVALID_SESSION, None, expired=True)
        state = taken.state
        name = str(state["name"])
        username = str(state["username"])
        session = str(state["session"])
        if name == MFA_SETUP and state.get("setup") is None:
            return self._choose_setup(scope, state, form.get("answer") or "")
        try:
            responses = self._responses(name, state, form)
            if name == MFA_SETUP and state.get("setup") == SOFTWARE_TOKEN_MFA:
                verified = self._mfa_settings.verify(
                    None, session, responses.pop("USER_CODE", ""), None
                )
                session = str(verified["Session"])
            responses["USERNAME"] = username
            hashed = self._secret_hash(scope, username)
            if hashed is not None:
                responses["SECRET_HASH"] = hashed
            with metrics.sign_in_attempt(HOSTED_UI):  # cognate_sign_ins_total
                result = self._respond.respond(
                    "",
                    {
                        "ClientId": app_client_id(scope),
                        "ChallengeName": name,
                        "ChallengeResponses": responses,
                        "Session": session,
                    },
                    admin=False,
                    activity=Activity(ip=ip),
                )
        except ServiceError as exc:
            again = self._open(scope, {**state, "session": session})
            raise StepRefused(exc.message, _step_of(again, state)) from None
        return self._next(scope, result, username)

    # ------------------------------------------------------------------ internals

    def _responses(self, name: str, state: dict[str, Any], form: dict[str, str]) -> dict[str, str]:
        code = (form.get("code") or "").strip()
        if name in CODE_FIELDS:
            return {CODE_FIELDS[name]: code}
        if name == MFA_SETUP and state.get("setup") == EMAIL_OTP:
            return {"EMAIL": (form.get("email") or "").strip()}
        if name == MFA_SETUP:
            return {"USER_CODE": code}
        if name == WEB_AUTHN:
            return {"CREDENTIAL": form.get("credential") or ""}
        if name == SELECT_MFA_TYPE:
            return {"ANSWER": form.get("answer") or ""}
        responses = {"NEW_PASSWORD": form.get("new_password") or ""}
        step = _step_of("", state)
        for attribute in step.required_attributes():
            value = (form.get(f"attr_{attribute}") or "").strip()
            if value:
                responses[f"userAttributes.{attribute}"] = value
        return responses

    def _next(self, scope: ClientScope, result: dict[str, Any], username: str) -> Step | Done:
        tokens = result.get("AuthenticationResult")
        if tokens is not None:
            return Done(self._finish(scope, tokens))
        name = str(result["ChallengeName"])
        parameters = {k: str(v) for k, v in (result.get("ChallengeParameters") or {}).items()}
        username = parameters.get("USERNAME") or parameters.get("USER_ID_FOR_SRP") or username
        if name not in SERVED:
            raise StepNotSupported(f"the {name} challenge")
        session = str(result["Session"])
        state: dict[str, Any] = {
            "name": name,
            "username": username,
            "parameters": parameters,
            "session": session,
        }
        if name == MFA_SETUP:
            settable = settable_factors(parameters)
            if not settable:
                raise StepRefused(NEEDS_PHONE, None)
            if len(settable) == 1:
                return self._choose_setup(scope, state, settable[0])
        return _step_of(self._open(scope, state), state)

    def _choose_setup(self, scope: ClientScope, state: dict[str, Any], factor: str) -> Step:
        """MFA_SETUP with a factor chosen: its set-up page (TOTP: a new secret)."""
        if factor not in settable_factors(state.get("parameters") or {}):
            again = self._open(scope, state)
            raise StepRefused(f"Invalid MFA type: {factor}", _step_of(again, state))
        state = {**state, "setup": factor}
        if factor == SOFTWARE_TOKEN_MFA:
            try:
                associated = self._mfa_settings.associate(None, str(state["session"]))
            except ServiceError as exc:
                raise StepRefused(exc.message, None) from None
            state["session"] = str(associated["Session"])
            state["secret_code"] = str(associated["SecretCode"])
        return _step_of(self._open(scope, state), state)

    def _finish(self, scope: ClientScope, tokens: dict[str, Any]) -> str:
        signed = self._access.signed_in(str(tokens["AccessToken"]))
        refresh = tokens.get("RefreshToken")
        if refresh:  # the code grant issues the tokens the client gets: drop these
            try:
                secret = self._client_secret(scope)
                self._account.revoke_token(app_client_id(scope), str(refresh), secret)
            except ServiceError:
                pass  # revocation disabled for the client: the session lapses on its own
        return self._hosted.open_session(scope, signed.context.user.pk)

    def _open(self, scope: ClientScope, state: dict[str, Any]) -> str:
        token = self._db.write(
            "open_hosted_step",
            lambda c: self._challenges.open(
                c,
                pool_pk=scope.pool.pool.pk,
                client_pk=scope.client.pk,
                user_pk=None,
                challenge=HOSTED_STEP,
                state=state,
                minutes=session_minutes(scope),
            ),
        )
        return codes.to_url(token)

    def _client_secret(self, scope: ClientScope) -> str | None:
        """The secret of the app client the API sees (behind a metadata document URL too:
        the pages act for it)."""
        rows = self._db.read("client_secrets", lambda c: clients_repo.secrets(c, scope.client.pk))
        if not rows:
            return None
        row = rows[-1]
        return self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")

    def _secret_hash(self, scope: ClientScope, username: str) -> str | None:
        secret = self._client_secret(scope)
        return None if secret is None else secret_hash(secret, username, app_client_id(scope))


def _step_of(token: str, state: dict[str, Any]) -> Step:
    return Step(
        name=str(state["name"]),
        token=token,
        username=str(state["username"]),
        parameters=dict(state.get("parameters") or {}),
        secret_code=state.get("secret_code"),
        setup=state.get("setup"),
    )
