"""Self-service sign-up (SignUp): a new UNCONFIRMED user and a confirmation code.

The request names an app client, not a pool: its SECRET_HASH is checked, the pool must
allow self sign-up, the password must meet the pool's policy, required attributes must
be present and the client must be allowed to write every attribute it sends. Username
rules are the pool's (email/phone as username, alias restrictions). When the pool
auto-verifies email or phone, a confirmation code goes to the user (phone first, as
Cognito prefers) and the response says where, masked.

Alias pools let a user sign up with an email another user has verified: the conflict
appears only when the new user confirms.

With a PreSignUp trigger (account_triggers.py) the request is checked, the function runs
outside any transaction, and the user is created in a second transaction that checks
everything again. The function may confirm the user (then no code is sent,
UserConfirmed is true and PostConfirmation runs) and verify their email or phone number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    UsernameExistsException,
)
from cognate.domain import auth_events, custom_messages, passwords
from cognate.domain.account_triggers import (
    CONFIRM_SIGN_UP,
    PRE_SIGN_UP,
    SIGN_UP,
    SignUpDecision,
    name_value_map,
    post_confirmation,
    pre_sign_up,
)
from cognate.domain.client_auth import (
    ClientScope,
    check_secret_hash,
    fetch_client,
    load_client,
)
from cognate.domain.clock import Clock
from cognate.domain.notifications import EMAIL as EMAIL_CHANNEL
from cognate.domain.notifications import SMS as SMS_CHANNEL
from cognate.domain.notifications import Notifier, Recipient, mask_destination
from cognate.domain.secretbox import SecretBox
from cognate.domain.triggers import Triggers
from cognate.domain.user_store import PasswordVault, UserStatus, write_attributes
from cognate.domain.usernames import EMAIL, PHONE
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

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
        triggers: Triggers,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._vault = vault
        self._notifier = notifier
        self._triggers = triggers

    def sign_up(self, request: dict[str, Any]) -> dict[str, Any]:
        sub = str(uuid.uuid4())
        auth_events.check_sign_up(request["ClientId"], request.get("Password"))
        decision = SignUpDecision()
        if self._has_pre_sign_up(request["ClientId"]):
            # Validate first (the function sees only a sign-up that can succeed), run the
            # function outside any transaction, then create, checking everything again.
            def check_txn(conn: Connection) -> tuple[ClientScope, _Checked]:
                scope = load_client(conn, request["ClientId"])
                return scope, self._check(conn, scope, request)

            scope, checked = self._db.read("sign_up_check", check_txn)
            decision = pre_sign_up(
                self._triggers,
                scope.pool.pool,
                SIGN_UP,
                username=checked.username or sub,
                client_id=scope.client.client_id,
                attributes=checked.values,
                validation_data=name_value_map(request.get("ValidationData")),
                client_metadata=request.get("ClientMetadata") or {},
            )

        def sign_up_txn(conn: Connection) -> tuple[ClientScope, dict[str, Any], UserRow | None]:
            scope = load_client(conn, request["ClientId"], lock_pool=True)
            checked = self._check(conn, scope, request)
            response, confirmed = self._create(conn, scope, checked, sub, decision)
            return scope, response, confirmed

        context = custom_messages.MessageContext(
            custom_messages.SIGN_UP, request["ClientId"], request.get("ClientMetadata") or {}
        )
        scope, response, confirmed = self._notifier.write(
            self._db, "sign_up", sign_up_txn, context, conflicts=2
        )
        if confirmed is not None:
            # An auto-confirmed sign-up is a confirmation: PostConfirmation runs, as it
            # would for ConfirmSignUp (its ClientMetadata is SignUp's).
            post_confirmation(
                self._triggers,
                scope.pool.pool,
                CONFIRM_SIGN_UP,
                user=confirmed,
                attributes=self._db.read(
                    "sign_up_attributes", lambda c: users_repo.attributes(c, confirmed.pk)
                ),
                client_id=scope.client.client_id,
                client_metadata=request.get("ClientMetadata") or {},
            )
        return response

    def _has_pre_sign_up(self, client_id: str) -> bool:
        scope = fetch_client(self._db.fetch, client_id)
        return self._triggers.configured(scope.pool.pool, PRE_SIGN_UP)

    def _check(self, conn: Connection, scope: ClientScope, request: dict[str, Any]) -> _Checked:
        """Everything SignUp refuses before the user exists."""
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
        # Generated usernames cannot clash (their email or phone can: see write_attributes).
        key = pool.sign_in.username_key(username) if username is not None else None
        if key is not None and users_repo.by_username(conn, pool.pool.pk, key):
            raise UsernameExistsException("User already exists")
        return _Checked(requested, username, values, password)

    def _create(
        self,
        conn: Connection,
        scope: ClientScope,
        checked: _Checked,
        sub: str,
        decision: SignUpDecision,
    ) -> tuple[dict[str, Any], UserRow | None]:
        """Create the user; the response, and the user when PreSignUp confirmed them."""
        pool = scope.pool
        values = dict(checked.values)
        # PreSignUp may verify the email or phone number (moving an alias to this user).
        verified = decision.verified_flags(values)
        values.update(verified)
        username = checked.username or sub
        now = self._clock.now_ms()
        record = passwords.make_record(pool.pool.id, username, checked.password)
        status = UserStatus.CONFIRMED if decision.confirm else UserStatus.UNCONFIRMED
        row: dict[str, Any] = {
            "pool_pk": pool.pool.pk,
            "username": username,
            "sub": sub,
            "status": status.value,
            "enabled": True,
            "password_enc": self._vault.seal(sub, record),
            "password_history_enc": None,
            "password_expires_at": None,
            "tokens_valid_after": 0,
            "created_at": now,
            "updated_at": now,
        }
        user_pk = users_repo.insert(
            conn, username_key=pool.sign_in.username_key(username), pending=None, **row
        )
        write_attributes(conn, pool, user_pk, {}, values, creating=True, force_alias=bool(verified))
        auth_events.account_event(conn, pool.pool, user_pk, auth_events.SIGN_UP)
        response: dict[str, Any] = {"UserConfirmed": decision.confirm, "UserSub": sub}
        if decision.confirm:
            return response, UserRow(pk=user_pk, **row)  # confirmed: no code to send
        channel = confirmation_channel(pool.settings, values)
        if channel is not None:
            attribute, medium, destination = channel
            self._notifier.send_code(
                conn,
                Recipient(pool.pool.pk, user_pk, checked.requested),
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
        return response, None


@dataclass(frozen=True, slots=True)
class _Checked:
    """A sign-up request that passed every check."""

    requested: str
    username: str | None  # None: generated (the sub)
    values: dict[str, str]
    password: str
