"""Token sessions: what a sign-in leaves behind, and the refresh tokens that extend it.

A successful sign-in starts a token session: a row with a session id (`tkn` + 25
characters, as ListUserSessions shows them), an `origin_jti` that every access token of
the session carries, and a refresh token (64 random bytes, URL-safe; only its SHA-256
is stored). Revoking the session stops the refresh token and every access token issued
from it, on every process at once (the access-token check looks the session up).

With session tracking enabled for the pool (SetUserPoolSessionConfiguration), a user
holds at most MaxPerUser sessions: starting one more evicts the least recently used.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from cognate.domain.clock import Clock
from cognate.domain.tokens import SignInFacts
from cognate.storage.db import Database
from cognate.storage.repos import token_sessions as sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.token_sessions import RefreshHit, SessionRow

_SESSION_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ACCESS_TOKEN_LIFETIME_LIMIT_MS = 86_400_000  # sessions outlive their refresh tokens this long
_PURGE_EVERY = 64


@dataclass(frozen=True, slots=True)
class Started:
    facts: SignInFacts
    refresh_token: str
    session_id: str


@dataclass(frozen=True, slots=True)
class Activity:
    """Where a request came from, as the session list reports it, and the request's
    ClientMetadata (handed to Lambda triggers)."""

    ip: str | None = None
    device_type: str | None = None
    client_metadata: dict[str, str] = field(default_factory=dict)
    claimed_ip: str | None = None
    """UserContextData's IpAddress: the app's user's address (threat protection uses it
    when the client propagates user context data: auth_events.ip_of)."""


def refresh_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(64)


def new_session_id() -> str:
    """`tkn` and 25 random characters of [a-z0-9] (129 bits)."""
    n = int.from_bytes(secrets.token_bytes(17), "big")
    chars = []
    for _ in range(25):
        n, digit = divmod(n, 36)
        chars.append(_SESSION_ALPHABET[digit])
    return "tkn" + "".join(chars)


def tracked_since(pool: PoolRow) -> int | None:
    """When session tracking was last turned on (ms), or None while it is off. Sessions
    started before that are not tracked sessions: Cognito kept no record of them."""
    stored = pool.settings.get("_SessionConfiguration") or {}
    if stored.get("UserSessionTracking") != "ENABLED":
        return None
    return int(stored.get("TrackedSince", 0))


def session_tracking(pool: PoolRow) -> dict[str, object]:
    """The pool's session configuration (Cognito's defaults when never set)."""
    stored = pool.settings.get("_SessionConfiguration") or {}
    return {
        "UserSessionTracking": stored.get("UserSessionTracking", "DISABLED"),
        "TokenSession": {"MaxPerUser": stored.get("MaxPerUser", 20)},
    }


class TokenSessions:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def start(
        self,
        conn: Connection,
        *,
        pool: PoolRow,
        client: ClientRow,
        user_pk: int,
        refresh_ms: int,
        auth_time: int,
        device_key: str | None = None,
        activity: Activity | None = None,
    ) -> Started:
        """Start a session inside the caller's transaction."""
        now = self._clock.now_ms()
        if secrets.randbelow(_PURGE_EVERY) == 0:
            sessions_repo.purge_expired(conn, now - ACCESS_TOKEN_LIFETIME_LIMIT_MS)
        activity = activity or Activity()
        origin_jti = str(uuid.uuid4())
        session_id = new_session_id()
        session_pk = sessions_repo.insert(
            conn,
            session_id=session_id,
            origin_jti=origin_jti,
            pool_pk=pool.pk,
            client_pk=client.pk,
            user_pk=user_pk,
            device_key=device_key,
            auth_time=auth_time,
            created_at=now,
            last_active_at=now,
            expires_at=now + refresh_ms,
            revoked_at=None,
            last_ip=activity.ip,
            device_type=activity.device_type,
        )
        token = new_refresh_token()
        sessions_repo.add_refresh_token(conn, session_pk, refresh_hash(token), now)
        since = tracked_since(pool)
        if since is not None:
            limit = int((pool.settings.get("_SessionConfiguration") or {}).get("MaxPerUser", 20))
            self._evict(conn, user_pk, limit, keep=session_pk, now=now, since=since)
        return Started(SignInFacts(origin_jti, auth_time // 1000, device_key), token, session_id)

    def find(self, refresh_token: str) -> RefreshHit | None:
        """The session a refresh token belongs to (None: unknown or revoked)."""
        return sessions_repo.by_refresh_token(self._db.fetch, refresh_hash(refresh_token))

    def rotate(self, conn: Connection, hit: RefreshHit, old_token: str) -> str:
        """Supersede `old_token` with a new refresh token of the same session."""
        now = self._clock.now_ms()
        sessions_repo.supersede(conn, refresh_hash(old_token), now)
        token = new_refresh_token()
        sessions_repo.add_refresh_token(conn, hit.session.pk, refresh_hash(token), now)
        return token

    def touch(self, conn: Connection, session: SessionRow, activity: Activity) -> bool:
        """Record use of a session; False when it was revoked meanwhile."""
        values: dict[str, object] = {"last_active_at": self._clock.now_ms()}
        if activity.ip is not None:
            values["last_ip"] = activity.ip
        if activity.device_type is not None:
            values["device_type"] = activity.device_type
        return sessions_repo.touch(conn, session.pk, **values)

    def revoke(self, conn: Connection, session_pk: int) -> bool:
        return sessions_repo.revoke(conn, session_pk, self._clock.now_ms())

    def revoke_all(self, conn: Connection, user_pk: int) -> int:
        """End every session of the user (global sign-out), and with them every token of
        the user, including those of clients without token revocation, which name no
        session (the user's tokens-valid-after time)."""
        now = self._clock.now_ms()
        users_repo.update(conn, user_pk, tokens_valid_after=now)
        return sessions_repo.revoke_of_user(conn, user_pk, now)

    def of_user(
        self, conn: Connection, user_pk: int, since: int = 0
    ) -> list[tuple[SessionRow, str]]:
        """The user's live sessions started at or after `since`, with their client ids."""
        found = sessions_repo.of_user(conn, user_pk, self._clock.now_ms())
        return [(s, c) for s, c in found if s.created_at >= since]

    def _evict(
        self, conn: Connection, user_pk: int, limit: int, *, keep: int, now: int, since: int
    ) -> None:
        sessions = [
            s for s, _client in sessions_repo.of_user(conn, user_pk, now) if s.created_at >= since
        ]
        excess = len(sessions) - limit
        if excess <= 0:
            return
        by_use = sorted((s for s in sessions if s.pk != keep), key=lambda s: s.last_active_at)
        for session in by_use[:excess]:
            sessions_repo.revoke(conn, session.pk, now)
