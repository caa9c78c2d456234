"""/oauth2/token's grants, and the tokens the domain endpoints issue.

Tokens are the API's (TokenIssuer, a token session per code exchanged, the
PreTokenGeneration trigger with TokenGeneration_HostedAuth / _RefreshTokens /
_ClientCredentials); what OAuth adds: the access token's `scope` is the granted scopes,
an ID token only with `openid` (carrying the request's `nonce`), and a refresh token only
from the authorization_code grant. The granted scopes of a refresh token are remembered
in `auth_sessions` under the refresh token itself (`OAUTH_GRANT`, for as long as the
refresh token lives), so a refresh keeps them.

Client authentication: `client_secret_basic` or `client_secret_post`; a client with a
secret must present one of its secrets (`invalid_client`, 401), a public client none.
Codes: used once, by their client, with the same redirect_uri, within 5 minutes; PKCE
verified when the code was requested with a challenge (`invalid_grant` otherwise).
CIMD clients (an HTTPS URL as client_id; federation/cimd_clients.py) are public, resolved
in the domain's pool; their codes and refresh tokens are theirs alone (`client_url`).
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy.engine import Connection

from cognate.api.errors import ServiceError
from cognate.api.exceptions import NotAuthorizedException
from cognate.domain.auth.completion import subject_of
from cognate.domain.auth.context import SignInUser, load_public, user_by_pk
from cognate.domain.auth.token_customization import (
    HOSTED_AUTH,
    REFRESH_TOKENS,
    TokenCustomization,
)
from cognate.domain.auth.token_sessions import Activity, TokenSessions
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.client_settings import STANDARD_SCOPES
from cognate.domain.clock import Clock
from cognate.domain.federation import cimd_clients
from cognate.domain.oauth import codes
from cognate.domain.oauth.errors import OAuthError
from cognate.domain.oauth.hosted import AUTHORIZATION_CODE
from cognate.domain.resource_servers import custom_scopes
from cognate.domain.secretbox import SecretBox
from cognate.domain.tokens import (
    ClaimChanges,
    IssuedTokens,
    SignInFacts,
    TokenIssuer,
    TokenOverrides,
    validity_seconds,
)
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo

OAUTH_GRANT = "OAUTH_GRANT"


class OAuthTokens:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        challenges: ChallengeSessions,
        sessions: TokenSessions,
        issuer: TokenIssuer,
        customization: TokenCustomization,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._challenges = challenges
        self._sessions = sessions
        self._issuer = issuer
        self._customization = customization

    # ------------------------------------------------------------------ the token endpoint

    def token(
        self,
        form: dict[str, str],
        basic: tuple[str, str] | None,
        ip: str | None,
        pool_pk: int | None = None,
    ) -> dict[str, Any]:
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request")
        scope = self.authenticate_client(form, basic, pool_pk)
        settings = scope.client.settings
        flows = settings.get("AllowedOAuthFlows") or []
        if grant == "authorization_code":
            if "code" not in flows or not settings.get("AllowedOAuthFlowsUserPoolClient"):
                raise OAuthError("unauthorized_client")
            return self._code_grant(scope, form, ip)
        if grant == "refresh_token":
            if not cimd_clients.may_refresh(scope):
                raise OAuthError("unauthorized_client")
            return self._refresh_grant(scope, form)
        if grant == "client_credentials":
            if "client_credentials" not in flows or not settings.get(
                "AllowedOAuthFlowsUserPoolClient"
            ):
                raise OAuthError("unauthorized_client")
            return self._client_credentials(scope, form)
        raise OAuthError("unsupported_grant_type")

    def authenticate_client(
        self, form: dict[str, str], basic: tuple[str, str] | None, pool_pk: int | None = None
    ) -> ClientScope:
        if basic is not None:
            client_id, given = basic
        else:
            client_id, given = form.get("client_id") or "", form.get("client_secret") or ""
        if not client_id:
            raise OAuthError("invalid_client", status=401)
        if cimd_clients.is_url_client_id(client_id):  # a public CIMD client: no secret
            url_scope = (
                None if given or pool_pk is None else cimd_clients.resolve(pool_pk, client_id)
            )
            if url_scope is None:
                raise OAuthError("invalid_client", status=401)
            return url_scope

        def load(conn: Connection) -> tuple[ClientScope, list[str]] | None:
            try:
                scope = load_public(conn, client_id)
            except ServiceError:
                return None
            return scope, [
                self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
                for row in clients_repo.secrets(conn, scope.client.pk)
            ]

        loaded = self._db.read("oauth_client_auth", load)
        if loaded is None:
            raise OAuthError("invalid_client", status=401)
        scope, secrets = loaded
        if secrets:
            if not any(hmac.compare_digest(s.encode(), given.encode()) for s in secrets):
                raise OAuthError("invalid_client", status=401)
        elif given:
            raise OAuthError("invalid_client", status=401)
        return scope

    def _code_grant(
        self, scope: ClientScope, form: dict[str, str], ip: str | None
    ) -> dict[str, Any]:
        token = codes.from_url(form.get("code"))
        if token is None:
            raise OAuthError("invalid_grant")
        try:
            taken = self._challenges.take(token, scope.client.pk)
        except NotAuthorizedException:
            raise OAuthError("invalid_grant") from None
        state = taken.state
        if taken.name != AUTHORIZATION_CODE or taken.user_pk is None:
            raise OAuthError("invalid_grant")
        if form.get("redirect_uri") != state["redirect_uri"]:
            raise OAuthError("invalid_grant")
        if state.get("client_url") != cimd_clients.url_of(scope):
            raise OAuthError("invalid_grant")
        challenge = state.get("code_challenge")
        if challenge is not None:
            verifier = form.get("code_verifier") or ""
            if state.get("code_challenge_method") == "S256":
                verifier = create_s256_code_challenge(verifier) if verifier else ""
            if not verifier or not hmac.compare_digest(verifier.encode(), str(challenge).encode()):
                raise OAuthError("invalid_grant")
        found = user_by_pk(self._db, taken.user_pk)
        if found is None or not found.row.enabled:
            raise OAuthError("invalid_grant")
        scopes = list(state["scopes"])
        return self.user_tokens(
            scope,
            found,
            scopes,
            state.get("nonce"),
            int(state["auth_time"]),
            ip,
            refresh=cimd_clients.may_refresh(scope),
        )

    def user_tokens(
        self,
        scope: ClientScope,
        found: SignInUser,
        scopes: list[str],
        nonce: str | None,
        auth_time_ms: int,
        ip: str | None,
        *,
        refresh: bool,
    ) -> dict[str, Any]:
        """A new token session's tokens, in the token endpoint's JSON (with a refresh
        token when `refresh`: the code grant; without, the implicit one)."""
        pool, client = scope.pool.pool, scope.client
        subject = subject_of(self._db, found)
        overrides = self._customization.for_user(pool, client, subject, HOSTED_AUTH, {})
        refresh_ms = validity_seconds(client, "RefreshTokenValidity") * 1000

        def record(conn: Connection) -> tuple[SignInFacts, str]:
            started = self._sessions.start(
                conn,
                pool=pool,
                client=client,
                user_pk=found.row.pk,
                refresh_ms=refresh_ms,
                auth_time=auth_time_ms,
                activity=Activity(ip=ip),
            )
            if refresh:
                self._challenges.open(
                    conn,
                    pool_pk=pool.pk,
                    client_pk=client.pk,
                    user_pk=found.row.pk,
                    challenge=OAUTH_GRANT,
                    state={
                        "scopes": scopes,
                        "nonce": None,
                        "client_url": cimd_clients.url_of(scope),
                    },
                    minutes=refresh_ms // 60_000 + 1,
                    token=started.refresh_token,
                )
            return started.facts, started.refresh_token

        facts, refresh_token = self._db.write("oauth_sign_in", record)
        tokens = self._issuer.user_tokens(
            pool, client, subject, facts, _with_scopes(overrides, scopes, nonce)
        )
        return _response(tokens, scopes, refresh_token if refresh else None)

    def _refresh_grant(self, scope: ClientScope, form: dict[str, str]) -> dict[str, Any]:
        token = form.get("refresh_token") or ""
        hit = self._sessions.find(token) if token else None
        if hit is None or hit.client_id != cimd_clients.app_client_id(scope):
            raise OAuthError("invalid_grant")
        session = hit.session
        now = self._clock.now_ms()
        if session.revoked_at is not None or session.expires_at <= now or hit.user is None:
            raise OAuthError("invalid_grant")
        found = SignInUser(hit.user, hit.attributes)
        if not found.row.enabled:
            raise OAuthError("invalid_grant")
        grant = self._challenges.peek(token, OAUTH_GRANT)
        if (grant.state.get("client_url") if grant else None) != cimd_clients.url_of(scope):
            raise OAuthError("invalid_grant")  # a CIMD client's tokens are its own
        scopes = list(grant.state["scopes"]) if grant is not None else None
        pool, client = scope.pool.pool, scope.client
        subject = subject_of(self._db, found)
        overrides = self._customization.for_user(pool, client, subject, REFRESH_TOKENS, {})
        if scopes is not None:
            overrides = _with_scopes(overrides, scopes, None)
        facts = SignInFacts(session.origin_jti, session.auth_time // 1000, session.device_key)
        tokens = self._issuer.user_tokens(pool, client, subject, facts, overrides)
        return _response(tokens, scopes if scopes is not None else ["openid"], None)

    def revoke_for_url_client(self, pool_pk: int, url: str, token: str, secret: str | None) -> None:
        """/oauth2/revoke for a CIMD client (an HTTPS URL as client_id: public, so no
        secret): only refresh tokens issued to that URL, as for any app client."""
        scope = None if secret else cimd_clients.resolve(pool_pk, url)
        if scope is None:
            raise OAuthError("invalid_client", status=401)
        hit = self._sessions.find(token)
        if hit is None:
            if token.count(".") == 2:  # an ID or access token: not revocable here
                raise OAuthError("unsupported_token_type")
            return  # RFC 7009: revoking an unknown token is not an error
        grant = self._challenges.peek(token, OAUTH_GRANT)
        issued_to = grant.state.get("client_url") if grant is not None else None
        if hit.client_id != cimd_clients.app_client_id(scope) or issued_to != url:
            raise OAuthError("invalid_client", status=401)  # another client's token
        session_pk = hit.session.pk
        self._db.write("revoke_token", lambda c: self._sessions.revoke(c, session_pk))

    def _client_credentials(self, scope: ClientScope, form: dict[str, str]) -> dict[str, Any]:
        pool, client = scope.pool.pool, scope.client
        defined = self._db.read("oauth_scopes", lambda c: custom_scopes(c, pool.pk))
        allowed = [
            s
            for s in client.settings.get("AllowedOAuthScopes") or []
            if s not in STANDARD_SCOPES and s in defined
        ]
        requested = (form.get("scope") or "").split()
        if any(s not in allowed for s in requested):
            raise OAuthError("invalid_scope")
        scopes = list(dict.fromkeys(requested or allowed))
        try:
            overrides = self._customization.for_client(pool, client, scopes, {})
        except ServiceError as exc:
            raise OAuthError("invalid_request", exc.message) from None
        token, seconds = self._issuer.client_token(pool, client, scopes, overrides)
        return {"access_token": token, "expires_in": seconds, "token_type": "Bearer"}


def _with_scopes(overrides: TokenOverrides, scopes: list[str], nonce: str | None) -> TokenOverrides:
    """The trigger's changes, with the granted scopes as the access token's `scope` and
    the request's nonce in the ID token (the trigger's own changes still win)."""
    access = ClaimChanges(
        {"scope": " ".join(scopes), **overrides.access_token.add}, overrides.access_token.suppress
    )
    id_add = dict(overrides.id_token.add)
    if nonce is not None:
        id_add = {"nonce": nonce, **id_add}
    id_token = ClaimChanges(id_add, overrides.id_token.suppress)
    return dataclasses.replace(overrides, access_token=access, id_token=id_token)


def _response(tokens: IssuedTokens, scopes: list[str], refresh: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "openid" in scopes:
        body["id_token"] = tokens.id_token
    body["access_token"] = tokens.access_token
    if refresh is not None:
        body["refresh_token"] = refresh
    body.update(expires_in=tokens.expires_in, token_type="Bearer")
    return body
