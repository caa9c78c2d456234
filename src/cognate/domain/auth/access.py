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
from cognate.domain.tokens import INVALID_ACCESS_TOKEN, AccessClaims, TokenIssuer
from cognate.domain.user_store import USER_NOT_FOUND, UserStatus
from cognate.storage.db import Database
from cognate.storage.repos import token_sessions as sessions_repo
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

    def signed_in(self, access_token: str) -> SignedIn:
        claims = self._issuer.read_access_token(access_token)
        context = sessions_repo.access_context(self._db.fetch, claims.origin_jti)
        if context is None:
            raise UserNotFoundException(USER_NOT_FOUND)
        user = context.user
        if user.sub != claims.sub or context.session.pool_pk != claims.pool_pk:
            raise NotAuthorizedException(INVALID_ACCESS_TOKEN)
        if context.session.revoked_at is not None:
            raise NotAuthorizedException(messages.ACCESS_TOKEN_REVOKED)
        if not user.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        if user.status == UserStatus.RESET_REQUIRED.value:
            raise PasswordResetRequiredException(messages.PASSWORD_RESET_REQUIRED)
        if user.status == UserStatus.UNCONFIRMED.value:
            raise UserNotConfirmedException(messages.USER_NOT_CONFIRMED)
        return SignedIn(claims, context)
