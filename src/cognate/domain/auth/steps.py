"""The steps sign-in flows share: proving a password, starting SRP, the challenges that
follow a proven password (NEW_PASSWORD_REQUIRED), choice-based sign-in's menu and its
passwordless first factors, and completion.

`InitiateAuth` and `RespondToAuthChallenge` (flows.py, challenges.py) decide which step
comes next; the steps here do the work and return the operation's response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)
from cognate.domain import auth_events, messages
from cognate.domain.auth import srp_exchange
from cognate.domain.auth.completion import Completion
from cognate.domain.auth.context import SignInUser, prevents_user_existence_errors, unknown_user
from cognate.domain.auth.custom_auth import ISSUE_TOKENS
from cognate.domain.auth.device_auth import DeviceAuth, replaces_mfa
from cognate.domain.auth.mfa_challenge import SMS_OTP, MfaChallenges
from cognate.domain.auth.passkey_challenge import PasskeyChallenge, passkey_mfa
from cognate.domain.auth.password_check import NEW_PASSWORD_REQUIRED, PasswordCheck
from cognate.domain.auth.token_customization import AUTHENTICATION
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.mfa_preferences import EMAIL_OTP
from cognate.domain.passkeys import WEB_AUTHN
from cognate.domain.pool_settings import first_auth_factors
from cognate.domain.user_store import USER_NOT_FOUND, PasswordVault
from cognate.storage.db import Database
from cognate.storage.repos.users import UserRow

SELECT_CHALLENGE = "SELECT_CHALLENGE"
PASSWORD_FACTORS = ("PASSWORD", "PASSWORD_SRP")
PASSWORDLESS_CODES = {EMAIL_OTP: "email", SMS_OTP: "phone_number"}
PASSWORDLESS = (*PASSWORDLESS_CODES, WEB_AUTHN)


@dataclass(frozen=True, slots=True)
class StepDeps:
    db: Database
    vault: PasswordVault
    passwords: PasswordCheck
    challenges: ChallengeSessions
    completion: Completion
    simulation_key: bytes
    mfa: MfaChallenges
    device_auth: DeviceAuth
    passkeys: PasskeyChallenge


class SignInSteps:
    def __init__(self, deps: StepDeps) -> None:
        self._d = deps

    # ----------------------------------------------------------------- password proofs

    def password(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        password: str,
        activity: Activity,
        device_key: str | None = None,
    ) -> dict[str, Any]:
        """USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH's PASSWORD."""
        if found is None:
            raise unknown_user(scope.client)
        user = found.row
        self._d.passwords.before_password(user)
        with auth_events.password_attempt(scope, user, activity, password):
            self._d.passwords.check_password(scope.pool.pool.id, user, password)
        return self.after_password(scope, found, activity, device_key)

    def start_srp(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        username: str,
        srp_a: str,
        device_key: str | None = None,
        extra_state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """USER_SRP_AUTH (and USER_AUTH's PASSWORD_SRP, CUSTOM_AUTH's PASSWORD_VERIFIER): the
        PASSWORD_VERIFIER challenge; `extra_state` rides along in its session."""
        big_a = srp_exchange.parse_a(srp_a)
        pool = scope.pool.pool
        user_pk: int | None = None
        if found is None:
            if not prevents_user_existence_errors(scope.client):
                raise UserNotFoundException(USER_NOT_FOUND)
            exchange = srp_exchange.simulated(self._d.simulation_key, pool.id, username, big_a)
        else:
            user = found.row
            self._d.passwords.before_password(user)
            record = self._d.vault.open(user)
            if record is None:  # no password (e.g. a federated user): nothing can match
                raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
            exchange = srp_exchange.begin(
                user.username, int(record.salt, 16), int(record.verifier, 16), big_a
            )
            user_pk = user.pk
        state: dict[str, Any] = {**exchange.to_state(), "given": username, **(extra_state or {})}
        if device_key:
            state["device_key"] = device_key

        token = self._d.db.write(
            "start_srp",
            lambda c: self._d.challenges.open_step(
                c, scope, user_pk, srp_exchange.PASSWORD_VERIFIER, state
            ),
        )
        return {
            "ChallengeName": srp_exchange.PASSWORD_VERIFIER,
            "ChallengeParameters": srp_exchange.challenge_parameters(exchange, token),
        }

    # ----------------------------------------------------------------- after the password

    def after_password(
        self,
        scope: ClientScope,
        found: SignInUser,
        activity: Activity,
        device_key: str | None = None,
    ) -> dict[str, Any]:
        """The password is proven: a challenge the user still owes, or tokens."""
        if self._d.passwords.after_password(found.row) == NEW_PASSWORD_REQUIRED:
            return self.new_password_challenge(scope, found)
        return self.after_new_password(scope, found, activity, device_key)

    def after_new_password(
        self,
        scope: ClientScope,
        found: SignInUser,
        activity: Activity,
        device_key: str | None = None,
        source: str = AUTHENTICATION,
    ) -> dict[str, Any]:
        """The password step is done: the device proof or MFA challenge the user owes
        (a remembered device can stand in for MFA), or tokens (`source`: the
        PreTokenGeneration triggerSource when they come now)."""
        device = self._d.device_auth.device(found, device_key)
        confirmed = device is not None and device.confirmed
        if device is not None and confirmed and replaces_mfa(scope, device):
            return self._d.device_auth.challenge(scope, found, device)
        carry = {"device_key": device.device_key} if device is not None else {}
        verdict = auth_events.assess(scope, found, activity, known_device=confirmed)
        challenge = self._d.mfa.required(scope, found, carry, force=verdict.force_mfa)
        if challenge is not None:
            return challenge
        if verdict.require_mfa:  # account takeover risk, MFA_REQUIRED, no factor to ask for
            raise auth_events.refuse_without_mfa(scope, found)
        return self.after_mfa(scope, found, activity, device_key, source=source)

    def after_mfa(
        self,
        scope: ClientScope,
        found: SignInUser,
        activity: Activity,
        device_key: str | None,
        mfa_session: str | None = None,
        source: str = AUTHENTICATION,
    ) -> dict[str, Any]:
        """MFA is done (or was not needed): prove a confirmed device, or finish.
        `mfa_session` is the session the MFA answer came with, which the device step keeps."""
        device = self._d.device_auth.device(found, device_key)
        if device is not None and device.confirmed:
            return self._d.device_auth.challenge(scope, found, device, mfa_session)
        key = device.device_key if device is not None else None
        return self._d.completion.sign_in(
            scope, found, activity=activity, device_key=key, source=source
        )

    def new_password_challenge(self, scope: ClientScope, found: SignInUser) -> dict[str, Any]:
        user = found.row
        current = {k: v for k, v in found.attributes.items() if k != "sub"}
        missing = [n for n in scope.pool.schema.required() if not found.attributes.get(n)]
        token = self._open(scope, user.pk, NEW_PASSWORD_REQUIRED, {"username": user.username})
        return {
            "ChallengeName": NEW_PASSWORD_REQUIRED,
            "Session": token,
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": user.username,
                "requiredAttributes": _json([f"userAttributes.{n}" for n in missing]),
                "userAttributes": _json(current),
            },
        }

    # ----------------------------------------------------------------- custom sign-in

    def check_can_sign_in(self, found: SignInUser) -> None:
        """The user may try to sign in now (enabled, confirmed, not locked out)."""
        self._d.passwords.before_password(found.row)

    def custom_outcome(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        username: str,
        outcome: str | dict[str, Any],
        activity: Activity,
        custom: dict[str, Any],
    ) -> dict[str, Any]:
        """What a CUSTOM_AUTH round decided: a challenge to send, tokens, or the SRP password
        proof (with the SRP_A the sign-in started with; `custom` = history and SRP_A)."""
        if isinstance(outcome, dict):
            return outcome
        if outcome == ISSUE_TOKENS:
            assert found is not None
            self._d.passwords.before_password(found.row)
            return self._d.completion.sign_in(scope, found, activity=activity)
        srp_a = custom.get("srp_a")
        if not srp_a:
            raise InvalidParameterException(
                "DefineAuthChallenge asked for PASSWORD_VERIFIER, but the sign-in did not start "
                "with CHALLENGE_NAME SRP_A and an SRP_A."
            )
        return self.start_srp(scope, found, username, str(srp_a), extra_state={"custom": custom})

    # ----------------------------------------------------------------- choice-based sign-in

    def select_challenge(
        self, scope: ClientScope, found: SignInUser | None, username: str
    ) -> dict[str, Any]:
        """USER_AUTH without a usable preference: the menu of first factors."""
        if found is None and not prevents_user_existence_errors(scope.client):
            raise UserNotFoundException(USER_NOT_FOUND)
        state = {"username": username}
        token = self._open(scope, found.row.pk if found else None, SELECT_CHALLENGE, state)
        return {
            "ChallengeName": SELECT_CHALLENGE,
            "Session": token,
            "ChallengeParameters": {},
            "AvailableChallenges": list(self.available_factors(scope, found)),
        }

    def available_factors(self, scope: ClientScope, found: SignInUser | None) -> tuple[str, ...]:
        """First factors this user can sign in with under the pool's SignInPolicy: a password
        (PASSWORD, PASSWORD_SRP), a code sent to their verified email or phone (EMAIL_OTP,
        SMS_OTP: not in pools that require MFA), a passkey (WEB_AUTHN: where MFA is required,
        only when passkeys count as MFA for the user). Without a user (PreventUserExistence-
        Errors) every factor the pool allows is listed, so that nothing tells them apart."""
        settings = scope.pool.settings
        allowed = first_auth_factors(settings)
        mfa_required = settings.get("MfaConfiguration") == "ON"
        factors: list[str] = []
        if "PASSWORD" in allowed and (found is None or found.row.password_enc is not None):
            factors.extend(PASSWORD_FACTORS)
        for factor, attribute in PASSWORDLESS_CODES.items():
            if factor not in allowed or mfa_required:
                continue
            if found is None or found.attributes.get(f"{attribute}_verified") == "true":
                factors.append(factor)
        if WEB_AUTHN in allowed and (found is None or self._passkey_usable(scope, found)):
            factors.append(WEB_AUTHN)
        return tuple(factors)

    def _passkey_usable(self, scope: ClientScope, found: SignInUser) -> bool:
        settings = scope.pool.settings
        if settings.get("MfaConfiguration") == "ON" and not passkey_mfa(settings, found):
            return False
        return self._d.passkeys.has_passkeys(found.row.pk)

    def first_factor(
        self, scope: ClientScope, found: SignInUser | None, factor: str
    ) -> dict[str, Any]:
        """USER_AUTH's passwordless factors: send the EMAIL_OTP / SMS_OTP code, or ask for a
        passkey (WEB_AUTHN)."""
        if found is None:
            raise unknown_user(scope.client)
        self._d.passwords.before_password(found.row)
        if factor == WEB_AUTHN:
            return self._d.passkeys.challenge(scope, found)
        return self._d.mfa.challenge(scope, found, factor, {"first_factor": True})

    def _open(
        self, scope: ClientScope, user_pk: int | None, challenge: str, state: dict[str, Any]
    ) -> str:
        return self._d.db.write(
            "open_challenge",
            lambda c: self._d.challenges.open_step(c, scope, user_pk, challenge, state),
        )


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def require_user_row(found: SignInUser | None) -> UserRow:
    if found is None:
        raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
    return found.row
