"""Hosted sign-in: the 1-hour session cookie, and authorization codes.

Both live in `auth_sessions` (challenge_sessions.py): only a hash of the cookie or code
is stored, with its state sealed. A hosted session (`HOSTED_SESSION`) is read without
being used up while it lasts (one hour), and deleted by /logout; a code
(`AUTHORIZATION_CODE`) is taken once, within 5 minutes, by the client it was issued to.
The sign-in that opens a session is challenges.py's (the API's own machinery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cognate.domain.auth.context import SignInUser, user_by_pk
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.oauth import codes
from cognate.domain.oauth.authorize import AuthorizeRequest, state_of
from cognate.storage.db import Database

HOSTED_SESSION = "HOSTED_SESSION"
AUTHORIZATION_CODE = "AUTHORIZATION_CODE"
SESSION_MINUTES = 60
CODE_MINUTES = 5


@dataclass(frozen=True, slots=True)
class HostedSession:
    user: SignInUser
    auth_time_ms: int


class HostedSignIn:
    def __init__(self, db: Database, clock: Clock, challenges: ChallengeSessions) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges

    def open_session(self, scope: ClientScope, user_pk: int) -> str:
        """A new hosted session for a user who has just signed in; its cookie value."""
        state = {"auth_time": self._clock.now_ms()}
        token = self._db.write(
            "open_hosted_session",
            lambda c: self._challenges.open(
                c,
                pool_pk=scope.pool.pool.pk,
                client_pk=scope.client.pk,
                user_pk=user_pk,
                challenge=HOSTED_SESSION,
                state=state,
                minutes=SESSION_MINUTES,
            ),
        )
        return codes.to_url(token)

    def session(self, cookie: str | None, pool_pk: int) -> HostedSession | None:
        """The signed-in user of a session cookie for this pool (None: sign in first)."""
        token = codes.from_url(cookie)
        if token is None:
            return None
        found = self._challenges.peek(token, HOSTED_SESSION)
        if found is None or found.pool_pk != pool_pk or found.user_pk is None:
            return None
        user = user_by_pk(self._db, found.user_pk)
        if user is None or not user.row.enabled:
            return None
        return HostedSession(user, int(found.state["auth_time"]))

    def end(self, cookie: str | None) -> None:
        token = codes.from_url(cookie)
        if token is not None:
            self._challenges.discard(token)

    def issue_code(self, request: AuthorizeRequest, session: HostedSession) -> str:
        state: dict[str, Any] = {**state_of(request), "auth_time": session.auth_time_ms}
        token = self._db.write(
            "open_authorization_code",
            lambda c: self._challenges.open(
                c,
                pool_pk=request.scope.pool.pool.pk,
                client_pk=request.scope.client.pk,
                user_pk=session.user.row.pk,
                challenge=AUTHORIZATION_CODE,
                state=state,
                minutes=CODE_MINUTES,
            ),
        )
        return codes.to_url(token)
