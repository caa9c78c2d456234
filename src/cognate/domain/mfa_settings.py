"""Setting up MFA: TOTP authenticators (AssociateSoftwareToken, VerifySoftwareToken,
AdminDeleteSoftwareToken) and factor preferences (SetUserMFAPreference,
AdminSetUserMFAPreference, and the legacy SetUserSettings / AdminSetUserSettings).

TOTP is RFC 6238 (SHA-1, 6 digits, 30-second steps) with pyotp; a code is accepted for
the current step or the one before or after it, and each step once (a code is not
accepted twice). A secret is 32 base32 characters, sealed in the database; associating
a new one un-verifies the old one (as Cognito does) until the new one is verified. Association
can be authorized by an access token, or, during sign-in, by the session of an MFA_SETUP
challenge (then each call answers a new session for the next step, and a mistyped code
leaves the session it came with usable for another try).
"""

from __future__ import annotations

import hmac
from typing import Any

import pyotp
from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    EnableSoftwareTokenMFAException,
    InvalidParameterException,
    NotAuthorizedException,
    SoftwareTokenMFANotFoundException,
)
from cognate.domain import mfa_preferences as prefs
from cognate.domain.auth.access import AccessCheck
from cognate.domain.challenge_sessions import INVALID_SESSION, ChallengeSessions
from cognate.domain.clock import Clock
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import load_scope, require_user
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import software_tokens as tokens_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

MFA_SETUP = "MFA_SETUP"
TOTP_NOT_ENABLED = "Software Token MFA has not been enabled by the userPool"
CODE_MISMATCH = "Code mismatch and fail enable Software Token MFA"  # observed
STEP_SECONDS = 30


def matching_step(secret: str, code: str, now_ms: int, window: int = 1) -> int | None:
    """The time step whose code `code` is (within `window` steps of now), or None."""
    totp = pyotp.TOTP(secret)
    step = now_ms // 1000 // STEP_SECONDS
    for candidate in range(step - window, step + window + 1):
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS).encode(), code.encode()):
            return candidate
    return None


