"""What a signed-in user does to their own attributes and account, with their access
token: UpdateUserAttributes, DeleteUserAttributes, GetUserAttributeVerificationCode,
VerifyUserAttribute and DeleteUser.

Every call goes through the one access-token check (auth/access.py) and the token's app
client's write permissions. A changed email or phone number becomes unverified and, when
the pool auto-verifies it, a code is sent to the new value (CodeDeliveryDetailsList). When
the pool lists the attribute in UserAttributeUpdateSettings.
AttributesRequireVerificationBeforeUpdate, the new value waits (in the user's `pending`
record) and the old one stays in force, for sign-in and messages, until
VerifyUserAttribute with the code sent to the new value applies it. Only email and
phone_number can be verified.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import InvalidParameterException, UserNotFoundException
from cognate.domain import codes
from cognate.domain.account_codes import delivery_details
from cognate.domain.auth.access import AccessCheck, SignedIn
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.custom_messages import (
    UPDATE_USER_ATTRIBUTE,
    VERIFY_USER_ATTRIBUTE,
    MessageContext,
)
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient
from cognate.domain.sign_up import check_writable
from cognate.domain.user_store import USER_NOT_FOUND, scope_of, write_attributes
from cognate.domain.usernames import EMAIL, PHONE, VERIFIED_FLAG
from cognate.storage.db import Database
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

CONTACTS = {EMAIL: EMAIL_CHANNEL, PHONE: SMS_CHANNEL}
NOT_VERIFIABLE = "Invalid attribute name. Only phone_number and email can be verified."  # observed


def _verify_purpose(name: str) -> str:
    return f"verify:{name}"


def _pending(conn: Connection, user: UserRow) -> dict[str, str]:
    """Values waiting for verification before they replace the current ones."""
    stored = users_repo.pending(conn, user.pk)
    return dict(loads(stored)) if stored else {}


class SelfAttributes:
    def __init__(self, db: Database, clock: Clock, access: AccessCheck, notifier: Notifier) -> None:
        self._db = db
        self._clock = clock
        self._access = access
        self._notifier = notifier

    def update(
        self,
        access_token: str,
        pairs: list[dict[str, Any]],
        client_metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        signed_in = self._access.signed_in(access_token)

        def update_txn(conn: Connection) -> list[dict[str, str]]:
            scope, user = self._locked(conn, signed_in)
            check_writable(scope, [p["Name"] for p in pairs])
            changes = scope.pool.schema.check_changes(pairs)
            old = users_repo.attributes(conn, user.pk)
            new = dict(old)
            required = set(scope.pool.schema.required())
            for name, value in changes.items():
                if value == "":
                    if name in required:
                        raise InvalidParameterException(
                            f"Invalid user attributes: {name}: Required attribute cannot be "
                            "deleted."
                        )
                    new.pop(name, None)
                    new.pop(VERIFIED_FLAG.get(name, ""), None)
                else:
                    new[name] = value
            pending = _pending(conn, user)
            delayed = set(
                (scope.pool.settings.get("UserAttributeUpdateSettings") or {}).get(
                    "AttributesRequireVerificationBeforeUpdate"
                )
                or []
            )
            auto = set(scope.pool.settings.get("AutoVerifiedAttributes") or [])
            sent: list[dict[str, str]] = []
            codes_for: list[tuple[str, str]] = []
            now = self._clock.now_ms()
            for name, channel in CONTACTS.items():
                if name not in changes or changes[name] == old.get(name):
                    continue
                # A code sent for the previous value must not verify this one.
                messages_repo.delete_code(conn, user.pk, _verify_purpose(name))
                changed = changes[name]
                if not changed:
                    pending.pop(name, None)
                    continue
                if name in delayed and old.get(VERIFIED_FLAG[name]) == "true":
                    new[name] = old[name]  # the old, verified value stays in force
                    pending[name] = changed
                else:
                    new[VERIFIED_FLAG[name]] = "false"
                    pending.pop(name, None)
                if name in auto or name in pending:
                    codes_for.append((name, changed))
                    sent.append(delivery_details(channel, changed))
            write_attributes(conn, scope.pool, user.pk, old, new, creating=False, force_alias=False)
            users_repo.update(
                conn, user.pk, pending=dumps(pending) if pending else None, updated_at=now
            )
            # After the change: trigger functions see the user as the update left them.
            for name, value in codes_for:
                self._send(conn, scope, user, name, value, now)
            return sent

        context = MessageContext(
            UPDATE_USER_ATTRIBUTE, signed_in.context.client.client_id, client_metadata or {}
        )
        sent = self._notifier.write(
            self._db, "update_user_attributes", update_txn, context, conflicts=2
        )
        return {"CodeDeliveryDetailsList": sent} if sent else {}

    def delete(self, access_token: str, names: list[str]) -> None:
        signed_in = self._access.signed_in(access_token)

        def delete_txn(conn: Connection) -> None:
            scope, user = self._locked(conn, signed_in)
            # Names the pool does not define are nothing to delete (Cognito answers 200).
            known = [n for n in names if n in scope.pool.schema]
            check_writable(scope, known)
            required = set(scope.pool.schema.required())
            for name in known:
                if name in required:
                    raise InvalidParameterException(
                        f"Invalid user attributes: {name}: Required attribute cannot be deleted."
                    )
            doomed = set(scope.pool.schema.check_deletions(known))
            old = users_repo.attributes(conn, user.pk)
            new = {k: v for k, v in old.items() if k not in doomed}
            for name in doomed & set(CONTACTS):
                new.pop(VERIFIED_FLAG[name], None)
                messages_repo.delete_code(conn, user.pk, _verify_purpose(name))
            write_attributes(conn, scope.pool, user.pk, old, new, creating=False, force_alias=False)
            users_repo.update(conn, user.pk, updated_at=self._clock.now_ms())

        self._db.write("delete_user_attributes", delete_txn)

    def send_verification_code(
        self, access_token: str, name: str, client_metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        if name not in CONTACTS:
            raise InvalidParameterException(NOT_VERIFIABLE)
        signed_in = self._access.signed_in(access_token)

        def send_txn(conn: Connection) -> dict[str, str]:
            scope, user = self._locked(conn, signed_in)
            value = _pending(conn, user).get(name) or users_repo.attributes(conn, user.pk).get(name)
            if not value:
                raise InvalidParameterException(
                    f"Unable to verify attribute: {name} no value set to verify"
                )
            self._send(conn, scope, user, name, value, self._clock.now_ms())
            return delivery_details(CONTACTS[name], value)

        context = MessageContext(
            VERIFY_USER_ATTRIBUTE, signed_in.context.client.client_id, client_metadata or {}
        )
        details = self._notifier.write(
            self._db, "get_user_attribute_verification_code", send_txn, context
        )
        return {"CodeDeliveryDetails": details}

    def verify(self, access_token: str, name: str, code: str) -> None:
        if name not in CONTACTS:
            raise InvalidParameterException(NOT_VERIFIABLE)
        signed_in = self._access.signed_in(access_token)

        def verify_txn(conn: Connection) -> codes.Verdict:
            scope, user = self._locked(conn, signed_in)
            old = users_repo.attributes(conn, user.pk)
            pending = _pending(conn, user)
            if not (pending.get(name) or old.get(name)):
                raise InvalidParameterException(
                    f"Unable to verify attribute: {name} no value set to verify"
                )
            now = self._clock.now_ms()
            verdict = codes.check(conn, self._notifier, user.pk, _verify_purpose(name), code, now)
            if verdict is not codes.Verdict.MATCH:
                return verdict
            new = dict(old)
            if name in pending:
                new[name] = pending.pop(name)
            new[VERIFIED_FLAG[name]] = "true"
            # Verifying an address another user holds as an alias moves the alias here.
            write_attributes(conn, scope.pool, user.pk, old, new, creating=False, force_alias=True)
            users_repo.update(
                conn, user.pk, pending=dumps(pending) if pending else None, updated_at=now
            )
            return verdict

        codes.raise_for(self._db.write("verify_user_attribute", verify_txn, conflicts=2))

    def delete_user(self, access_token: str) -> None:
        user = self._access.signed_in(access_token).context.user
        self._db.write("delete_user", lambda conn: users_repo.delete(conn, user.pk))

    # ------------------------------------------------------------------ helpers

    def _locked(self, conn: Connection, signed_in: SignedIn) -> tuple[ClientScope, UserRow]:
        """The token's client with its pool, and its user read again under a row lock."""
        context = signed_in.context
        user = users_repo.by_pk(conn, context.user.pk, for_update=True)
        pool = pools_repo.by_pk(conn, context.user.pool_pk)
        if user is None or pool is None:  # deleted since the token check
            raise UserNotFoundException(USER_NOT_FOUND)
        return ClientScope(context.client, scope_of(pool)), user

    def _send(
        self, conn: Connection, scope: ClientScope, user: UserRow, name: str, value: str, now: int
    ) -> None:
        self._notifier.send_code(
            conn,
            Recipient(scope.pool.pool.pk, user.pk, user.username),
            scope.pool.settings,
            purpose=_verify_purpose(name),
            channel=CONTACTS[name],
            destination=value,
            now=now,
        )
