"""Lazy user migration: the UserMigration trigger creates a user the pool does not have.

When a password sign-in (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH) or ForgotPassword
names a user the pool does not have, and the pool has a UserMigration trigger, the function
is asked about the user (`UserMigration_Authentication` with the password the user typed,
`UserMigration_ForgotPassword` without one). The request's ClientMetadata is handed over
as `clientMetadata`, and also as `validationData` at sign-in, where the SDKs put their
ValidationData into ClientMetadata and Cognito passes it on as validationData.

The reply creates the user, in one transaction after the function has answered:

* `userAttributes` (required): checked against the pool's schema like AdminCreateUser's;
  a reply without any declines the migration, and the caller answers as it does for an
  unknown user. Attributes the pool refuses (unknown names, `sub`, a malformed email),
  or an alias another user holds without `forceAliasCreation`, fail the call with
  UserNotFoundException "Exception migrating user in app client <id>" (the words Cognito
  uses for a migration it cannot complete; the reason goes to the server log).
* `finalUserStatus`: CONFIRMED (the default) or RESET_REQUIRED. At sign-in a CONFIRMED
  user gets the password they typed, whatever the pool's password policy says; a
  RESET_REQUIRED user gets no password, so the sign-in answers
  PasswordResetRequiredException. A user migrated by ForgotPassword has no password yet and
  is always RESET_REQUIRED until ConfirmForgotPassword sets one.
* `messageAction` SUPPRESS, or else the welcome message (the pool's invitation template)
  on `desiredDeliveryMediums` (SMS when not given; a medium the user has no address for is
  skipped). It carries no password: the user already has theirs.
* `forceAliasCreation` moves a verified email/phone alias from its current holder;
  `enableSMSMFA` turns SMS MFA on for the user.

The username is the one given (a generated one, the sub, in pools that sign in with
email or phone, the given email/phone becoming that attribute); the sub is always new. A
name that cannot be a username in the pool is not migrated.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    AliasExistsException,
    InvalidLambdaResponseException,
    InvalidParameterException,
    UsernameExistsException,
    UserNotFoundException,
)
from cognate.domain import mfa_preferences, passwords
from cognate.domain.auth.context import SignInUser, user_by_pk
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.custom_messages import ADMIN_CREATE_USER, MessageContext
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient
from cognate.domain.pools import require_pool
from cognate.domain.triggers import UNRECOGNIZABLE, Triggers, string_map
from cognate.domain.user_store import (
    PasswordVault,
    PoolScope,
    UserStatus,
    find_user,
    scope_of,
    write_attributes,
)
from cognate.domain.usernames import EMAIL, PHONE
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo

log = logging.getLogger("cognate.triggers")

USER_MIGRATION = "UserMigration"
AUTHENTICATION = "UserMigration_Authentication"
FORGOT_PASSWORD = "UserMigration_ForgotPassword"
_RESPONSE = {
    "userAttributes": None,
    "finalUserStatus": None,
    "messageAction": None,
    "desiredDeliveryMediums": None,
    "forceAliasCreation": None,
    "enableSMSMFA": None,
}
_STATUSES = {"CONFIRMED": UserStatus.CONFIRMED, "RESET_REQUIRED": UserStatus.RESET_REQUIRED}
_MEDIUMS = {"SMS": (SMS_CHANNEL, PHONE), "EMAIL": (EMAIL_CHANNEL, EMAIL)}


def migration_failed(client_id: str) -> UserNotFoundException:
    return UserNotFoundException(f"Exception migrating user in app client {client_id}")


@dataclass(frozen=True, slots=True)
class MigrationReply:
    """What the function answered, checked."""

    attributes: dict[str, str]
    status: UserStatus
    welcome_mediums: list[str]  # empty: SUPPRESS
    force_alias: bool
    sms_mfa: bool


def read_reply(response: dict[str, Any]) -> MigrationReply | None:
    """The reply's fields; None when it gives no attributes (no migration)."""
    attributes = string_map(response.get("userAttributes"))
    if not attributes:
        return None
    status = response.get("finalUserStatus") or "CONFIRMED"
    if status not in _STATUSES:
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    action = response.get("messageAction")
    if action not in (None, "SUPPRESS"):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    mediums = response.get("desiredDeliveryMediums") or ["SMS"]
    if not isinstance(mediums, list) or any(m not in _MEDIUMS for m in mediums):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return MigrationReply(
        attributes=attributes,
        status=_STATUSES[status],
        welcome_mediums=[] if action == "SUPPRESS" else list(dict.fromkeys(mediums)),
        force_alias=_boolean(response.get("forceAliasCreation")),
        sms_mfa=_boolean(response.get("enableSMSMFA")),
    )


