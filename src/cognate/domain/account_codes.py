"""The public (ClientId-authorized) operations that send or take codes: ConfirmSignUp,
ResendConfirmationCode, ForgotPassword and ConfirmForgotPassword.

Each checks the client's SECRET_HASH, then finds the user by the name given (username,
verified alias, or sub). Unknown users get Cognito's answers: with the client's
PreventUserExistenceErrors LEGACY, UserNotFoundException "Username/client id combination
not found."; with ENABLED, the answers an existing user could get (a simulated
CodeDeliveryDetails, or CodeMismatchException), so that nobody can probe for accounts.

Codes follow codes.py: six digits, hashed, replaced by each new one, single use, 24 hours
for confirmation and an hour for password resets, five wrong attempts per code. The
sign-up code verifies the attribute it was sent to, which then becomes a sign-in alias
where the pool has alias attributes (AliasExistsException on a conflict, unless
ForceAliasCreation moves it). A password reset does not end the user's other sessions
(Cognito does not).

Triggers: once ConfirmSignUp or ConfirmForgotPassword is committed, the pool's
PostConfirmation runs (account_triggers.py); ForgotPassword for a user the pool does not
have first asks the UserMigration trigger (user_migration.py), between two transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    CodeMismatchException,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)
from cognate.domain import account_triggers, auth_events, codes, custom_messages, passwords
from cognate.domain.client_auth import ClientScope, check_secret_hash, load_client
from cognate.domain.clock import Clock
from cognate.domain.messages import USER_DISABLED
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient, mask_destination
from cognate.domain.secretbox import SecretBox
from cognate.domain.sign_up import confirmation_channel
from cognate.domain.triggers import Triggers
from cognate.domain.user_migration import USER_MIGRATION, UserMigration
from cognate.domain.user_passwords import recovery_channel
from cognate.domain.user_store import PasswordVault, UserStatus, find_user, write_attributes
from cognate.domain.usernames import EMAIL, PHONE, VERIFIED_FLAG
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

NOT_FOUND = "Username/client id combination not found."  # observed
ALREADY_CONFIRMED = "User is already confirmed."  # observed
NO_AUTO_VERIFICATION = "Cannot resend codes. Auto verification not turned on."  # observed
NO_RECOVERY_CHANNEL = (  # observed
    "Cannot reset password for the user as there is no registered/verified email or phone_number"
)
CANNOT_RESET = "User password cannot be reset in the current state."  # observed
CONFIRM_SIGN_UP = "confirm_sign_up"
FORGOT_PASSWORD = "forgot_password"
_ATTRIBUTE_OF_CHANNEL = {EMAIL_CHANNEL: EMAIL, SMS_CHANNEL: PHONE}


def delivery_details(channel: str, destination: str) -> dict[str, str]:
    """CodeDeliveryDetailsType, in the member order Cognito writes it."""
    return {
        "AttributeName": _ATTRIBUTE_OF_CHANNEL[channel],
        "DeliveryMedium": channel,
        "Destination": mask_destination(channel, destination),
    }


def simulated_details(scope: ClientScope) -> dict[str, str]:
    """What an unknown user's request answers when existence errors are prevented: the
    same fake destination for every name (as Cognito's is), on the pool's medium."""
    auto = scope.pool.settings.get("AutoVerifiedAttributes") or []
    if PHONE in auto and EMAIL not in auto:
        return {
            "Destination": "+*******0000",
            "DeliveryMedium": SMS_CHANNEL,
            "AttributeName": PHONE,
        }
    return {"Destination": "u***@y***", "DeliveryMedium": EMAIL_CHANNEL, "AttributeName": EMAIL}


def _message_context(request: dict[str, Any], source: str) -> custom_messages.MessageContext:
    """Why a public operation sends a code, for the CustomMessage and custom sender triggers."""
    metadata = request.get("ClientMetadata") or {}
    return custom_messages.MessageContext(source, request["ClientId"], metadata)


def _prevents(scope: ClientScope) -> bool:
    return scope.client.settings.get("PreventUserExistenceErrors") == "ENABLED"


class AccountCodes:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        vault: PasswordVault,
        notifier: Notifier,
        triggers: Triggers,
        migration: UserMigration,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._vault = vault
        self._notifier = notifier
        self._triggers = triggers
        self._migration = migration

    # ------------------------------------------------------------------ sign-up confirmation

    def confirm_sign_up(self, request: dict[str, Any]) -> dict[str, Any]:
        code = request["ConfirmationCode"]
        force = bool(request.get("ForceAliasCreation", False))

        def confirm_txn(conn: Connection) -> tuple[codes.Verdict, _Confirmed | None]:
            scope, user = self._client_and_user(conn, request, "SecretHash")
            if user is None:
                if _prevents(scope):
                    raise CodeMismatchException(codes.CODE_MISMATCH)
                raise UserNotFoundException(NOT_FOUND)
            if user.status != UserStatus.UNCONFIRMED.value:
                raise NotAuthorizedException(
                    f"User cannot be confirmed. Current status is {user.status}"
                )
            now = self._clock.now_ms()
            verdict = codes.check(conn, self._notifier, user.pk, CONFIRM_SIGN_UP, code, now)
            if verdict is not codes.Verdict.MATCH:
                return verdict, None
            old = users_repo.attributes(conn, user.pk)
            new = dict(old)
            channel = confirmation_channel(scope.pool.settings, old)
            if channel is not None:
                new[VERIFIED_FLAG[channel[0]]] = "true"
            write_attributes(conn, scope.pool, user.pk, old, new, creating=False, force_alias=force)
            users_repo.update(conn, user.pk, status=UserStatus.CONFIRMED.value, updated_at=now)
            return verdict, _confirmed(conn, scope, user)

        verdict, confirmed = self._db.write("confirm_sign_up", confirm_txn, conflicts=2)
        codes.raise_for(verdict)
        self._post_confirmation(confirmed, account_triggers.CONFIRM_SIGN_UP, request)
        return {}

    def resend_confirmation_code(self, request: dict[str, Any]) -> dict[str, Any]:
        def resend_txn(conn: Connection) -> dict[str, Any]:
            scope, user = self._client_and_user(conn, request, "SecretHash")
            if not (scope.pool.settings.get("AutoVerifiedAttributes") or []):
                raise NotAuthorizedException(NO_AUTO_VERIFICATION)
            if user is None or not user.enabled:
                if _prevents(scope):
                    return simulated_details(scope)
                if user is None:
                    raise UserNotFoundException(NOT_FOUND)
                raise NotAuthorizedException(USER_DISABLED)
            if user.status != UserStatus.UNCONFIRMED.value:
                if _prevents(scope):
                    return simulated_details(scope)
                raise InvalidParameterException(ALREADY_CONFIRMED)
            values = users_repo.attributes(conn, user.pk)
            channel = confirmation_channel(scope.pool.settings, values)
            if channel is None:
                raise NotAuthorizedException(NO_AUTO_VERIFICATION)
            _attribute, medium, destination = channel
            self._send(conn, scope, user, request["Username"], CONFIRM_SIGN_UP, medium, destination)
            auth_events.account_event(conn, scope.pool.pool, user.pk, auth_events.RESEND_CODE)
            return delivery_details(medium, destination)

        context = _message_context(request, custom_messages.RESEND_CODE)
        details = self._notifier.write(self._db, "resend_confirmation_code", resend_txn, context)
        return {"CodeDeliveryDetails": details}

    # ------------------------------------------------------------------ password recovery

    def forgot_password(self, request: dict[str, Any]) -> dict[str, Any]:
        migrated = False

        def forgot_txn(conn: Connection) -> dict[str, Any] | ClientScope:
            scope, user = self._client_and_user(conn, request, "SecretHash")
            prevents = _prevents(scope)
            if user is None and not migrated and self._may_migrate(scope):
                return scope  # ask the UserMigration trigger, outside this transaction
            if user is None or not user.enabled:
                if prevents:
                    return simulated_details(scope)
                if user is None:
                    raise UserNotFoundException(NOT_FOUND)
                raise NotAuthorizedException(USER_DISABLED)
            if user.status == UserStatus.FORCE_CHANGE_PASSWORD.value:
                raise NotAuthorizedException(CANNOT_RESET)
            if _admin_only(scope.pool.settings):
                raise NotAuthorizedException(CANNOT_RESET)
            values = users_repo.attributes(conn, user.pk)
            channel = recovery_channel(scope.pool.settings, values)
            if channel is None:
                if prevents:
                    return simulated_details(scope)
                raise InvalidParameterException(NO_RECOVERY_CHANNEL)
            medium, destination = channel
            self._send(conn, scope, user, request["Username"], FORGOT_PASSWORD, medium, destination)
            auth_events.account_event(conn, scope.pool.pool, user.pk, auth_events.FORGOT_PASSWORD)
            return delivery_details(medium, destination)

        context = _message_context(request, custom_messages.FORGOT_PASSWORD)
        answer = self._notifier.write(self._db, "forgot_password", forgot_txn, context)
        if isinstance(answer, ClientScope):
            metadata = request.get("ClientMetadata") or {}
            self._migration.migrate_for_forgot_password(answer, request["Username"], metadata)
            migrated = True  # created or declined: either way, answer as for who is there now
            answer = self._notifier.write(self._db, "forgot_password", forgot_txn, context)
        assert not isinstance(answer, ClientScope)
        return {"CodeDeliveryDetails": answer}

    def confirm_forgot_password(self, request: dict[str, Any]) -> dict[str, Any]:
        password = request["Password"]
        code = request["ConfirmationCode"]

        def confirm_txn(conn: Connection) -> tuple[codes.Verdict, _Confirmed | None]:
            scope, user = self._client_and_user(conn, request, "SecretHash")
            if user is None or not user.enabled:
                if _prevents(scope):
                    raise CodeMismatchException(codes.CODE_MISMATCH)
                if user is None:
                    raise UserNotFoundException(NOT_FOUND)
                raise NotAuthorizedException(USER_DISABLED)
            policy = passwords.policy_of(scope.pool.settings)
            passwords.check_policy(password, policy, passwords.PREFIX_CHANGE)
            now = self._clock.now_ms()
            verdict = codes.check(conn, self._notifier, user.pk, FORGOT_PASSWORD, code, now)
            if verdict is not codes.Verdict.MATCH:
                return verdict, None
            pool_id = scope.pool.pool.id
            size = int(policy.get("PasswordHistorySize") or 0)
            history = self._vault.open_history(user)
            passwords.check_history(history, pool_id, user.username, password, size)
            record = passwords.make_record(pool_id, user.username, password)
            users_repo.update(
                conn,
                user.pk,
                password_enc=self._vault.seal(user.sub, record),
                password_history_enc=self._vault.seal_history(
                    user.sub, passwords.with_history(history, record, size)
                ),
                password_expires_at=None,
                status=UserStatus.CONFIRMED.value,
                failed_sign_ins=0,
                locked_until=0,
                updated_at=now,
            )
            auth_events.account_event(conn, scope.pool.pool, user.pk, auth_events.PASSWORD_CHANGE)
            return verdict, _confirmed(conn, scope, user)

        verdict, confirmed = self._db.write("confirm_forgot_password", confirm_txn)
        codes.raise_for(verdict)
        self._post_confirmation(confirmed, account_triggers.CONFIRM_FORGOT_PASSWORD, request)
        return {}

    # ------------------------------------------------------------------ helpers

    def _may_migrate(self, scope: ClientScope) -> bool:
        return self._triggers.configured(scope.pool.pool, USER_MIGRATION)

    def _post_confirmation(
        self, confirmed: _Confirmed | None, source: str, request: dict[str, Any]
    ) -> None:
        """PostConfirmation, after the confirmation is committed (if it fails, the caller
        gets its error and the confirmation stands, as in Cognito)."""
        if confirmed is None:
            return
        account_triggers.post_confirmation(
            self._triggers,
            confirmed.scope.pool.pool,
            source,
            user=confirmed.user,
            attributes=confirmed.attributes,
            client_id=confirmed.scope.client.client_id,
            client_metadata=request.get("ClientMetadata") or {},
        )

    def _client_and_user(
        self, conn: Connection, request: dict[str, Any], hash_member: str
    ) -> tuple[ClientScope, UserRow | None]:
        scope = load_client(conn, request["ClientId"])
        username = request["Username"]
        check_secret_hash(conn, self._box, scope.client, username, request.get(hash_member))
        return scope, find_user(conn, scope.pool, username, for_update=True)

    def _send(
        self,
        conn: Connection,
        scope: ClientScope,
        user: UserRow,
        name: str,
        purpose: str,
        medium: str,
        destination: str,
    ) -> None:
        self._notifier.send_code(
            conn,
            Recipient(scope.pool.pool.pk, user.pk, name),
            scope.pool.settings,
            purpose=purpose,
            channel=medium,
            destination=destination,
            now=self._clock.now_ms(),
        )


@dataclass(frozen=True, slots=True)
class _Confirmed:
    """A user just confirmed (or whose password was just reset), for PostConfirmation."""

    scope: ClientScope
    user: UserRow
    attributes: dict[str, str]


def _confirmed(conn: Connection, scope: ClientScope, user: UserRow) -> _Confirmed:
    row = users_repo.by_pk(conn, user.pk)
    assert row is not None
    return _Confirmed(scope, row, users_repo.attributes(conn, user.pk))


def _admin_only(settings: dict[str, Any]) -> bool:
    setting = settings.get("AccountRecoverySetting") or {}
    return any(m.get("Name") == "admin_only" for m in setting.get("RecoveryMechanisms", []))
