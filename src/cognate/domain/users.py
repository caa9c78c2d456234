"""The administrator's user management: create, read, update, delete, enable, disable.

AdminCreateUser follows Cognito: the pool decides what the Username is (pools that sign in
with email/phone get a UUID), attributes are checked against the schema, a temporary
password is taken or generated to the pool's policy and stored only as sealed SRP
material, and an invitation is queued on each requested medium unless suppressed. A user
created this way is FORCE_CHANGE_PASSWORD until the temporary password expires or is
replaced. Required attributes may be left out here: Cognito asks the user for them when
they first sign in. A pool's PreSignUp trigger runs (PreSignUp_AdminCreateUser) for a
request that passes every check, outside any transaction; it can refuse the user, and
Cognito ignores the rest of its reply.

Password-changing operations (AdminSetUserPassword, AdminResetUserPassword) and
confirmation live in `user_passwords.py`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    UnsupportedUserStateException,
    UsernameExistsException,
    UserNotFoundException,
)
from cognate.domain import custom_messages, messages, passwords
from cognate.domain.account_triggers import (
    ADMIN_CREATE_USER,
    PRE_SIGN_UP,
    name_value_map,
    pre_sign_up,
)
from cognate.domain.clock import Clock
from cognate.domain.custom_messages import MessageContext
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient
from cognate.domain.triggers import Triggers
from cognate.domain.user_store import (
    USER_NOT_FOUND,
    PasswordVault,
    PoolScope,
    UserStatus,
    fetch_scope,
    find_user,
    load_scope,
    require_user,
    user_details,
    user_summary,
    write_attributes,
)
from cognate.domain.usernames import EMAIL, PHONE, SignIn
from cognate.storage.db import Database
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos import token_sessions as token_sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

DAY_MS = 86_400_000


def temporary_password_expiry(settings: dict[str, Any], now: int) -> int:
    days = passwords.policy_of(settings).get("TemporaryPasswordValidityDays") or 7
    return now + int(days) * DAY_MS


class UserService:
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

    # ------------------------------------------------------------------ create

    def admin_create_user(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        action = request.get("MessageAction")
        mediums = list(dict.fromkeys(request.get("DesiredDeliveryMediums") or []))
        sub = str(uuid.uuid4())
        if action != "RESEND":
            self._pre_sign_up(region, request, mediums, sub)

        def create_txn(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, request["UserPoolId"], lock=True)
            if action == "RESEND":
                return self._resend(conn, scope, request, mediums)
            return self._create(conn, scope, request, mediums, sub)

        context = MessageContext(
            custom_messages.ADMIN_CREATE_USER, None, request.get("ClientMetadata") or {}
        )
        return self._notifier.write(self._db, "admin_create_user", create_txn, context, conflicts=2)

    def _pre_sign_up(
        self, region: str, request: dict[str, Any], mediums: list[str], sub: str
    ) -> None:
        """PreSignUp_AdminCreateUser, for a request that passes every check (Cognito
        ignores the function's reply: it can only refuse the user)."""
        pool = fetch_scope(self._db.fetch, region, request["UserPoolId"]).pool
        if not self._triggers.configured(pool, PRE_SIGN_UP):
            return

        def check_txn(conn: Connection) -> tuple[PoolScope, str, dict[str, str]]:
            scope = load_scope(conn, region, request["UserPoolId"])
            username, values = self._check_new(conn, scope, request, mediums)
            return scope, username or sub, values

        scope, username, values = self._db.read("admin_create_user_check", check_txn)
        pre_sign_up(
            self._triggers,
            scope.pool,
            ADMIN_CREATE_USER,
            username=username,
            client_id=None,
            attributes=values,
            validation_data=name_value_map(request.get("ValidationData")),
            client_metadata=request.get("ClientMetadata") or {},
        )

    def _check_new(
        self, conn: Connection, scope: PoolScope, request: dict[str, Any], mediums: list[str]
    ) -> tuple[str | None, dict[str, str]]:
        """What AdminCreateUser refuses before the user exists: (the username, None when
        generated, and the attribute values)."""
        requested = request["Username"]
        username, from_username = scope.sign_in.new_user_name(requested)
        values = scope.schema.check_new(request.get("UserAttributes") or [])
        values.update(from_username)
        _check_verified_flags(values)
        if request.get("MessageAction") != "SUPPRESS":
            _destinations(values, mediums)
        if find_user(conn, scope, requested) is not None:
            raise UsernameExistsException("User account already exists")
        temporary = request.get("TemporaryPassword") or None
        if temporary is not None:
            policy = passwords.policy_of(scope.settings)
            passwords.check_policy(temporary, policy, passwords.PREFIX_ADMIN_CREATE)
        return username, values

    def _create(
        self,
        conn: Connection,
        scope: PoolScope,
        request: dict[str, Any],
        mediums: list[str],
        sub: str,
    ) -> dict[str, Any]:
        requested = request["Username"]
        username, values = self._check_new(conn, scope, request, mediums)
        destinations = {}
        if request.get("MessageAction") != "SUPPRESS":
            destinations = _destinations(values, mediums)
        username = username or sub
        policy = passwords.policy_of(scope.settings)
        temporary = request.get("TemporaryPassword") or passwords.generate_temporary(policy)
        now = self._clock.now_ms()
        record = passwords.make_record(scope.pool.id, username, temporary)
        row: dict[str, Any] = {
            "pool_pk": scope.pool.pk,
            "username": username,
            "sub": sub,
            "status": UserStatus.FORCE_CHANGE_PASSWORD.value,
            "enabled": True,
            "password_enc": self._vault.seal(sub, record),
            "password_history_enc": None,
            "password_expires_at": temporary_password_expiry(scope.settings, now),
            "tokens_valid_after": 0,
            "created_at": now,
            "updated_at": now,
        }
        user_pk = users_repo.insert(
            conn, username_key=scope.sign_in.username_key(username), pending=None, **row
        )
        write_attributes(
            conn,
            scope,
            user_pk,
            {},
            values,
            creating=True,
            force_alias=bool(request.get("ForceAliasCreation")),
        )
        recipient = Recipient(scope.pool.pk, user_pk, requested)
        self._notifier.invitation(conn, recipient, scope.settings, destinations, temporary, now)
        return user_summary(UserRow(pk=user_pk, **row), values)

    def _resend(
        self, conn: Connection, scope: PoolScope, request: dict[str, Any], mediums: list[str]
    ) -> dict[str, Any]:
        user = find_user(conn, scope, request["Username"], for_update=True)
        if user is None:
            raise UserNotFoundException(USER_NOT_FOUND)
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise UnsupportedUserStateException(
                f"Resend not possible. {user.username} status is not FORCE_CHANGE_PASSWORD."
            )
        values = users_repo.attributes(conn, user.pk)
        destinations = _destinations(values, mediums)
        policy = passwords.policy_of(scope.settings)
        temporary = request.get("TemporaryPassword") or None
        if temporary is not None:
            passwords.check_policy(temporary, policy, passwords.PREFIX_ADMIN_CREATE)
        else:
            temporary = passwords.generate_temporary(policy)
        now = self._clock.now_ms()
        record = passwords.make_record(scope.pool.id, user.username, temporary)
        users_repo.update(
            conn,
            user.pk,
            password_enc=self._vault.seal(user.sub, record),
            password_expires_at=temporary_password_expiry(scope.settings, now),
            updated_at=now,
        )
        recipient = Recipient(scope.pool.pk, user.pk, request["Username"])
        self._notifier.invitation(conn, recipient, scope.settings, destinations, temporary, now)
        refreshed = users_repo.by_pk(conn, user.pk)
        assert refreshed is not None
        return user_summary(refreshed, values)

    # ------------------------------------------------------------------ read / delete

    def admin_get_user(self, region: str, pool_id: str, username: str) -> dict[str, Any]:
        # Fast path, one statement: the pool and the user named by their username.
        keys = (username, username.casefold())
        pool, found = users_repo.pool_and_users(self._db.fetch, pool_id, region, keys)
        if pool is None:
            raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
        sign_in = SignIn.of(pool.id, pool.settings)
        wanted = sign_in.username_key(username)
        for candidate in found:
            if candidate.key == wanted:
                return user_details(candidate.user, candidate.attributes)
        if not sign_in.lookup_kinds():
            raise UserNotFoundException(USER_NOT_FOUND)

        # The Username may be an alias: the general look-up.
        def get_txn(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            return user_details(user, users_repo.attributes(conn, user.pk))

        return self._db.read("admin_get_user", get_txn)

    def admin_delete_user(self, region: str, pool_id: str, username: str) -> None:
        def delete_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            users_repo.delete(conn, require_user(conn, scope, username, for_update=True).pk)

        self._db.write("admin_delete_user", delete_txn)

    # ------------------------------------------------------------------ enable / disable

    def set_enabled(self, region: str, pool_id: str, username: str, enabled: bool) -> None:
        def enable_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username, for_update=True)
            now = self._clock.now_ms()
            if enabled:
                users_repo.update(conn, user.pk, enabled=True, updated_at=now)
            else:
                # Disabling also ends every session: its tokens stop working at once.
                users_repo.update(
                    conn, user.pk, enabled=False, tokens_valid_after=now, updated_at=now
                )
                token_sessions_repo.revoke_of_user(conn, user.pk, now)

        self._db.write("admin_enable_user" if enabled else "admin_disable_user", enable_txn)

    # ------------------------------------------------------------------ attributes

    def admin_update_user_attributes(self, region: str, request: dict[str, Any]) -> None:
        def update_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, request["UserPoolId"])
            user = require_user(conn, scope, request["Username"], for_update=True)
            changes = scope.schema.check_changes(request["UserAttributes"])
            old = users_repo.attributes(conn, user.pk)
            new = dict(old)
            for name, value in changes.items():
                if value == "":
                    if name in scope.schema.required():
                        raise InvalidParameterException(f"user.{name}: The attribute is required\n")
                    new.pop(name, None)
                else:
                    new[name] = value
            now = self._clock.now_ms()
            to_verify = self._contact_changes(conn, scope, user, old, new, changes)
            _check_verified_flags(new)
            write_attributes(conn, scope, user.pk, old, new, creating=False, force_alias=True)
            users_repo.update(conn, user.pk, updated_at=now)
            # After the change: trigger functions see the user as the update left them.
            for name, channel, destination in to_verify:
                self._notifier.send_code(
                    conn,
                    Recipient(scope.pool.pk, user.pk, user.username),
                    scope.settings,
                    purpose=f"verify:{name}",
                    channel=channel,
                    destination=destination,
                    now=now,
                )

        context = MessageContext(
            custom_messages.UPDATE_USER_ATTRIBUTE, None, request.get("ClientMetadata") or {}
        )
        self._notifier.write(
            self._db, "admin_update_user_attributes", update_txn, context, conflicts=2
        )

    def _contact_changes(
        self,
        conn: Connection,
        scope: PoolScope,
        user: UserRow,
        old: dict[str, str],
        new: dict[str, str],
        changes: dict[str, str],
    ) -> list[tuple[str, str, str]]:
        """A changed email or phone is unverified unless the request verifies it; with
        auto-verification on, the user is to be sent a code for it: (attribute, channel,
        destination) of each such code."""
        auto = set(scope.settings.get("AutoVerifiedAttributes") or [])
        to_verify: list[tuple[str, str, str]] = []
        for name, flag, channel in (
            (EMAIL, "email_verified", EMAIL_CHANNEL),
            (PHONE, "phone_number_verified", SMS_CHANNEL),
        ):
            if name not in changes or changes[name] == old.get(name):
                continue
            # A code sent for the previous value must not verify this one.
            messages_repo.delete_code(conn, user.pk, f"verify:{name}")
            if changes[name] == "":
                new.pop(flag, None)
                continue
            if changes.get(flag) == "true":
                continue
            new[flag] = "false"
            if name in auto:
                to_verify.append((name, channel, changes[name]))
        return to_verify

    def admin_delete_user_attributes(
        self, region: str, pool_id: str, username: str, names: list[str]
    ) -> None:
        def delete_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username, for_update=True)
            doomed = scope.schema.check_deletions(names)
            old = users_repo.attributes(conn, user.pk)
            new = {k: v for k, v in old.items() if k not in doomed}
            for name, flag in ((EMAIL, "email_verified"), (PHONE, "phone_number_verified")):
                if name in doomed:
                    new.pop(flag, None)
            write_attributes(conn, scope, user.pk, old, new, creating=False, force_alias=True)
            users_repo.update(conn, user.pk, updated_at=self._clock.now_ms())

        self._db.write("admin_delete_user_attributes", delete_txn)