def _boolean(value: Any) -> bool:
    """A boolean field; the documentation writes them as JSON booleans and as strings."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidLambdaResponseException(UNRECOGNIZABLE)


class UserMigration:
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

    def migrate_on_sign_in(
        self, scope: ClientScope, username: str, password: str, activity: Activity
    ) -> SignInUser | None:
        """Migrate an unknown user signing in with a password: the new user, or None when
        there is nobody to migrate (no trigger, or the function declined)."""
        metadata = dict(activity.client_metadata)
        request = {"password": password, "validationData": metadata, "clientMetadata": metadata}
        reply = self._ask(scope, username, AUTHENTICATION, request)
        if reply is None:
            return None
        kept = password if reply.status == UserStatus.CONFIRMED else None
        return user_by_pk(self._db, self._create(scope, username, reply, kept))

    def migrate_for_forgot_password(
        self, scope: ClientScope, username: str, client_metadata: dict[str, str]
    ) -> bool:
        """Migrate an unknown user asking for a password reset; whether one was created."""
        request = {"validationData": {}, "clientMetadata": dict(client_metadata)}
        reply = self._ask(scope, username, FORGOT_PASSWORD, request)
        if reply is None:
            return False
        reset = MigrationReply(
            reply.attributes,
            UserStatus.RESET_REQUIRED,
            reply.welcome_mediums,
            reply.force_alias,
            reply.sms_mfa,
        )
        self._create(scope, username, reset, None)
        return True

    def _ask(
        self, scope: ClientScope, username: str, source: str, request: dict[str, Any]
    ) -> MigrationReply | None:
        pool = scope.pool
        if not self._triggers.configured(pool.pool, USER_MIGRATION):
            return None
        try:
            pool.sign_in.new_user_name(username)
        except InvalidParameterException:
            return None  # not a name this pool could give a user
        response = self._triggers.run(
            pool.pool,
            USER_MIGRATION,
            source,
            username=username,
            client_id=scope.client.client_id,
            request=request,
            response=_RESPONSE,
        )
        return None if response is None else read_reply(response)

    def _create(
        self, scope: ClientScope, username: str, reply: MigrationReply, password: str | None
    ) -> int:
        """Create the user (or find the one created meanwhile); its primary key."""
        client_id = scope.client.client_id
        sub = str(uuid.uuid4())  # made once: a rerun of the transaction keeps it

        def create_txn(conn: Connection) -> int:
            current = scope_of(require_pool(conn, scope.pool.pool.region, scope.pool.pool.id))
            existing = find_user(conn, current, username)
            if existing is not None:
                return existing.pk
            try:
                return self._insert(conn, current, username, reply, password, sub)
            except (
                InvalidParameterException,
                UsernameExistsException,
                AliasExistsException,
            ) as exc:
                log.warning(
                    "UserMigration of %r in pool %s: the user could not be created: %s",
                    username,
                    current.pool.id,
                    exc.message,
                )
                raise migration_failed(client_id) from None

        # The welcome message is the invitation: CustomMessage_AdminCreateUser (Cognate's
        # choice: Cognito does not document the triggerSource of a migrated user's welcome).
        context = MessageContext(ADMIN_CREATE_USER, client_id)
        return self._notifier.write(self._db, "user_migration", create_txn, context, conflicts=2)

    def _insert(
        self,
        conn: Connection,
        scope: PoolScope,
        username: str,
        reply: MigrationReply,
        password: str | None,
        sub: str,
    ) -> int:
        name, from_username = scope.sign_in.new_user_name(username)
        pairs = [{"Name": k, "Value": v} for k, v in reply.attributes.items()]
        values = scope.schema.check_new(pairs)
        values.update(from_username)
        for contact, flag in ((EMAIL, "email_verified"), (PHONE, "phone_number_verified")):
            if values.get(flag) == "true" and not values.get(contact):
                raise InvalidParameterException(f"No {contact} provided but {flag} was set to true")
        name = name or sub
        now = self._clock.now_ms()
        sealed = None
        if password is not None:
            sealed = self._vault.seal(sub, passwords.make_record(scope.pool.id, name, password))
        mfa: dict[str, Any] = {}
        if reply.sms_mfa:
            mfa_preferences.apply(mfa, mfa_preferences.SMS_MFA, True, None)
        user_pk = users_repo.insert(
            conn,
            pool_pk=scope.pool.pk,
            username=name,
            username_key=scope.sign_in.username_key(name),
            sub=sub,
            status=reply.status.value,
            enabled=True,
            password_enc=sealed,
            password_history_enc=None,
            password_expires_at=None,
            pending=None,
            tokens_valid_after=0,
            created_at=now,
            updated_at=now,
            mfa=mfa_preferences.encode(mfa),
        )
        write_attributes(
            conn, scope, user_pk, {}, values, creating=True, force_alias=reply.force_alias
        )
        destinations: dict[str, str] = {}
        for medium in reply.welcome_mediums:
            channel, attribute = _MEDIUMS[medium]
            if values.get(attribute):
                destinations[channel] = values[attribute]
        if destinations:
            recipient = Recipient(scope.pool.pk, user_pk, username)
            self._notifier.invitation(conn, recipient, scope.settings, destinations, None, now)
        return user_pk