class MfaSettings:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        access: AccessCheck,
        challenges: ChallengeSessions,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._access = access
        self._challenges = challenges

    # ------------------------------------------------------------------ TOTP

    def associate(self, access_token: str | None, session: str | None) -> dict[str, Any]:
        user, pool_settings, next_session = self._who(access_token, session)
        if not (pool_settings.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled"):
            raise SoftwareTokenMFANotFoundException(TOTP_NOT_ENABLED)
        secret = pyotp.random_base32(32)
        sealed = self._box.seal(secret, f"totp/{user.sub}")
        now = self._clock.now_ms()
        self._db.write(
            "associate_software_token",
            lambda c: tokens_repo.set_pending(c, user.pk, sealed, now),
        )
        result: dict[str, Any] = {"SecretCode": secret}
        if next_session is not None:
            result["Session"] = next_session({})
        return result

    def verify(
        self,
        access_token: str | None,
        session: str | None,
        code: str,
        friendly_name: str | None,
    ) -> dict[str, Any]:
        user, pool_settings, next_session = self._who(access_token, session)
        if not (pool_settings.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled"):
            raise SoftwareTokenMFANotFoundException(TOTP_NOT_ENABLED)
        now = self._clock.now_ms()

        def verify_txn(conn: Connection) -> bool:
            token = tokens_repo.get(conn, user.pk, for_update=True)
            if token is None or token.pending_secret_enc is None:
                raise SoftwareTokenMFANotFoundException(
                    "No software token has been associated with the user."
                )
            secret = self._box.open(token.pending_secret_enc, f"totp/{user.sub}")
            step = matching_step(secret, code, now)
            if step is None:
                return False
            tokens_repo.promote(conn, user.pk, friendly_name, step, now)
            return True

        if not self._db.write("verify_software_token", verify_txn):
            if session is not None:  # a mistyped code: the sign-in can try again
                self._challenges.release(session)
            raise EnableSoftwareTokenMFAException(CODE_MISMATCH)
        result: dict[str, Any] = {"Status": "SUCCESS"}
        if next_session is not None:
            result["Session"] = next_session({"totp_verified": True})
        return result

    def admin_delete_token(self, region: str, pool_id: str, username: str) -> None:
        def delete_txn(conn: Connection) -> None:
            user = require_user(conn, load_scope(conn, region, pool_id), username, for_update=True)
            tokens_repo.delete(conn, user.pk)
            record = prefs.preferences(user)
            if prefs.SOFTWARE_TOKEN_MFA in record:
                prefs.apply(record, prefs.SOFTWARE_TOKEN_MFA, False, False)
                users_repo.update(conn, user.pk, mfa=prefs.encode(record))

        self._db.write("admin_delete_software_token", delete_txn)

    def admin_token_status(self, region: str, pool_id: str, username: str) -> dict[str, Any]:
        """Whether a user has a verified TOTP authenticator (`configured`, with its
        `name`) and one associated but not verified yet (`pending`): the admin console's
        view, which no API operation gives."""

        def read(conn: Connection) -> dict[str, Any]:
            user = require_user(conn, load_scope(conn, region, pool_id), username)
            token = tokens_repo.get(conn, user.pk)
            if token is None:
                return {"configured": False, "pending": False, "name": None}
            return {
                "configured": token.secret_enc is not None,
                "pending": token.pending_secret_enc is not None,
                "name": token.friendly_name,
            }

        return self._db.read("admin_software_token_status", read)

    # ------------------------------------------------------------------ preferences

    def set_preference(self, access_token: str, request: dict[str, Any]) -> None:
        user = self._access.signed_in(access_token).context.user
        self._set_preference(user.pk, request)

    def admin_set_preference(self, region: str, request: dict[str, Any]) -> None:
        user = self._db.read(
            "admin_mfa_user",
            lambda c: require_user(
                c, load_scope(c, region, request["UserPoolId"]), request["Username"]
            ),
        )
        self._set_preference(user.pk, request)

    def set_settings(self, access_token: str, options: list[dict[str, Any]]) -> None:
        user = self._access.signed_in(access_token).context.user
        self._set_options(user.pk, options)

    def admin_set_settings(
        self, region: str, pool_id: str, username: str, options: list[dict[str, Any]]
    ) -> None:
        user = self._db.read(
            "admin_mfa_user",
            lambda c: require_user(c, load_scope(c, region, pool_id), username),
        )
        self._set_options(user.pk, options)

    def _set_preference(self, user_pk: int, request: dict[str, Any]) -> None:
        def set_txn(conn: Connection) -> None:
            user, settings, attributes = self._locked(conn, user_pk)
            record = prefs.preferences(user)
            for member, factor in prefs.SETTINGS_MEMBER.items():
                given = request.get(member)
                if given is None:
                    continue
                enabled, preferred = given.get("Enabled"), given.get("PreferredMfa")
                if enabled or preferred:
                    self._check_can_enable(conn, user, settings, attributes, factor)
                prefs.apply(record, factor, enabled, preferred)
            webauthn = request.get("WebAuthnMfaSettings")
            if webauthn is not None and webauthn.get("Enabled") is not None:
                prefs.set_webauthn_mfa(record, bool(webauthn["Enabled"]))
            users_repo.update(
                conn, user.pk, mfa=prefs.encode(record), updated_at=self._clock.now_ms()
            )

        self._db.write("set_user_mfa_preference", set_txn)

    def _set_options(self, user_pk: int, options: list[dict[str, Any]]) -> None:
        def set_txn(conn: Connection) -> None:
            user, settings, attributes = self._locked(conn, user_pk)
            record = prefs.preferences(user)
            if options:
                self._check_can_enable(conn, user, settings, attributes, prefs.SMS_MFA)
                record["MFAOptions"] = [
                    {
                        "DeliveryMedium": o.get("DeliveryMedium", "SMS"),
                        "AttributeName": o.get("AttributeName", "phone_number"),
                    }
                    for o in options
                ]
            else:
                record.pop("MFAOptions", None)
            users_repo.update(
                conn, user.pk, mfa=prefs.encode(record), updated_at=self._clock.now_ms()
            )

        self._db.write("set_user_settings", set_txn)

    def _check_can_enable(
        self,
        conn: Connection,
        user: UserRow,
        settings: dict[str, Any],
        attributes: dict[str, str],
        factor: str,
    ) -> None:
        if factor == prefs.SOFTWARE_TOKEN_MFA:
            token = tokens_repo.get(conn, user.pk)
            if token is None:
                raise InvalidParameterException("User has not set up software token mfa")
            if token.secret_enc is None:
                raise InvalidParameterException("User has not verified software token mfa")
        elif factor == prefs.SMS_MFA:
            if not attributes.get("phone_number"):
                raise InvalidParameterException(
                    "User does not have a phone_number set to turn on SMS MFA"
                )
        elif factor == prefs.EMAIL_OTP:
            if prefs.EMAIL_OTP not in prefs.pool_factors(settings):
                raise InvalidParameterException(
                    "Email MFA is not enabled for the user pool (EmailMfaConfiguration)."
                )
            if not attributes.get("email"):
                raise InvalidParameterException(
                    "User does not have delivery config set to turn on EMAIL_OTP"
                )

    def _locked(
        self, conn: Connection, user_pk: int
    ) -> tuple[UserRow, dict[str, Any], dict[str, str]]:
        user = users_repo.by_pk(conn, user_pk, for_update=True)
        if user is None:
            raise NotAuthorizedException(INVALID_SESSION)
        pool = pools_repo.by_pk(conn, user.pool_pk)
        assert pool is not None
        return user, pool.settings, users_repo.attributes(conn, user.pk)

    # ------------------------------------------------------------------ helpers

    def _who(
        self, access_token: str | None, session: str | None
    ) -> tuple[UserRow, dict[str, Any], Any]:
        """The user an AccessToken or an MFA_SETUP Session stands for (exactly one of them),
        their pool's settings, and for a session a function opening the next one."""
        if (access_token is None) == (session is None):
            raise InvalidParameterException("Exactly one of AccessToken and Session must be given.")
        if access_token is not None:
            context = self._access.signed_in(access_token).context
            pool = self._db.read("mfa_pool", lambda c: pools_repo.by_pk(c, context.user.pool_pk))
            assert pool is not None
            return context.user, pool.settings, None
        challenge = self._challenges.take(session, None)
        if challenge.name != MFA_SETUP or challenge.user_pk is None:
            raise NotAuthorizedException(INVALID_SESSION)
        user_pk = challenge.user_pk

        def read(conn: Connection) -> tuple[UserRow | None, Any]:
            return users_repo.by_pk(conn, user_pk), pools_repo.by_pk(conn, challenge.pool_pk)

        user, pool = self._db.read("mfa_setup_user", read)
        if user is None or pool is None:
            raise NotAuthorizedException(INVALID_SESSION)

        def next_session(extra: dict[str, Any]) -> str:
            state = {**challenge.state, **extra}
            return self._db.write(
                "mfa_setup_session",
                lambda c: self._challenges.open(
                    c,
                    pool_pk=challenge.pool_pk,
                    client_pk=challenge.client_pk,
                    user_pk=user_pk,
                    challenge=MFA_SETUP,
                    state=state,
                    minutes=int(state.get("minutes", 3)),
                ),
            )

        return user, pool.settings, next_session
