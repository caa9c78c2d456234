"""/oauth2/authorize (and /login, which takes the same query): checking the request.

Order, as Cognito answers: an unknown client_id (or one of another pool), or a
redirect_uri that is not exactly one of the client's CallbackURLs, is an error page (the
browser must not be sent anywhere); after that every problem is a redirect to the
redirect_uri with `error=` (and `state`): a client without AllowedOAuthFlowsUserPoolClient
or without the response type's flow is `unauthorized_client`, an unknown response_type
`unsupported_response_type`, a PKCE method other than S256/plain `invalid_request`.
Scopes: requested scopes the client is not allowed (or that no resource server defines
any more) are dropped, as Cognito ignores them; if none is left of a non-empty request
the answer is `invalid_scope`; no `scope` means all the client's scopes. `email`, `phone`
and `profile` are granted only with `openid` (Cognito's rule). Then `prompt`, `lang`,
`identity_provider` / `idp_identifier` and the client's SupportedIdentityProviders, read
by sign_in_options.py (a bad prompt, or a provider the client does not support, is
`invalid_request`), which also decides how the request is answered (`authorize_step`,
`login_step`). A client_id that is an HTTPS URL is a CIMD client
(federation/cimd_clients.py): unknown unless a CIMD policy of the pool resolves it, and
its codes need PKCE with S256.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.domain.auth.context import load_public
from cognate.domain.client_auth import ClientScope
from cognate.domain.client_settings import STANDARD_SCOPES
from cognate.domain.federation import cimd_clients
from cognate.domain.federation.providers import provider_of_identifier
from cognate.domain.oauth import sign_in_options
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.domain.oauth.sign_in_options import Step
from cognate.domain.resource_servers import custom_scopes
from cognate.storage.db import Database
from cognate.storage.repos.domains import DomainRow

FLOW_OF_RESPONSE = {"code": "code", "token": "implicit"}
OPENID_ONLY = frozenset({"email", "phone", "profile"})
PKCE_METHODS = frozenset({"S256", "plain"})


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    scope: ClientScope
    response_type: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: frozenset[str] = frozenset()
    lang: str | None = None  # a managed login language code (the pages are English only)
    provider: str | None = None  # the identity provider the query names
    providers: tuple[str, ...] = ()  # the client's SupportedIdentityProviders


def client_in_domain(db: Database, domain: DomainRow, client_id: str | None) -> ClientScope:
    """The app client named by a hosted page's query, which must belong to the domain's
    pool; PageError otherwise."""
    if not client_id:
        raise PageError("Required String parameter 'client_id' is not present")
    if cimd_clients.is_url_client_id(client_id):  # a client ID metadata document URL
        url_scope = cimd_clients.resolve(domain.pool_pk, client_id)
        if url_scope is None:
            raise PageError("An error was encountered with the requested page: invalid client.")
        return url_scope

    def load(conn: Connection) -> ClientScope | None:
        try:
            return load_public(conn, client_id)
        except Exception:  # noqa: BLE001 - unknown client: the page says so
            return None

    scope = db.read("oauth_client", load)
    if scope is None or scope.client.pool_pk != domain.pool_pk:
        raise PageError("An error was encountered with the requested page: invalid client.")
    return scope


def check(db: Database, domain: DomainRow, query: dict[str, str]) -> AuthorizeRequest:
    scope = client_in_domain(db, domain, query.get("client_id"))
    settings = scope.client.settings
    redirect_uri = query.get("redirect_uri") or ""
    if redirect_uri not in (settings.get("CallbackURLs") or []):
        raise PageError("redirect_mismatch")
    response_type = query.get("response_type") or ""
    if not settings.get("AllowedOAuthFlowsUserPoolClient"):
        raise OAuthError("unauthorized_client", "Client is not enabled for OAuth2.0 flows.")
    if response_type not in FLOW_OF_RESPONSE:
        raise OAuthError("unsupported_response_type")
    if FLOW_OF_RESPONSE[response_type] not in (settings.get("AllowedOAuthFlows") or []):
        raise OAuthError("unauthorized_client")
    scopes = granted_scopes(db, scope, query.get("scope"))
    challenge = query.get("code_challenge") or None
    method = query.get("code_challenge_method") or None
    if challenge is not None:
        method = method or "plain"
        if method not in PKCE_METHODS:
            raise OAuthError("invalid_request", "Invalid code_challenge_method")
    elif method is not None:
        raise OAuthError("invalid_request", "code_challenge is required")
    if cimd_clients.url_of(scope) and response_type == "code" and method != "S256":
        raise OAuthError("invalid_request", "PKCE with S256 is required for this client")
    prompt = sign_in_options.prompts(query.get("prompt"))
    providers = sign_in_options.providers_of(settings)
    pool_pk = scope.pool.pool.pk

    def lookup(identifier: str) -> str | None:
        found = db.read("idp_identifier", lambda c: provider_of_identifier(c, pool_pk, identifier))
        return found.name if found is not None else None

    provider = sign_in_options.requested_provider(providers, query, lookup)
    return AuthorizeRequest(
        scope=scope,
        response_type=response_type,
        redirect_uri=redirect_uri,
        state=query.get("state"),
        scopes=scopes,
        nonce=query.get("nonce") or None,
        code_challenge=challenge,
        code_challenge_method=method if challenge is not None else None,
        prompt=prompt,
        lang=sign_in_options.language(query.get("lang")),
        provider=provider,
        providers=providers,
    )


def authorize_step(request: AuthorizeRequest, has_session: bool) -> Step:
    """/oauth2/authorize: grant, go on to /login, or refuse (see sign_in_options)."""
    return sign_in_options.authorize_step(
        request.prompt, request.provider, request.providers, has_session
    )


def login_step(request: AuthorizeRequest, has_session: bool, showing: bool) -> Step | None:
    """/login: None to show or accept the username/password form, else the answer."""
    return sign_in_options.login_step(
        request.prompt, request.provider, request.providers, has_session, showing
    )


def refusal(request: AuthorizeRequest, step: Step) -> PageError:
    return sign_in_options.refusal(step, request.provider, request.providers)


def granted_scopes(db: Database, scope: ClientScope, requested: str | None) -> tuple[str, ...]:
    allowed = list(scope.client.settings.get("AllowedOAuthScopes") or [])
    defined = db.read("oauth_scopes", lambda c: custom_scopes(c, scope.pool.pool.pk))
    usable = [s for s in allowed if s in STANDARD_SCOPES or s in defined]
    wanted = requested.split() if requested and requested.strip() else usable
    granted = [s for s in dict.fromkeys(wanted) if s in usable]
    if "openid" not in granted:
        granted = [s for s in granted if s not in OPENID_ONLY]
    if not granted:
        raise OAuthError("invalid_scope")
    return tuple(granted)


def state_of(request: AuthorizeRequest) -> dict[str, Any]:
    """What an authorization code remembers of its request."""
    return {
        "redirect_uri": request.redirect_uri,
        "scopes": list(request.scopes),
        "nonce": request.nonce,
        "code_challenge": request.code_challenge,
        "code_challenge_method": request.code_challenge_method,
        "client_url": cimd_clients.url_of(request.scope),
    }
