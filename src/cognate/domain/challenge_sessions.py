"""Sessions between the steps of a sign-in: opaque, stored, single use, short-lived.

Every challenge Cognate answers with (PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED,
SELECT_CHALLENGE...) opens a session: 64 random bytes given to the client in base64 as
`Session` (and, for SRP, as `SECRET_BLOCK`, which clients echo back and sign). Only the
token's SHA-256 is stored, with the step's state sealed under the master key (it holds
the server's SRP secret). Answering marks the row used (UPDATE ... WHERE unused
RETURNING), so a session serves exactly once, from whichever process gets the answer.
Sessions live for the app client's AuthSessionValidity (3-15 minutes, default 3). The
three ways to present a bad session get Cognito's three messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import auth_sessions as sessions_repo

INVALID_SESSION = "Invalid session for the user."  # observed
EXPIRED_SESSION = "Invalid session for the user, session is expired."  # observed
USED_SESSION = "Invalid session for the user, session can only be used once."  # observed
OTHER_USERS_SESSION = "Invalid session provided for the user."  # observed
_PURGE_EVERY = 64  # one insert in this many also deletes expired rows


@dataclass(frozen=True, slots=True)
class Challenge:
    """A taken session: who was signing in, at which step, with what state."""

    pool_pk: int
    client_pk: int
    user_pk: int | None
    name: str
    state: dict[str, Any]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_minutes(scope: ClientScope) -> int:
    """How long a sign-in step's session lasts: the client's AuthSessionValidity."""
    return int(scope.client.settings.get("AuthSessionValidity") or 3)


class ChallengeSessions:
    def __init__(self, db: Database, box: SecretBox, clock: Clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    def open(
        self,
        conn: Connection,
        *,
        pool_pk: int,
        client_pk: int,
        user_pk: int | None,
        challenge: str,
        state: dict[str, Any],
        minutes: int,
        token: str | None = None,
    ) -> str:
        """Store a session for the next step inside the caller's transaction; return its
        token (a new random one unless the caller has a secret of its own to key it by)."""
        token = token or base64.b64encode(secrets.token_bytes(64)).decode()
        digest = token_hash(token)
        now = self._clock.now_ms()
        if secrets.randbelow(_PURGE_EVERY) == 0:
            sessions_repo.purge_expired(conn, now)
        sessions_repo.insert(
            conn,
            token_hash=digest,
            pool_pk=pool_pk,
            client_pk=client_pk,
            user_pk=user_pk,
            challenge=challenge,
            state_enc=self._box.seal(dumps(state), f"auth-session/{digest}"),
            expires_at=now + minutes * 60_000,
            created_at=now,
        )
        return token

    def open_step(
        self,
        conn: Connection,
        scope: ClientScope,
        user_pk: int | None,
        challenge: str,
        state: dict[str, Any],
    ) -> str:
        """`open` for the next step of a sign-in through `scope`'s app client: the session
        lasts the client's AuthSessionValidity (3 minutes by default)."""
        return self.open(
            conn,
            pool_pk=scope.pool.pool.pk,
            client_pk=scope.client.pk,
            user_pk=user_pk,
            challenge=challenge,
            state=state,
            minutes=session_minutes(scope),
        )

    def continue_step(
        self,
        conn: Connection,
        token: str,
        scope: ClientScope,
        challenge: str,
        state: dict[str, Any],
    ) -> str:
        """The session a step just took becomes the next step's, under the same token (for
        clients that answer the next step with the session they already sent)."""
        digest = token_hash(token)
        expires_at = self._clock.now_ms() + session_minutes(scope) * 60_000
        state_enc = self._box.seal(dumps(state), f"auth-session/{digest}")
        sessions_repo.continue_as(conn, digest, challenge, state_enc, expires_at)
        return token

    def take(self, token: str | None, client_pk: int | None) -> Challenge:
        """Use up a session of this client (in its own transaction: a failed answer must not
        give it back); NotAuthorizedException if it is unknown, used, expired or another
        client's."""
        if not token or not _is_base64(token):
            raise NotAuthorizedException(INVALID_SESSION)
        digest = token_hash(token)
        now = self._clock.now_ms()

        def use(conn: Connection) -> tuple[sessions_repo.AuthSessionRow | None, bool]:
            row = sessions_repo.take(conn, digest, client_pk, now)
            return row, row is None and sessions_repo.known(conn, digest, client_pk)

        row, used = self._db.write("take_auth_session", use)
        if used:
            raise NotAuthorizedException(USED_SESSION)
        if row is None:  # unknown, or another client's (which stays usable by that client)
            raise NotAuthorizedException(INVALID_SESSION)
        if row.expires_at <= now:
            raise NotAuthorizedException(EXPIRED_SESSION)
        state = loads(self._box.open(row.state_enc, f"auth-session/{digest}"))
        return Challenge(row.pool_pk, row.client_pk, row.user_pk, row.challenge, state)

    def peek(self, token: str, challenge: str) -> Challenge | None:
        """A session that lasts (a hosted sign-in session, an OAuth grant's scopes) read
        without using it up: None when it is unknown, used, expired or not a `challenge`."""
        digest = token_hash(token)
        now = self._clock.now_ms()
        row = self._db.read("peek_auth_session", lambda c: sessions_repo.peek(c, digest, now))
        if row is None or row.challenge != challenge:
            return None
        state = loads(self._box.open(row.state_enc, f"auth-session/{digest}"))
        return Challenge(row.pool_pk, row.client_pk, row.user_pk, row.challenge, state)

    def discard(self, token: str) -> None:
        """End a lasting session (sign-out)."""
        digest = token_hash(token)
        self._db.write("discard_auth_session", lambda c: sessions_repo.delete(c, digest))

    def release(self, token: str) -> None:
        """Give back a session whose answer was refused for its content (a password the
        policy rejects, a missing attribute), so that the user can correct it."""
        digest = token_hash(token)
        self._db.write("release_auth_session", lambda conn: sessions_repo.release(conn, digest))


def _is_base64(token: str) -> bool:
    try:
        base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
