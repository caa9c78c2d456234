"""The last step of every successful sign-in: a token session, then signed tokens.

One write transaction records the sign-in (clears the lockout count, applies what the
final step changes, e.g. a new password, starts the token session); the RSA signatures
are made after it commits, so the database is never held for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import messages
from cognate.domain.auth import lockout
from cognate.domain.auth.context import groups_of
from cognate.domain.auth.token_sessions import Activity, TokenSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.tokens import GroupClaim, IssuedTokens, Subject, TokenIssuer, validity_seconds
from cognate.storage.db import Database
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow


def authentication_result(tokens: IssuedTokens, refresh_token: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": "Bearer",
        "IdToken": tokens.id_token,
    }
    if refresh_token is not None:
        result["RefreshToken"] = refresh_token
    return result


def subject_of(conn: Connection, user: UserRow) -> Subject:
    """The user as tokens describe them, read inside the caller's transaction."""
    groups = [GroupClaim(g.name, g.role_arn, g.precedence) for g in groups_of(conn, user.pk)]
    return Subject(user, users_repo.attributes(conn, user.pk), groups)


class Completion:
    def __init__(
        self, db: Database, clock: Clock, sessions: TokenSessions, issuer: TokenIssuer
    ) -> None:
        self._db = db
        self._clock = clock
        self._sessions = sessions
        self._issuer = issuer

    def sign_in(
        self,
        scope: ClientScope,
        user: UserRow,
        *,
        activity: Activity,
        device_key: str | None = None,
        before: Callable[[Connection], None] | None = None,
    ) -> dict[str, Any]:
        """Finish a sign-in: `before` runs first in the same transaction (a new password,
        attributes). Returns the operation's response."""
        client = scope.client
        pool = scope.pool.pool
        refresh_ms = validity_seconds(client, "RefreshTokenValidity") * 1000

        def record(conn: Connection) -> tuple[Subject, Any]:
            if before is not None:
                before(conn)
            current = users_repo.by_pk(conn, user.pk)
            if current is None or not current.enabled:
                raise NotAuthorizedException(messages.USER_DISABLED)
            lockout.reset(conn, current)
            started = self._sessions.start(
                conn,
                pool=pool,
                client=client,
                user_pk=user.pk,
                refresh_ms=refresh_ms,
                auth_time=self._clock.now_ms(),
                device_key=device_key,
                activity=activity,
            )
            return subject_of(conn, current), started

        subject, started = self._db.write("sign_in", record)
        tokens = self._issuer.user_tokens(pool, client, subject, started.facts)
        return {
            "ChallengeParameters": {},
            "AuthenticationResult": authentication_result(tokens, started.refresh_token),
        }
