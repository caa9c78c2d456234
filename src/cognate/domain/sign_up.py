"""Self-service sign-up (SignUp): a new UNCONFIRMED user and a confirmation code.

The request names an app client, not a pool: its SECRET_HASH is checked, the pool must
allow self sign-up, the password must meet the pool's policy, required attributes must
be present and the client must be allowed to write every attribute it sends. Username
rules are the pool's (email/phone as username, alias restrictions). When the pool
auto-verifies email or phone, a confirmation code goes to the user (phone first, as
Cognito prefers) and the response says where, masked.

Alias pools let a user sign up with an email another user has verified: the conflict
appears only when the new user confirms.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    UsernameExistsException,
)
from cognate.domain import passwords
from cognate.domain.client_auth import ClientScope, check_secret_hash, load_client
from cognate.domain.clock import Clock
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient, mask_destination
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import PasswordVault, UserStatus, write_attributes
from cognate.domain.usernames import EMAIL, PHONE
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo

UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"  # observed


_NEVER_CLIENT_WRITABLE = frozenset({"sub", "email_verified", "phone_number_verified"})


def check_writable(scope: ClientScope, names: list[str]) -> None:
    """The client may write only its WriteAttributes (when it has a list), and never
    developer-only attributes, `sub` or the verification flags (only administrators and
    verification set those)."""
    allowed = scope.client.settings.get("WriteAttributes")
    for name in names:
        attribute = scope.pool.schema.attribute(name) or {}
        if (
            name in _NEVER_CLIENT_WRITABLE
            or attribute.get("DeveloperOnlyAttribute")
            or (allowed is not None and name not in allowed)
        ):
            raise NotAuthorizedException(UNAUTHORIZED_ATTRIBUTE)


def confirmation_channel(
    settings: dict[str, Any], values: dict[str, str]
) -> tuple[str, str, str] | None:
    """(attribute, channel, destination) of the sign-up confirmation code, if any."""
    auto = set(settings.get("AutoVerifiedAttributes") or [])
    if PHONE in auto and values.get(PHONE):
        return PHONE, SMS_CHANNEL, values[PHONE]
    if EMAIL in auto and values.get(EMAIL):
        return EMAIL, EMAIL_CHANNEL, values[EMAIL]
    return None


class SignUpService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        vault: PasswordVault,
        notifier: Notifier,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._vault = vault
        self._notifier = notifier

    def sign_up(self, request: dict[str, Any]) -> dict[str, Any]:
        def sign_up_txn(conn: Connection) -> dict[str, Any]:
            scope = load_client(conn, request["ClientId"], lock_pool=True)
            return self._sign_up(conn, scope, request)

        return self._db.write("sign_up", sign_up_txn, conflicts=2)

    def _sign_up(
        self, conn: Connection, scope: ClientScope, request: dict[str, Any]
    ) -> dict[str, Any]:
        pool = scope.pool
        requested = request["Username"]
        check_secret_hash(conn, self._box, scope.client, requested, request.get("SecretHash"))
        if (pool.settings.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedException("SignUp is not permitted for this user pool")
        username, from_username = pool.sign_in.new_user_name(requested)
        pairs = request.get("UserAttributes") or []
        check_writable(scope, [pair["Name"] for pair in pairs])
        values = pool.schema.check_new(pairs)
        values.update(from_username)
        for flag in ("email_verified", "phone_number_verified"):
            values.pop(flag, None)  # only verification makes a contact verified
        missing = pool.schema.missing_required(values)
        if missing:
            raise InvalidParameterException(
                "Attributes did not conform to the schema: "
                + "".join(f"{name}: The attribute is required\n" for name in missing)
            )
        password = request.get("Password")
        if not password:
            raise InvalidParameterException("Password is required to sign up in this user pool.")
        passwords.check_policy(
            password, passwords.policy_of(pool.settings), passwords.PREFIX_SIGN_UP
        )
        sub = str(uuid.uuid4())
        # Generated usernames cannot clash (their email or phone can: see write_attributes).
        key = pool.sign_in.username_key(username) if username is not None else None
        if key is not None and users_repo.by_username(conn, pool.pool.pk, key):
            raise UsernameExistsException("User already exists")
        username = username or sub
        now = self._clock.now_ms()
        record = passwords.make_record(pool.pool.id, username, password)
        user_pk = users_repo.insert(
            conn,
            pool_pk=pool.pool.pk,
            username=username,
            username_key=pool.sign_in.username_key(username),
            sub=sub,
            status=UserStatus.UNCONFIRMED,
            enabled=True,
            password_enc=self._vault.seal(sub, record),
            password_history_enc=None,
            password_expires_at=None,
            pending=None,
            tokens_valid_after=0,
            created_at=now,
            updated_at=now,
        )
        write_attributes(conn, pool, user_pk, {}, values, creating=True, force_alias=False)
        response: dict[str, Any] = {"UserConfirmed": False, "UserSub": sub}
        channel = confirmation_channel(pool.settings, values)
        if channel is not None:
            attribute, medium, destination = channel
            self._notifier.send_code(
                conn,
                Recipient(pool.pool.pk, user_pk, requested),
                pool.settings,
                purpose="confirm_sign_up",
                channel=medium,
                destination=destination,
                now=now,
            )
            response["CodeDeliveryDetails"] = {
                "Destination": mask_destination(medium, destination),
                "DeliveryMedium": medium,
                "AttributeName": attribute,
            }
        return response
