"""Setting up email MFA from the MFA_SETUP challenge (what Amplify JS v6 does).

A pool with MFA ON that offers EMAIL_OTP lists it in MFAS_CAN_SETUP for a user without an
email address (one with an address has email MFA already: see mfa_challenge.py). The client
answers MFA_SETUP with ChallengeResponses {USERNAME, EMAIL: address}; the server sends a
six-digit code to that address, through the same path as the EMAIL_OTP MFA challenge (the
pool's EmailMfaConfiguration, the CustomMessage trigger or custom email sender, the outbox),
and answers with an EMAIL_OTP challenge and a new session whose state keeps the code's hash
and the address. The right EMAIL_OTP_CODE (wrong codes as for any EMAIL_OTP challenge) sets
the user's `email` to the address, verified, and turns email MFA on for them (preferred when
they have no preferred factor), before the sign-in goes on as after any MFA.

Refused, with the MFA_SETUP session left usable for a corrected answer: EMAIL when EMAIL_OTP
is not among the factors the user can set up (InvalidParameterException), a malformed
address ("Invalid email address format.", as for attributes), and an address that is
another user's verified sign-in alias or username attribute (AliasExistsException, as when
an administrator verifies a taken alias: a sign-in step does not move an alias silently).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    AliasExistsException,
    InvalidParameterException,
    NotAuthorizedException,
)
from cognate.domain import mfa_preferences as prefs
from cognate.domain.auth.context import SignInUser, user_by_pk
from cognate.domain.auth.mfa_challenge import MfaChallenges
from cognate.domain.challenge_sessions import INVALID_SESSION, Challenge, ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.user_store import write_attributes
from cognate.domain.usernames import EMAIL, VERIFIED_FLAG
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo

SETUP_EMAIL = "setup_email"  # the challenge state key holding the address being set up
NOT_OFFERED = "EMAIL_OTP is not one of the MFA types the user can set up (MFAS_CAN_SETUP)."
INVALID_EMAIL = "Invalid email address format."


class EmailMfaSetup:
    def __init__(
        self, db: Database, clock: Clock, mfa: MfaChallenges, challenges: ChallengeSessions
    ) -> None:
        self._db = db
        self._clock = clock
        self._mfa = mfa
        self._challenges = challenges

    def start(
        self,
        scope: ClientScope,
        challenge: Challenge,
        session: str,
        found: SignInUser,
        address: str,
    ) -> dict[str, Any]:
        """The EMAIL answer to MFA_SETUP: send a code to the address, ask for it."""
        try:
            checked = self._checked(scope, challenge, found, address)
        except (InvalidParameterException, AliasExistsException):
            self._challenges.release(session)  # the user can correct the address
            raise
        carry: dict[str, Any] = {k: v for k, v in challenge.state.items() if k == "device_key"}
        carry[SETUP_EMAIL] = checked
        to = SignInUser(found.row, {**found.attributes, EMAIL: checked})
        return self._mfa.challenge(scope, to, prefs.EMAIL_OTP, carry)

    def finish(self, scope: ClientScope, challenge: Challenge, found: SignInUser) -> SignInUser:
        """The right code came back: the address is the user's, verified, and email MFA is on.
        Returns the user as they are now (their tokens carry the new address)."""
        address = str(challenge.state[SETUP_EMAIL])
        user_pk = found.row.pk
        now = self._clock.now_ms()

        def apply(conn: Connection) -> None:
            user = users_repo.by_pk(conn, user_pk, for_update=True)
            if user is None:
                raise NotAuthorizedException(INVALID_SESSION)
            old = users_repo.attributes(conn, user_pk)
            new = {**old, EMAIL: address, VERIFIED_FLAG[EMAIL]: "true"}
            write_attributes(conn, scope.pool, user_pk, old, new, creating=False, force_alias=False)
            record = prefs.preferences(user)
            preferred = True if prefs.preferred_factor(record) is None else None
            prefs.apply(record, prefs.EMAIL_OTP, True, preferred)
            users_repo.update(conn, user_pk, mfa=prefs.encode(record), updated_at=now)

        self._db.write("mfa_email_setup", apply)
        updated = user_by_pk(self._db, user_pk)
        if updated is None:
            raise NotAuthorizedException(INVALID_SESSION)
        return updated

    def _checked(
        self, scope: ClientScope, challenge: Challenge, found: SignInUser, address: str
    ) -> str:
        settings = scope.pool.settings
        can_setup = challenge.state.get("can_setup") or prefs.pool_factors(settings)
        if prefs.EMAIL_OTP not in can_setup or prefs.EMAIL_OTP not in prefs.pool_factors(settings):
            raise InvalidParameterException(NOT_OFFERED)
        if not address:
            raise InvalidParameterException(INVALID_EMAIL)
        checked = scope.pool.schema.check_changes([{"Name": EMAIL, "Value": address}])[EMAIL]
        sign_in = scope.pool.sign_in
        wanted = sign_in.claimed_identifiers({EMAIL: checked, VERIFIED_FLAG[EMAIL]: "true"})
        if EMAIL in wanted:
            digest = sign_in.identifier_hash(EMAIL, checked)
            pool_pk = scope.pool.pool.pk
            owner = self._db.read(
                "mfa_setup_email_owner",
                lambda c: users_repo.owner_of(c, pool_pk, EMAIL, digest),
            )
            if owner is not None and owner != found.row.pk:
                raise AliasExistsException(f"An account with the {EMAIL} already exists.")
        return checked
