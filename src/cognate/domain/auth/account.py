"""What a signed-in user (or an administrator for them) does with tokens: GetUser,
ChangePassword, GlobalSignOut, AdminUserGlobalSignOut, RevokeToken and the auth-factor
listings.

GetUser shows only the attributes the token's app client may read. ChangePassword proves
the previous password (a wrong one counts toward the lockout like a failed sign-in),
checks the policy and history, and replaces the SRP verifier; Cognito does not end other
sessions on it. GlobalSignOut ends every session of the user; RevokeToken ends the one
its refresh token belongs to, with RFC 7009's rule that an unknown token is not an error.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    UnauthorizedException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
)
from cognate.domain import auth_events, mfa_preferences, passwords
from cognate.domain.auth import lockout
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.context import client_of
from cognate.domain.auth.password_check import PasswordCheck
from cognate.domain.auth.token_sessions import TokenSessions
from cognate.domain.clock import Clock
from cognate.domain.pool_settings import first_auth_factors
from cognate.domain.secretbox import SecretBox
from cognate.domain.tokens import readable_attributes
from cognate.domain.user_store import PasswordVault, load_scope, require_user, user_details
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import passkeys as passkeys_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow


def auth_factors(conn: Connection, pool_settings: dict[str, Any], user: UserRow) -> dict[str, Any]:
    """GetUserAuthFactors' answer: the user's MFA settings and the USER_AUTH first factors
    they have set up (a password; a verified email or phone where the pool allows
    EMAIL_OTP / SMS_OTP; passkeys)."""
    allowed = first_auth_factors(pool_settings)
    attributes = users_repo.attributes(conn, user.pk)
    factors = ["PASSWORD"] if user.password_enc is not None else []
    if "EMAIL_OTP" in allowed and attributes.get("email_verified") == "true":
        factors.append("EMAIL_OTP")
    if "SMS_OTP" in allowed and attributes.get("phone_number_verified") == "true":
        factors.append("SMS_OTP")
    if passkeys_repo.count(conn, user.pk):
        factors.append("WEB_AUTHN")
    fields = mfa_preferences.user_fields(user)
    fields.pop("MFAOptions", None)
    return {"Username": user.username, **fields, "ConfiguredUserAuthFactors": factors}


class AccountService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        vault: PasswordVault,
        access: AccessCheck,
        passwords_check: PasswordCheck,
        sessions: TokenSessions,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._vault = vault
        self._access = access
        self._passwords = passwords_check
        self._sessions = sessions

    def get_user(self, access_token: str) -> dict[str, Any]:
        signed_in = self._access.signed_in(access_token)
        context = signed_in.context
        visible = readable_attributes(context.client, context.attributes)
        if "sub" in context.attributes:
            visible["sub"] = context.attributes["sub"]
        details = user_details(context.user, visible)
        details.pop("Attributes", None)
        return {"Username": context.user.username, **details}

    def change_password(self, access_token: str, previous: str | None, proposed: str) -> None:
        signed_in = self._access.signed_in(access_token)
        user = signed_in.context.user
        pool = self._db.read("pool", lambda c: pools_repo.by_pk(c, user.pool_pk))
        assert pool is not None  # the user's row references it
        lockout.check_not_locked(user, self._clock.now_ms())
        if user.password_enc is not None:
            if not previous:
                raise InvalidParameterException("PreviousPassword is required.")
            self._passwords.check_password(pool.id, user, previous)
        policy = passwords.policy_of(pool.settings)
        passwords.check_policy(proposed, policy, passwords.PREFIX_CHANGE)
        client = signed_in.context.client
        kind = "PASSWORD_CHANGE"
        compromised = auth_events.check_password(pool, client.pk, user.pk, proposed, kind)
        size = int(policy.get("PasswordHistorySize") or 0)

        def change(conn: Connection) -> None:
            current = users_repo.by_pk(conn, user.pk, for_update=True)
            if current is None:
                return
            history = self._vault.open_history(current)
            passwords.check_history(history, pool.id, user.username, proposed, size)
            record = passwords.make_record(pool.id, user.username, proposed)
            lockout.reset(conn, current)
            users_repo.update(
                conn,
                user.pk,
                password_enc=self._vault.seal(user.sub, record),
                password_history_enc=self._vault.seal_history(
                    user.sub, passwords.with_history(history, record, size)
                ),
                updated_at=self._clock.now_ms(),
            )
            event = auth_events.PASSWORD_CHANGE
            auth_events.account_event(conn, pool, user.pk, event, compromised=compromised)

        self._db.write("change_password", change)

    def global_sign_out(self, access_token: str) -> None:
        user = self._access.signed_in(access_token).context.user
        self._db.write("global_sign_out", lambda c: self._sessions.revoke_all(c, user.pk))

    def admin_global_sign_out(self, region: str, pool_id: str, username: str) -> None:
        def sign_out(conn: Connection) -> None:
            user = require_user(conn, load_scope(conn, region, pool_id), username)
            self._sessions.revoke_all(conn, user.pk)

        self._db.write("admin_user_global_sign_out", sign_out)

    def revoke_token(self, client_id: str, token: str, client_secret: str | None) -> None:
        try:
            scope = client_of(self._db, client_id)
        except ResourceNotFoundException as missing:
            # RevokeToken declares no ResourceNotFoundException: an unknown client is an
            # unauthorized one (as /oauth2/revoke answers invalid_client).
            raise UnauthorizedException(missing.message) from None
        if not scope.client.settings.get("EnableTokenRevocation", True):
            raise UnsupportedOperationException(
                f"Token revocation is not enabled for app client {client_id}."
            )
        self._check_secret(scope.client.pk, client_id, client_secret)
        hit = self._sessions.find(token)
        if hit is None:
            if token.count(".") == 2:  # a JWT: an ID or access token, not a refresh token
                raise UnsupportedTokenTypeException("Only refresh tokens can be revoked.")
            return  # RFC 7009: revoking an unknown token is not an error
        if hit.client_id != client_id:
            raise UnauthorizedException("The token was not issued to this app client.")
        self._db.write("revoke_token", lambda c: self._sessions.revoke(c, hit.session.pk))

    def get_auth_factors(self, access_token: str) -> dict[str, Any]:
        user = self._access.signed_in(access_token).context.user

        def read(conn: Connection) -> dict[str, Any]:
            pool = pools_repo.by_pk(conn, user.pool_pk)
            assert pool is not None
            return auth_factors(conn, pool.settings, user)

        return self._db.read("get_user_auth_factors", read)

    def admin_get_auth_factors(self, region: str, pool_id: str, username: str) -> dict[str, Any]:
        def read(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, pool_id)
            return auth_factors(conn, scope.settings, require_user(conn, scope, username))

        return self._db.read("admin_get_user_auth_factors", read)

    def _check_secret(self, client_pk: int, client_id: str, given: str | None) -> None:
        secrets = self._db.read("client_secrets", lambda c: clients_repo.secrets(c, client_pk))
        if not secrets:
            return
        if given is None:
            raise UnauthorizedException(
                f"Client {client_id} is configured with a secret, but no secret was received."
            )
        for row in secrets:
            secret = self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
            if hmac.compare_digest(secret.encode(), given.encode()):
                return
        raise UnauthorizedException(f"Unable to verify the secret of client {client_id}.")
