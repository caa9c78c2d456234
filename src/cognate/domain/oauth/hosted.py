"""Hosted sign-in: checking a password server side, the 1-hour session cookie, and
authorization codes.

Both live in `auth_sessions` (challenge_sessions.py): only a hash of the cookie or code
is stored, with its state sealed. A hosted session (`HOSTED_SESSION`) is read without
being used up while it lasts (one hour), and deleted by /logout; a code
(`AUTHORIZATION_CODE`) is taken once, within 5 minutes, by the client it was issued to.
The password is checked by the same PasswordCheck the API's password flows use (disabled,
unconfirmed, reset-required and locked-out users are refused in the same words); users
who owe a new password or MFA get `StepNotSupported` (the hosted pages for those steps
are not built yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import messages
from cognate.domain import mfa_preferences as prefs
from cognate.domain.auth.auth_triggers import AuthTriggers
from cognate.domain.auth.context import SignInUser, find_sign_in_user, user_by_pk
from cognate.domain.auth.password_check import NEW_PASSWORD_REQUIRED, PasswordCheck
from cognate.domain.auth.token_sessions import Activity
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


class StepNotSupported(Exception):
    """The user owes a step (new password, MFA) that the hosted pages cannot take yet."""


@dataclass(frozen=True, slots=True)
class HostedSession:
    user: SignInUser
    auth_time_ms: int


class HostedSignIn:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        challenges: ChallengeSessions,
        passwords: PasswordCheck,
        auth_triggers: AuthTriggers,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._passwords = passwords
        self._auth_triggers = auth_triggers

    def sign_in(self, scope: ClientScope, username: str, password: str, ip: str | None) -> str:
        """Check the password; return a new hosted session's cookie value."""
        found = find_sign_in_user(self._db, scope.pool, username)
        if found is None:
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        self._passwords.before_password(found.row)
        self._passwords.check_password(scope.pool.pool.id, found.row, password)
        if self._passwords.after_password(found.row) == NEW_PASSWORD_REQUIRED:
            raise StepNotSupported("a new password")
        if _owes_mfa(scope, found):
            raise StepNotSupported("multi-factor authentication")
        self._auth_triggers.post_authentication(scope, found, Activity(ip=ip), False)
        return self.open_session(scope, found.row.pk)

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


def _owes_mfa(scope: ClientScope, found: SignInUser) -> bool:
    """Whether MFA would be asked (without sending a code): the pool's MFA is ON, or
    OPTIONAL and the user has a factor enabled."""
    mode = scope.pool.settings.get("MfaConfiguration", "OFF")
    if mode == "OFF":
        return False
    if mode == "ON":
        return True
    offered = prefs.pool_factors(scope.pool.settings)
    return any(f in offered for f in prefs.enabled_factors(prefs.preferences(found.row)))
