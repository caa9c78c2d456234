"""Administrative password and confirmation changes to a user's status.

* AdminSetUserPassword: a permanent password confirms the user (CONFIRMED); a temporary
  one puts them back in FORCE_CHANGE_PASSWORD with a fresh expiry. Permanent passwords
  count against the pool's password history.
* AdminResetUserPassword: the password stops working (RESET_REQUIRED) and a reset code
  goes to the user's recovery channel: the pool's AccountRecoverySetting in priority
  order, or, without one, a verified phone number before a verified email (Cognito's
  legacy behaviour).
* AdminConfirmSignUp: UNCONFIRMED becomes CONFIRMED; anything else is refused. The pool's
  PostConfirmation trigger then runs (PostConfirmation_ConfirmSignUp); if it fails, the
  caller gets its error but the user stays confirmed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import InvalidParameterException, NotAuthorizedException
from cognate.domain import passwords
from cognate.domain.account_triggers import CONFIRM_SIGN_UP, post_confirmation
from cognate.domain.clock import Clock
from cognate.domain.custom_messages import FORGOT_PASSWORD, MessageContext
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient
from cognate.domain.triggers import Triggers
from cognate.domain.user_store import (
    PasswordVault,
    PoolScope,
    UserStatus,
    load_scope,
    require_user,
)
from cognate.domain.usernames import EMAIL, PHONE
from cognate.domain.users import temporary_password_expiry
from cognate.storage.db import Database
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos import token_sessions as token_sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

NO_RECOVERY_CHANNEL = (  # observed
    "Cannot reset password for the user as there is no registered/verified email or phone_number"
)


def recovery_channel(settings: dict[str, Any], values: dict[str, str]) -> tuple[str, str] | None:
    """(channel, destination) a password-reset code goes to, or None if there is none."""
    verified_email = values.get(EMAIL) if values.get("email_verified") == "true" else None
    verified_phone = values.get(PHONE) if values.get("phone_number_verified") == "true" else None
    setting = settings.get("AccountRecoverySetting")
    if setting is None:
        order = ["verified_phone_number", "verified_email"]
    else:
        mechanisms = sorted(setting.get("RecoveryMechanisms", []), key=lambda m: m["Priority"])
        order = [m["Name"] for m in mechanisms]
    for name in order:
        if name == "verified_phone_number" and verified_phone:
            return SMS_CHANNEL, verified_phone
        if name == "verified_email" and verified_email:
            return EMAIL_CHANNEL, verified_email
    return None


class UserPasswordService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        vault: PasswordVault,
        notifier: Notifier,
        triggers: Triggers,
    ) -> None:
        self._db = db
        self._clock = clock
        self._vault = vault
        self._notifier = notifier
        self._triggers = triggers

    def admin_set_user_password(self, region: str, request: dict[str, Any]) -> None:
        password = request["Password"]
        permanent = bool(request.get("Permanent", False))

        def set_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, request["UserPoolId"])
            user = require_user(conn, scope, request["Username"], for_update=True)
            policy = passwords.policy_of(scope.settings)
            passwords.check_policy(password, policy, passwords.PREFIX_CHANGE)
            now = self._clock.now_ms()
            record = passwords.make_record(scope.pool.id, user.username, password)
            changes: dict[str, Any] = {"password_enc": self._vault.seal(user.sub, record)}
            if permanent:
                size = int(policy.get("PasswordHistorySize") or 0)
                history = self._vault.open_history(user)
                passwords.check_history(history, scope.pool.id, user.username, password, size)
                changes.update(
                    status=UserStatus.CONFIRMED,
                    password_expires_at=None,
                    password_history_enc=self._vault.seal_history(
                        user.sub, passwords.with_history(history, record, size)
                    ),
                )
            else:
                changes.update(
                    status=UserStatus.FORCE_CHANGE_PASSWORD,
                    password_expires_at=temporary_password_expiry(scope.settings, now),
                )
            users_repo.update(conn, user.pk, updated_at=now, tokens_valid_after=now, **changes)
            messages_repo.delete_code(conn, user.pk, "forgot_password")
            # An administrator's new password ends the user's sessions.
            token_sessions_repo.revoke_of_user(conn, user.pk, now)

        self._db.write("admin_set_user_password", set_txn)

    def is_current_password(self, region: str, pool_id: str, username: str, password: str) -> bool:
        """Whether `password` is the user's permanent password now (`cognate serve --seed`
        sets a seeded password again only when it is not)."""

        def check_txn(conn: Connection) -> bool:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            record = self._vault.open(user)
            return (
                record is not None
                and user.status == UserStatus.CONFIRMED
                and passwords.matches(record, scope.pool.id, user.username, password)
            )

        return self._db.read("check_user_password", check_txn)

    def admin_reset_user_password(
        self,
        region: str,
        pool_id: str,
        username: str,
        client_metadata: dict[str, str] | None = None,
    ) -> None:
        def reset_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username, for_update=True)
            values = users_repo.attributes(conn, user.pk)
            channel = recovery_channel(scope.settings, values)
            if channel is None:
                raise InvalidParameterException(NO_RECOVERY_CHANNEL)
            now = self._clock.now_ms()
            users_repo.update(
                conn,
                user.pk,
                status=UserStatus.RESET_REQUIRED,
                password_enc=None,
                password_expires_at=None,
                updated_at=now,
                tokens_valid_after=now,
            )
            token_sessions_repo.revoke_of_user(conn, user.pk, now)
            self._send_reset_code(conn, scope, user.pk, username, channel, now)

        context = MessageContext(FORGOT_PASSWORD, None, client_metadata or {})
        self._notifier.write(self._db, "admin_reset_user_password", reset_txn, context)

    def _send_reset_code(
        self,
        conn: Connection,
        scope: PoolScope,
        user_pk: int,
        username: str,
        channel: tuple[str, str],
        now: int,
    ) -> None:
        self._notifier.send_code(
            conn,
            Recipient(scope.pool.pk, user_pk, username),
            scope.settings,
            purpose="forgot_password",
            channel=channel[0],
            destination=channel[1],
            now=now,
        )

    def admin_confirm_sign_up(
        self,
        region: str,
        pool_id: str,
        username: str,
        client_metadata: dict[str, str] | None = None,
    ) -> None:
        def confirm_txn(conn: Connection) -> tuple[PoolScope, UserRow, dict[str, str]]:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username, for_update=True)
            if user.status != UserStatus.UNCONFIRMED:
                raise NotAuthorizedException(
                    f"User cannot be confirmed. Current status is {user.status}"
                )
            users_repo.update(
                conn, user.pk, status=UserStatus.CONFIRMED, updated_at=self._clock.now_ms()
            )
            messages_repo.delete_code(conn, user.pk, "confirm_sign_up")
            confirmed = users_repo.by_pk(conn, user.pk)
            assert confirmed is not None
            return scope, confirmed, users_repo.attributes(conn, user.pk)

        scope, user, values = self._db.write("admin_confirm_sign_up", confirm_txn)
        post_confirmation(
            self._triggers,
            scope.pool,
            CONFIRM_SIGN_UP,
            user=user,
            attributes=values,
            client_id=None,
            client_metadata=client_metadata or {},
        )