def _check_verified_flags(values: dict[str, str]) -> None:
    for name, flag in ((EMAIL, "email_verified"), (PHONE, "phone_number_verified")):
        if values.get(flag) == "true" and not values.get(name):
            raise InvalidParameterException(f"No {name} provided but {flag} was set to true")


def _destinations(values: dict[str, str], mediums: list[str]) -> dict[str, str]:
    """Where the invitation goes, per requested medium; Cognito's errors when it cannot.

    Without DesiredDeliveryMediums Cognito's default medium is SMS; a user without a phone
    number then gets the invitation by email if they have an address, else none.
    """
    if not mediums:
        if values.get(PHONE):
            return {SMS_CHANNEL: values[PHONE]}
        return {EMAIL_CHANNEL: values[EMAIL]} if values.get(EMAIL) else {}
    destinations: dict[str, str] = {}
    for medium in mediums:
        if medium == "EMAIL":
            if not values.get(EMAIL):
                raise InvalidParameterException(
                    "No email provided but desired delivery medium was Email"
                )
            destinations[EMAIL_CHANNEL] = values[EMAIL]
        else:
            if not values.get(PHONE):
                raise InvalidParameterException(
                    "No phone_number provided but desired delivery medium was SMS"
                )
            destinations[SMS_CHANNEL] = values[PHONE]
    return destinations
