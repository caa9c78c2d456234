"""Proving the password: directly (password flows) or by SRP, with the lockout around it.

Order of checks, as Cognito answers them: a disabled user is refused first ("User is
disabled."), an unconfirmed one next ("User is not confirmed.", whatever the password:
AWS calls this intended), one whose password an administrator reset
(PasswordResetRequiredException), then a locked-out one ("Password attempts exceeded"),
then the password; a wrong one is counted and answered "Incorrect username or
password.". Only after the password is right: FORCE_CHANGE_PASSWORD -> the
NEW_PASSWORD_REQUIRED challenge, unless the temporary password has expired.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
)
from cognate.domain import messages, passwords
from cognate.domain.auth import lockout
from cognate.domain.clock import Clock
from cognate.domain.user_store import PasswordVault, UserStatus
from cognate.storage.db import Database
from cognate.storage.repos.users import UserRow

NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"


class PasswordCheck:
    def __init__(self, db: Database, clock: Clock, vault: PasswordVault) -> None:
        self._db = db
        self._clock = clock
        self._vault = vault

    def before_password(self, user: UserRow) -> None:
        if not user.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        if user.status == UserStatus.UNCONFIRMED.value:
            raise UserNotConfirmedException(messages.USER_NOT_CONFIRMED)
        if user.status == UserStatus.RESET_REQUIRED.value:  # its password is gone
            raise PasswordResetRequiredException(messages.PASSWORD_RESET_REQUIRED)
        lockout.check_not_locked(user, self._clock.now_ms())

    def check_password(self, pool_id: str, user: UserRow, password: str) -> None:
        """Compare the password with the user's SRP verifier; count a failure."""
        record = self._vault.open(user)
        if record is None or not passwords.matches(record, pool_id, user.username, password):
            self.failed(user)

    def failed(self, user: UserRow) -> None:
        """Count a wrong password (committed on its own) and refuse."""
        now = self._clock.now_ms()

        def count(conn: Connection) -> None:
            lockout.record_failure(conn, user, now)

        self._db.write("count_failed_sign_in", count)
        raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)

    def after_password(self, user: UserRow) -> str | None:
        """The user's status once the password is proven: raise, or name the challenge
        the user must answer first (None: sign-in can complete)."""
        status = user.status
        if status == UserStatus.FORCE_CHANGE_PASSWORD.value:
            expires = user.password_expires_at
            if expires is not None and expires <= self._clock.now_ms():
                raise NotAuthorizedException(messages.TEMPORARY_PASSWORD_EXPIRED)
            return NEW_PASSWORD_REQUIRED
        return None
