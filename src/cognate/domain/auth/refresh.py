"""New tokens from a refresh token: REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken.

Both return fresh ID and access tokens of the same token session (same `origin_jti`,
same `auth_time`). REFRESH_TOKEN_AUTH never returns a refresh token. GetTokensFromRefreshToken
returns a new one when the client rotates refresh tokens (RefreshTokenRotation
Feature ENABLED): the old token then keeps working for RetryGracePeriodSeconds (0-60),
after which using it is `RefreshTokenReuseException`. Clients that rotate cannot use
REFRESH_TOKEN_AUTH (Cognito's rule).

A refresh token of another client, an unknown one, or one without the DEVICE_KEY its
session was started with is "Invalid Refresh Token."; a revoked one "Refresh Token has
been revoked"; the user must still exist and be enabled.

The PreTokenGeneration trigger runs with TokenGeneration_RefreshTokens (clientMetadata
only from GetTokensFromRefreshToken: InitiateAuth passes none to it) before anything is
written, so a failing function leaves the session as it was (no rotation).
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy.engine import Connection

from cognate import metrics
from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    RefreshTokenReuseException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.auth.completion import authentication_result, subject_of
from cognate.domain.auth.context import (
    SignInUser,
    client_of,
    require_flow,
    require_parameter,
)
from cognate.domain.auth.token_customization import REFRESH_TOKENS, TokenCustomization
from cognate.domain.auth.token_sessions import Activity, TokenSessions, session_tracking
from cognate.domain.client_auth import ClientScope, secret_hash
from cognate.domain.clock import Clock
from cognate.domain.secretbox import SecretBox
from cognate.domain.tokens import SignInFacts, TokenIssuer
from cognate.domain.user_store import USER_NOT_FOUND
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos.token_sessions import RefreshHit


def rotates(scope: ClientScope) -> bool:
    rotation = scope.client.settings.get("RefreshTokenRotation") or {}
    return rotation.get("Feature") == "ENABLED"


def grace_ms(scope: ClientScope) -> int:
    rotation = scope.client.settings.get("RefreshTokenRotation") or {}
    return int(rotation.get("RetryGracePeriodSeconds") or 0) * 1000


class RefreshService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        sessions: TokenSessions,
        issuer: TokenIssuer,
        customization: TokenCustomization,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._sessions = sessions
        self._issuer = issuer
        self._customization = customization

    def client_scope(self, client_id: str) -> ClientScope:
        return client_of(self._db, client_id)

    def refresh_token_auth(
        self, scope: ClientScope, params: dict[str, str], flow: str, activity: Activity
    ) -> dict[str, Any]:
        """InitiateAuth / AdminInitiateAuth with REFRESH_TOKEN_AUTH (or REFRESH_TOKEN)."""
        require_flow(scope.client, flow)
        if rotates(scope):
            raise InvalidParameterException(
                "REFRESH_TOKEN_AUTH is not allowed for an app client with refresh token "
                "rotation: use GetTokensFromRefreshToken"
            )
        token = require_parameter(params, "REFRESH_TOKEN")
        hit = self._valid(scope, token, params.get("DEVICE_KEY"))
        found = self._user(hit)
        self._check_secret_hash(scope, found, params.get("SECRET_HASH"), params.get("USERNAME"))
        result = self._issue(scope, hit, found, token, activity, rotate=False, metadata={})
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def get_tokens(
        self, scope: ClientScope, request: dict[str, Any], activity: Activity
    ) -> dict[str, Any]:
        """GetTokensFromRefreshToken."""
        with metrics.sign_in_attempt("GetTokensFromRefreshToken"):  # cognate_sign_ins_total
            return self._get_tokens(scope, request, activity)

    def _get_tokens(
        self, scope: ClientScope, request: dict[str, Any], activity: Activity
    ) -> dict[str, Any]:
        self._check_client_secret(scope, request.get("ClientSecret"))
        token = request["RefreshToken"]
        hit = self._valid(scope, token, request.get("DeviceKey"))
        superseded = hit.superseded_at
        if superseded is not None and self._clock.now_ms() > superseded + grace_ms(scope):
            raise RefreshTokenReuseException(
                "Refresh token has been used already and is no longer valid"
            )
        found = self._user(hit)
        metadata = activity.client_metadata
        result = self._issue(
            scope, hit, found, token, activity, rotate=rotates(scope), metadata=metadata
        )
        return {"AuthenticationResult": result}

    # ------------------------------------------------------------------------- internals

    def _valid(self, scope: ClientScope, token: str, device_key: str | None) -> RefreshHit:
        hit = self._sessions.find(token)
        invalid = NotAuthorizedException(messages.INVALID_REFRESH_TOKEN)
        if hit is None or hit.client_id != scope.client.client_id:
            raise invalid
        session = hit.session
        if session.device_key is not None and device_key != session.device_key:
            raise invalid
        if session.revoked_at is not None:
            raise NotAuthorizedException(messages.REFRESH_TOKEN_REVOKED)
        if session.expires_at <= self._clock.now_ms():
            raise NotAuthorizedException(messages.REFRESH_TOKEN_EXPIRED)
        return hit

    def _user(self, hit: RefreshHit) -> SignInUser:
        if hit.user is None:
            raise UserNotFoundException(USER_NOT_FOUND)
        found = SignInUser(hit.user, hit.attributes)
        if not found.row.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        return found

    def _check_secret_hash(
        self, scope: ClientScope, found: SignInUser, given: str | None, username: str | None
    ) -> None:
        """SECRET_HASH of a refresh: over the user's username (or sub, which some SDKs
        use, or the USERNAME parameter when one is sent)."""
        if not scope.has_secret and given is None:
            return
        secrets = self._secrets(scope)
        client_id = scope.client.client_id
        if not secrets:
            if given is not None:
                raise InvalidParameterException(
                    f"App client {client_id} is not configured for secret but secret hash "
                    "was received"
                )
            return
        if given is None:
            raise NotAuthorizedException(
                f"Client {client_id} is configured with secret but SECRET_HASH was not received"
            )
        names = {found.row.username, found.row.sub}
        if username:
            names.add(username)
        for row in secrets:
            secret = self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
            for name in names:
                expected = secret_hash(secret, name, client_id).encode()
                if hmac.compare_digest(expected, given.encode()):
                    return
        raise NotAuthorizedException(f"Unable to verify secret hash for client {client_id}")

    def _check_client_secret(self, scope: ClientScope, given: str | None) -> None:
        if not scope.has_secret and given is None:
            return
        secrets = self._secrets(scope)
        client_id = scope.client.client_id
        if not secrets:
            if given is not None:
                raise InvalidParameterException(
                    f"App client {client_id} is not configured for secret but a secret was received"
                )
            return
        if given is None:
            raise NotAuthorizedException(
                f"Client {client_id} is configured with secret but ClientSecret was not received"
            )
        for row in secrets:
            secret = self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
            if hmac.compare_digest(secret.encode(), given.encode()):
                return
        raise NotAuthorizedException(f"Unable to verify secret for client {client_id}")

    def _secrets(self, scope: ClientScope) -> list[clients_repo.SecretRow]:
        client_pk = scope.client.pk
        return self._db.read("client_secrets", lambda c: clients_repo.secrets(c, client_pk))

    def _issue(
        self,
        scope: ClientScope,
        hit: RefreshHit,
        found: SignInUser,
        token: str,
        activity: Activity,
        *,
        rotate: bool,
        metadata: dict[str, str],
    ) -> dict[str, Any]:
        """New tokens of the session, as the PreTokenGeneration function (if any) has them.
        The session's activity is recorded only where it can be seen (session tracking
        enabled) or must be (rotation): otherwise a refresh writes nothing."""
        session = hit.session
        pool, client = scope.pool.pool, scope.client
        subject = subject_of(self._db, found)
        overrides = self._customization.for_user(pool, client, subject, REFRESH_TOKENS, metadata)
        new_token: str | None = None
        tracking = session_tracking(scope.pool.pool)["UserSessionTracking"] == "ENABLED"
        if rotate or tracking:

            def record(conn: Connection) -> str | None:
                if not self._sessions.touch(conn, session, activity):
                    raise NotAuthorizedException(messages.REFRESH_TOKEN_REVOKED)
                return self._sessions.rotate(conn, hit, token) if rotate else None

            new_token = self._db.write("refresh_tokens", record)
        facts = SignInFacts(session.origin_jti, session.auth_time // 1000, session.device_key)
        tokens = self._issuer.user_tokens(pool, client, subject, facts, overrides)
        metrics.signed_in()
        return authentication_result(tokens, new_token)
