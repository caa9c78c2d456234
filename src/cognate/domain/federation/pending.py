"""The sign-ins waiting at a third-party identity provider: what /oauth2/authorize was
asked (its query, so the app's request can be answered once the user is back), which
provider, and the nonce sent to it.

Kept in `auth_sessions` (challenge_sessions.py) as a `FEDERATION` row keyed by the opaque
`state` sent to the provider (OIDC and social providers) or the SAML `RelayState`: only
its hash is stored, the content sealed; taken once (a replayed or forged state is
refused), within 15 minutes (*chosen*: Cognito documents no figure; the longest
AuthSessionValidity). Nothing is kept in process memory, so any process can finish it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain.challenge_sessions import EXPIRED_SESSION, ChallengeSessions
from cognate.domain.oauth import codes
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.storage.db import Database

FEDERATION = "FEDERATION"
MINUTES = 15


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in coming back from its provider."""

    pool_pk: int
    client_pk: int
    query: dict[str, str]  # the original /oauth2/authorize query
    provider: str
    extra: dict[str, Any]  # what the provider step keeps (the OIDC nonce...)


class StateError(Exception):
    """The state is unknown, used, or expired."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class PendingSignIns:
    def __init__(self, db: Database, challenges: ChallengeSessions) -> None:
        self._db = db
        self._challenges = challenges

    def begin(
        self,
        request: AuthorizeRequest,
        query: dict[str, str],
        provider: str,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Remember the request; the URL-safe token to send as `state` / RelayState."""
        state = {"query": dict(query), "provider": provider, "extra": dict(extra or {})}
        token = self._db.write(
            "begin_federation",
            lambda c: self._challenges.open(
                c,
                pool_pk=request.scope.pool.pool.pk,
                client_pk=request.scope.client.pk,
                user_pk=None,
                challenge=FEDERATION,
                state=state,
                minutes=MINUTES,
            ),
        )
        return codes.to_url(token)

    def take(self, value: str | None) -> Pending:
        """The sign-in a `state` names, used up; StateError if there is none."""
        token = codes.from_url(value)
        if token is None:
            raise StateError(expired=False)
        try:
            taken = self._challenges.take(token, None)
        except NotAuthorizedException as exc:
            raise StateError(expired=exc.message == EXPIRED_SESSION) from None
        if taken.name != FEDERATION:
            raise StateError(expired=False)
        state = taken.state
        return Pending(
            taken.pool_pk,
            taken.client_pk,
            {str(k): str(v) for k, v in state["query"].items()},
            str(state["provider"]),
            dict(state.get("extra") or {}),
        )
