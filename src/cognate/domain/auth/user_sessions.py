"""Session tracking: ListUserSessions, RevokeUserSession, their Admin forms, and the
pool's and clients' session configuration.

A token session is one sign-in's refresh-token lineage for one app client (see
token_sessions.py); Cognate always keeps them, because revocation needs them, but the
session operations answer only when the pool has tracking ENABLED
(SetUserPoolSessionConfiguration, Essentials or Plus tier), else
OperationNotEnabledException, and only sessions started since tracking was turned on
count (Cognito keeps no record of the others). Lists are one page of at most 125 live
sessions, oldest first. Revoking a session ends its refresh token and access tokens; a
user cannot revoke the session their own access token belongs to. Cognate has no
managed-login SSO sessions yet, so every session is of type TOKEN and
RevokeAssociatedSessions changes nothing.

Configuration is kept in the pool's and the client's settings under Cognate-internal
members, which UpdateUserPool / UpdateUserPoolClient leave alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidParameterException,
    OperationNotEnabledException,
    ResourceNotFoundException,
)
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.token_sessions import TokenSessions, session_tracking, tracked_since
from cognate.domain.clients import require_client
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pools import require_pool
from cognate.domain.user_store import load_scope, require_user
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.token_sessions import SessionRow

MAX_SESSIONS_LISTED = 125
DEFAULT_SSO_MINUTES = 60


def _require_tracking(pool: PoolRow) -> int:
    """When tracking began; OperationNotEnabledException while it is off."""
    since = tracked_since(pool)
    if since is None:
        raise OperationNotEnabledException(
            f"Session tracking is not enabled for user pool {pool.id}."
        )
    return since


def _session_view(session: SessionRow, client_id: str, current_jti: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "SessionId": session.session_id,
        "SessionType": "TOKEN",
        "ClientId": client_id,
        "CreateDate": ms_to_seconds(session.created_at),
        "LastActiveDate": ms_to_seconds(session.last_active_at),
        "DeviceType": session.device_type or "unknown",
        "IsCurrentSession": current_jti is not None and session.origin_jti == current_jti,
    }
    if session.last_ip:
        view["LastIPAddress"] = session.last_ip
    return view


class UserSessionsService:
    def __init__(
        self, db: Database, clock: Clock, access: AccessCheck, sessions: TokenSessions
    ) -> None:
        self._db = db
        self._clock = clock
        self._access = access
        self._sessions = sessions

    # ------------------------------------------------------------------ a user's sessions

    def list_own(self, access_token: str) -> dict[str, Any]:
        signed_in = self._access.signed_in(access_token)
        user_pk = signed_in.context.user.pk

        def list_txn(conn: Connection) -> list[tuple[SessionRow, str]]:
            pool = pools_repo.by_pk(conn, signed_in.context.user.pool_pk)
            assert pool is not None
            return self._sessions.of_user(conn, user_pk, _require_tracking(pool))

        found = self._db.read("list_user_sessions", list_txn)
        current = signed_in.claims.origin_jti
        return {"Sessions": [_session_view(s, c, current) for s, c in found[:MAX_SESSIONS_LISTED]]}

    def revoke_own(self, access_token: str, session_id: str) -> None:
        signed_in = self._access.signed_in(access_token)
        user = signed_in.context.user

        def revoke_txn(conn: Connection) -> None:
            pool = pools_repo.by_pk(conn, user.pool_pk)
            assert pool is not None
            session = self._find(conn, user.pk, session_id, _require_tracking(pool))
            if session.origin_jti == signed_in.claims.origin_jti:
                raise InvalidParameterException(
                    "You can't revoke the session that the calling access token belongs to."
                )
            self._sessions.revoke(conn, session.pk)

        self._db.write("revoke_user_session", revoke_txn)

    def admin_list(self, region: str, pool_id: str, username: str) -> dict[str, Any]:
        def list_txn(conn: Connection) -> list[tuple[SessionRow, str]]:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            return self._sessions.of_user(conn, user.pk, _require_tracking(scope.pool))

        found = self._db.read("admin_list_user_sessions", list_txn)
        return {"Sessions": [_session_view(s, c, None) for s, c in found[:MAX_SESSIONS_LISTED]]}

    def admin_revoke(self, region: str, pool_id: str, username: str, session_id: str) -> None:
        def revoke_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            since = _require_tracking(scope.pool)
            self._sessions.revoke(conn, self._find(conn, user.pk, session_id, since).pk)

        self._db.write("admin_revoke_user_session", revoke_txn)

    def _find(self, conn: Connection, user_pk: int, session_id: str, since: int) -> SessionRow:
        for session, _client in self._sessions.of_user(conn, user_pk, since):
            if session.session_id == session_id:
                return session
        raise ResourceNotFoundException(f"Session {session_id} does not exist.")

    # ------------------------------------------------------------------ configuration

    def get_pool_configuration(self, region: str, pool_id: str) -> dict[str, Any]:
        pool = self._db.read("get_pool_sessions", lambda c: require_pool(c, region, pool_id))
        return {"UserPoolId": pool.id, **session_tracking(pool)}

    def set_pool_configuration(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        pool_id = request["UserPoolId"]

        def set_txn(conn: Connection) -> PoolRow:
            pool = require_pool(conn, region, pool_id, for_update=True)
            if pool.settings.get("UserPoolTier", "ESSENTIALS") == "LITE":
                raise FeatureUnavailableInTierException(
                    "Session tracking requires the ESSENTIALS or PLUS feature plan."
                )
            settings = dict(pool.settings)
            enabled = request["UserSessionTracking"] == "ENABLED"
            since = tracked_since(pool)
            if enabled and since is None:
                since = self._clock.now_ms()  # sessions are tracked from now on
            settings["_SessionConfiguration"] = {
                "UserSessionTracking": request["UserSessionTracking"],
                "MaxPerUser": request["TokenSession"]["MaxPerUser"],
                "TrackedSince": since if enabled else None,
            }
            pools_repo.update(conn, pool.pk, now=self._clock.now_ms(), settings=settings)
            return pools_repo.by_pk(conn, pool.pk) or pool

        pool = self._db.write("set_pool_sessions", set_txn)
        return {"UserPoolId": pool.id, **session_tracking(pool)}

    def get_client_configuration(self, region: str, pool_id: str, client_id: str) -> dict[str, Any]:
        def get_txn(conn: Connection) -> dict[str, Any]:
            client = require_client(conn, require_pool(conn, region, pool_id), client_id)
            return client.settings.get("_SessionConfiguration") or {}

        stored = self._db.read("get_client_sessions", get_txn)
        minutes = stored.get("MaxValidityMinutes", DEFAULT_SSO_MINUTES)
        return {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "SSOSession": {"MaxValidityMinutes": minutes},
        }

    def set_client_configuration(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        pool_id, client_id = request["UserPoolId"], request["ClientId"]
        minutes = request["SSOSession"]["MaxValidityMinutes"]

        def set_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            if pool.settings.get("UserPoolTier", "ESSENTIALS") == "LITE":
                raise FeatureUnavailableInTierException(
                    "Session configuration requires the ESSENTIALS or PLUS feature plan."
                )
            _require_tracking(pool)
            client = require_client(conn, pool, client_id, for_update=True)
            settings = dict(client.settings)
            settings["_SessionConfiguration"] = {"MaxValidityMinutes": minutes}
            clients_repo.update(
                conn, client.pk, name=client.name, settings=settings, now=self._clock.now_ms()
            )

        self._db.write("set_client_sessions", set_txn)
        return {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "SSOSession": {"MaxValidityMinutes": minutes},
        }
