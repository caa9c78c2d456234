"""The one access-token check behind every operation a signed-in user calls with their
token (GetUser, ChangePassword, GlobalSignOut, the session and self-service operations).

First what the token proves by itself (tokens.py: signature by one of the pool's access
token keys, token_use, expiry, the aws.cognito.signin.user.admin scope), then one
database statement: the token's session (by `origin_jti`) with its client, user and
attributes. A revoked session is "Access Token has been revoked"; a deleted user has no
session rows left and is UserNotFoundException; a disabled user's sessions were revoked
when they were disabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from cognate.api.exceptions import (
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.tokens import INVALID_ACCESS_TOKEN, SIGN_IN_SCOPE, AccessClaims, TokenIssuer
from cognate.domain.user_store import USER_NOT_FOUND, UserStatus
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import token_sessions as sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.token_sessions import AccessContext


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A verified access token and what it stands for."""

    claims: AccessClaims
    context: AccessContext


class AccessCheck:
    def __init__(self, db: Database, issuer: TokenIssuer) -> None:
        self._db = db
        self._issuer = issuer

    def signed_in(self, access_token: str | None, required_scope: str = SIGN_IN_SCOPE) -> SignedIn:
        if not access_token:  # GetDevice and ForgetDevice leave AccessToken optional
            raise NotAuthorizedException(INVALID_ACCESS_TOKEN)
        claims = self._issuer.read_access_token(access_token, required_scope)
        if claims.origin_jti is None:
            context = self._without_session(claims)
        else:
            found = sessions_repo.access_context(self._db.fetch, claims.origin_jti)
            if found is None:
                raise UserNotFoundException(USER_NOT_FOUND)
            context = found
            session = context.session
            assert session is not None
            if context.user.sub != claims.sub or session.pool_pk != claims.pool_pk:
                raise NotAuthorizedException(INVALID_ACCESS_TOKEN)
            if session.revoked_at is not None:
                raise NotAuthorizedException(messages.ACCESS_TOKEN_REVOKED)
        user = context.user
        if not user.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        if user.status == UserStatus.RESET_REQUIRED.value:
            raise PasswordResetRequiredException(messages.PASSWORD_RESET_REQUIRED)
        if user.status == UserStatus.UNCONFIRMED.value:
            raise UserNotConfirmedException(messages.USER_NOT_CONFIRMED)
        return SignedIn(claims, context)

    def _without_session(self, claims: AccessClaims) -> AccessContext:
        """A token of a client without token revocation names no session: it is revoked
        when its user's tokens were (sign-out, disabling, an administrator's password)
        in or after the second it was issued, Cognito's cut-off."""
        found = users_repo.fetch_by_sub(self._db.fetch, claims.sub)
        if found is None:
            raise UserNotFoundException(USER_NOT_FOUND)
        client = clients_repo.fetch_with_pool(self._db.fetch, claims.client_id)
        if client is None or found.user.pool_pk != claims.pool_pk:
            raise NotAuthorizedException(INVALID_ACCESS_TOKEN)
        if claims.issued_at * 1000 < found.user.tokens_valid_after:
            raise NotAuthorizedException(messages.ACCESS_TOKEN_REVOKED)
        return AccessContext(None, client.client, found.user, found.attributes)
