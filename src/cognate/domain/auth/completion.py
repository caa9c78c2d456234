"""The last step of every successful sign-in: the PreTokenGeneration and
PostAuthentication triggers, a token session, then signed tokens.

The triggers run before anything is written, so a failing one leaves no session. One
write transaction then records the sign-in (clears the lockout count if there was one,
records the device, starts the token session); the user's groups are read in one
statement before it and the RSA signatures made after it commits, so the database is
never held for them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import UserNotFoundException
from cognate.domain import auth_events
from cognate.domain.auth import lockout
from cognate.domain.auth.auth_triggers import AuthTriggers
from cognate.domain.auth.context import SignInUser, groups_of
from cognate.domain.auth.token_customization import AUTHENTICATION, TokenCustomization
from cognate.domain.auth.token_sessions import Activity, Started, TokenSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.devices import DeviceService, tracking
from cognate.domain.tokens import GroupClaim, IssuedTokens, Subject, TokenIssuer, validity_seconds
from cognate.domain.user_store import USER_NOT_FOUND
from cognate.storage.db import Database
from cognate.storage.repos.devices import DeviceRow


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


def subject_of(db: Database, found: SignInUser) -> Subject:
    """The user as tokens describe them (their groups read in one statement)."""
    groups = [GroupClaim(g.name, g.role_arn, g.precedence) for g in groups_of(db, found.row.pk)]
    return Subject(found.row, found.attributes, groups)


class Completion:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sessions: TokenSessions,
        issuer: TokenIssuer,
        devices: DeviceService,
        auth_triggers: AuthTriggers,
        customization: TokenCustomization,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sessions = sessions
        self._issuer = issuer
        self._devices = devices
        self._auth_triggers = auth_triggers
        self._customization = customization

    def sign_in(
        self,
        scope: ClientScope,
        found: SignInUser,
        *,
        activity: Activity,
        device_key: str | None = None,
        source: str = AUTHENTICATION,
    ) -> dict[str, Any]:
        """Finish a sign-in. `source` is the PreTokenGeneration triggerSource. The triggers
        run first, so that one that fails leaves no session behind. Returns the operation's
        response."""
        client = scope.client
        pool = scope.pool.pool
        refresh_ms = validity_seconds(client, "RefreshTokenValidity") * 1000
        user = found.row
        new_device: list[DeviceRow] = []
        subject = subject_of(self._db, found)
        metadata = activity.client_metadata
        overrides = self._customization.for_user(pool, client, subject, source, metadata)
        new_device_used = device_key is None and tracking(pool.settings)
        self._auth_triggers.post_authentication(scope, found, activity, new_device_used)

        def record(conn: Connection) -> Started:
            lockout.reset(conn, user)
            now = self._clock.now_ms()
            key = device_key
            if key is not None:
                self._devices.authenticated(conn, key, now, activity.ip)
            elif tracking(pool.settings):
                new_device[:] = [self._devices.new_device(conn, pool, user.pk, activity.ip)]
                key = new_device[0].device_key
            return self._sessions.start(
                conn,
                pool=pool,
                client=client,
                user_pk=user.pk,
                refresh_ms=refresh_ms,
                auth_time=now,
                device_key=key,
                activity=activity,
            )

        try:
            started = self._db.write("sign_in", record)
        except IntegrityError:  # the user was deleted meanwhile (the session's foreign key)
            raise UserNotFoundException(USER_NOT_FOUND) from None
        auth_events.signed_in(scope, found, activity)
        tokens = self._issuer.user_tokens(pool, client, subject, started.facts, overrides)
        result = authentication_result(tokens, started.refresh_token)
        if new_device:
            result["NewDeviceMetadata"] = {
                "DeviceKey": new_device[0].device_key,
                "DeviceGroupKey": new_device[0].group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": result}
