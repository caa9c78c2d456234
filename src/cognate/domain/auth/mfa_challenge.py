"""The MFA step of sign-in: which challenge follows a proven password, and its answer.

With the pool's MfaConfiguration OFF there is none. Otherwise the user's enabled factors
that the pool offers decide: the preferred one, the only one, or SELECT_MFA_TYPE to choose
(MFAS_CAN_CHOOSE). A pool with MFA ON treats a user with no preferences as having SMS MFA
when they have a phone number and email MFA when they have an email address, where the pool
offers that factor (Cognito's default for SMS; for email, the developer guide's "SMS and
email message MFA require no additional configuration after your user adds an email address
or phone number"; with both, SELECT_MFA_TYPE). A user with no factor at all gets MFA_SETUP
(MFAS_CAN_SETUP: the factors the pool offers that need no prior set-up), answered after
AssociateSoftwareToken / VerifySoftwareToken on the challenge's session, or with an email
address to set email MFA up (mfa_setup.py). In an OPTIONAL pool, users without a factor
sign in without MFA.

SMS_MFA and EMAIL_OTP send a six-digit code through the outbox (the pool's
SmsAuthenticationMessage / EmailMfaConfiguration, or Cognito's defaults, or what the pool's
CustomMessage trigger writes, or through its custom sender trigger); only its hash is
kept, in the challenge session; the right code marks the phone number or email address it
went to verified (as Cognito documents). SOFTWARE_TOKEN_MFA checks the user's authenticator,
each time step once (TOTP counts as enabled only while the user has a verified authenticator:
a new association is unusable until it is verified). A wrong code is CodeMismatchException
"Invalid code or auth state for the user." and the same session can be answered again (as
Cognito allows), up to five wrong codes; after the fifth the session is spent.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    CodeMismatchException,
    InvalidParameterException,
    SoftwareTokenMFANotFoundException,
)
from cognate.domain import mfa_preferences as prefs
from cognate.domain.auth.context import SignInUser
from cognate.domain.challenge_sessions import Challenge, ChallengeSessions, session_minutes
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.custom_messages import AUTHENTICATION, MessageContext
from cognate.domain.mfa_settings import MFA_SETUP, matching_step
from cognate.domain.notifications import EMAIL, SMS, Notifier, Recipient, mask_destination
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import scope_of, write_attributes
from cognate.domain.usernames import EMAIL as EMAIL_ATTRIBUTE
from cognate.domain.usernames import PHONE, VERIFIED_FLAG
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import software_tokens as tokens_repo
from cognate.storage.repos import users as users_repo

SELECT_MFA_TYPE = "SELECT_MFA_TYPE"
SMS_OTP = "SMS_OTP"  # USER_AUTH's passwordless SMS first factor
MFA_CHALLENGES = (prefs.SMS_MFA, prefs.SOFTWARE_TOKEN_MFA, prefs.EMAIL_OTP)
CODE_CHALLENGES = (*MFA_CHALLENGES, SMS_OTP)
PASSWORDLESS_EMAIL_DIGITS = 8
CODE_MISMATCH = "Invalid code or auth state for the user."  # observed
MAX_WRONG_CODES = 5  # per challenge session (Cognito limits attempts; its number is not public)
_RESPONSE_KEY = {
    prefs.SMS_MFA: "SMS_MFA_CODE",
    prefs.SOFTWARE_TOKEN_MFA: "SOFTWARE_TOKEN_MFA_CODE",
    prefs.EMAIL_OTP: "EMAIL_OTP_CODE",
    SMS_OTP: "SMS_OTP_CODE",
}
# The factors a user has without setting anything up where MFA is required, and the
# attribute each sends its codes to.
_ADDRESSED_BY = {prefs.SMS_MFA: "phone_number", prefs.EMAIL_OTP: "email"}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class MfaChallenges:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        notifier: Notifier,
        challenges: ChallengeSessions,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._notifier = notifier
        self._challenges = challenges

    # ------------------------------------------------------------------ deciding

    def required(
        self,
        scope: ClientScope,
        found: SignInUser,
        carry: dict[str, Any] | None = None,
        *,
        force: bool = False,
    ) -> dict[str, Any] | None:
        """The MFA challenge this sign-in owes, or None when it needs none. `carry` goes into
        the challenge's session (e.g. the device the sign-in named). `force` (threat
        protection's MFA_IF_CONFIGURED / MFA_REQUIRED): ask for MFA as a pool that requires
        it would, if the user has a factor the pool offers (never MFA_SETUP)."""
        carry = carry or {}
        settings = scope.pool.settings
        mode = settings.get("MfaConfiguration", "OFF")
        if mode == "OFF":
            return None
        if force and mode != "ON":
            mode = "FORCED"
        offered = prefs.pool_factors(settings)
        record = prefs.preferences(found.row)
        enabled = [f for f in prefs.enabled_factors(record) if f in offered]
        if prefs.SOFTWARE_TOKEN_MFA in enabled and not self._has_authenticator(found):
            # associated again and not verified yet: TOTP is unusable until it is
            enabled.remove(prefs.SOFTWARE_TOKEN_MFA)
        if not enabled and mode in ("ON", "FORCED"):
            # MFA required: a phone number is SMS MFA, an email address email MFA
            enabled = [
                f for f, a in _ADDRESSED_BY.items() if f in offered and found.attributes.get(a)
            ]
        if not enabled:
            if mode != "ON":
                return None
            can_setup = [f for f in offered if f != prefs.SMS_MFA] or offered
            parameters = {"MFAS_CAN_SETUP": _json(can_setup)}
            return self._open(
                scope, found, MFA_SETUP, parameters, {"can_setup": can_setup, **carry}
            )
        preferred = prefs.preferred_factor(record)
        if preferred is not None and preferred in enabled:
            return self.challenge(scope, found, preferred, carry)
        if len(enabled) == 1:
            return self.challenge(scope, found, enabled[0], carry)
        parameters = {"MFAS_CAN_CHOOSE": _json(enabled)}
        return self._open(scope, found, SELECT_MFA_TYPE, parameters, {"can": enabled, **carry})

    def challenge(
        self,
        scope: ClientScope,
        found: SignInUser,
        factor: str,
        carry: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Issue the challenge of one factor (sending its code where it has one)."""
        carry = carry or {}
        if factor == prefs.SOFTWARE_TOKEN_MFA:
            name = self._db.read("totp_name", lambda c: tokens_repo.get(c, found.row.pk))
            if name is None or name.secret_enc is None:
                raise SoftwareTokenMFANotFoundException(
                    "Software Token MFA does not exist for the user."
                )
            parameters = {"FRIENDLY_DEVICE_NAME": name.friendly_name or ""}
            return self._open(scope, found, factor, parameters, carry)
        sms = factor in (prefs.SMS_MFA, SMS_OTP)
        channel, attribute = (SMS, "phone_number") if sms else (EMAIL, "email")
        digits = PASSWORDLESS_EMAIL_DIGITS if carry.get("first_factor") and not sms else 6
        destination = found.attributes.get(attribute)
        if not destination:
            raise InvalidParameterException(
                f"The user has no {attribute} to send the {factor} code to."
            )
        now = self._clock.now_ms()
        user = found.row
        holder: dict[str, str] = {}

        def send_and_open(conn: Connection) -> str:
            holder["hash"] = self._notifier.send_sign_in_code(
                conn,
                Recipient(scope.pool.pool.pk, user.pk, user.username),
                scope.pool.settings,
                channel=channel,
                destination=destination,
                now=now,
                digits=digits,
            )
            state = {"code_hash": holder["hash"], **carry}
            return self._session(conn, scope, found, factor, state)

        # A CustomMessage trigger writes it (CustomMessage_Authentication; InitiateAuth and
        # RespondToAuthChallenge hand ClientMetadata to other triggers only).
        context = MessageContext(AUTHENTICATION, scope.client.client_id)
        session = self._notifier.write(self._db, "mfa_code", send_and_open, context)
        return {
            "ChallengeName": factor,
            "Session": session,
            "ChallengeParameters": {
                "CODE_DELIVERY_DELIVERY_MEDIUM": channel,
                # all but the last four digits masked, as Cognito documents and answers
                "CODE_DELIVERY_DESTINATION": mask_destination(channel, destination),
                "USER_ID_FOR_SRP": user.username,
            },
        }

    def _has_authenticator(self, found: SignInUser) -> bool:
        """Whether the user has a verified TOTP authenticator."""
        token = self._db.read("totp_exists", lambda c: tokens_repo.get(c, found.row.pk))
        return token is not None and token.secret_enc is not None

    # ------------------------------------------------------------------ answering

    def check_code(
        self, challenge: Challenge, found: SignInUser, responses: dict[str, str]
    ) -> bool:
        """Whether the answer to an SMS_MFA, EMAIL_OTP, SMS_OTP or SOFTWARE_TOKEN_MFA challenge
        is right."""
        key = _RESPONSE_KEY[challenge.name]
        code = responses.get(key)
        if not code:
            raise InvalidParameterException(f"Missing required parameter {key}")
        user = found.row
        if challenge.name == prefs.SOFTWARE_TOKEN_MFA:
            now = self._clock.now_ms()

            def check_totp(conn: Connection) -> bool:
                token = tokens_repo.get(conn, user.pk, for_update=True)
                if token is None or token.secret_enc is None:
                    return False
                secret = self._box.open(token.secret_enc, f"totp/{user.sub}")
                step = matching_step(secret, code, now)
                return step is not None and tokens_repo.use_step(conn, user.pk, step)

            return bool(self._db.write("totp_check", check_totp))
        expected = str(challenge.state.get("code_hash", ""))
        presented = self._notifier.code_hash(user.pk, "sign_in", code)
        if not hmac.compare_digest(expected, presented):
            return False
        if "setup_email" not in challenge.state:  # email MFA set-up verifies its own address
            self._mark_verified(challenge, found)
        return True

    def _mark_verified(self, challenge: Challenge, found: SignInUser) -> None:
        """A code that reached the user proves the phone number (SMS) or email address it
        went to: Cognito marks it verified (moving an alias held by another user, as
        VerifyUserAttribute does)."""
        attribute = PHONE if challenge.name in (prefs.SMS_MFA, SMS_OTP) else EMAIL_ATTRIBUTE
        flag = VERIFIED_FLAG[attribute]
        if found.attributes.get(flag) == "true":
            return
        user_pk = found.row.pk

        def mark(conn: Connection) -> None:
            pool = pools_repo.by_pk(conn, challenge.pool_pk)
            old = users_repo.attributes(conn, user_pk)
            if pool is None or not old.get(attribute) or old.get(flag) == "true":
                return
            new = {**old, flag: "true"}
            write_attributes(
                conn, scope_of(pool), user_pk, old, new, creating=False, force_alias=True
            )

        self._db.write("mfa_verifies_attribute", mark)

    def wrong_code(
        self, scope: ClientScope, challenge: Challenge, session: str
    ) -> CodeMismatchException:
        """A wrong code: the session stays usable for another try, up to MAX_WRONG_CODES
        wrong codes in all; after the last the session is spent (a new sign-in sends a new
        code)."""
        wrong = int(challenge.state.get("wrong", 0)) + 1
        if wrong < MAX_WRONG_CODES:
            state = {**challenge.state, "wrong": wrong}
            self._db.write(
                "mfa_wrong_code",
                lambda c: self._challenges.continue_step(c, session, scope, challenge.name, state),
            )
        return CodeMismatchException(CODE_MISMATCH)

    def set_up_totp(self, found: SignInUser) -> None:
        """MFA_SETUP completed with a verified authenticator: TOTP becomes the user's MFA."""
        record = prefs.preferences(found.row)
        prefs.apply(record, prefs.SOFTWARE_TOKEN_MFA, True, True)
        now = self._clock.now_ms()
        self._db.write(
            "mfa_setup_done",
            lambda c: users_repo.update(c, found.row.pk, mfa=prefs.encode(record), updated_at=now),
        )

    # ------------------------------------------------------------------ sessions

    def _open(
        self,
        scope: ClientScope,
        found: SignInUser,
        name: str,
        parameters: dict[str, str],
        state: dict[str, Any],
    ) -> dict[str, Any]:
        session = self._db.write(
            "mfa_challenge", lambda c: self._session(c, scope, found, name, state)
        )
        return {
            "ChallengeName": name,
            "Session": session,
            "ChallengeParameters": {**parameters, "USER_ID_FOR_SRP": found.row.username},
        }

    def _session(
        self,
        conn: Connection,
        scope: ClientScope,
        found: SignInUser,
        name: str,
        state: dict[str, Any],
    ) -> str:
        minutes = session_minutes(scope)
        state = {"username": found.row.username, "minutes": minutes, **state}
        return self._challenges.open_step(conn, scope, found.row.pk, name, state)
