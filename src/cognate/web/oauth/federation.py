"""Federated sign-in at a pool domain: the redirect from /oauth2/authorize (or the login
page's provider buttons) to a third-party provider, and /oauth2/idpresponse, where an
OAuth 2.0 / OIDC provider sends the user back (GET; POST for Sign in with Apple's
form_post).

The round trip: /oauth2/authorize?identity_provider=X (or idp_identifier) is checked as
usual, the request is remembered under an opaque single-use `state`
(federation/pending.py), and the browser goes to the provider's authorize_url
(federation/oidc.py). At /oauth2/idpresponse the state is taken, the original request
checked again, the code exchanged and the identity turned into the pool's user
(federation/users.py), which gets a hosted session (cookie) and the app its code or
tokens, as after a hosted sign-in. Problems after the state is known end at the app's
redirect_uri with `error=invalid_request` and an `error_description` (as Cognito's
federation errors do); without a usable state there is no app to go back to, so an
error page says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cognate.domain.federation import oidc
from cognate.domain.federation.oidc import ProviderReturn, ProviderSignIn, UpstreamError
from cognate.domain.federation.pending import PendingSignIns, StateError
from cognate.domain.federation.providers import SAML, ProviderRecord, provider_by_name
from cognate.domain.federation.users import FederatedSignInError, FederatedUsers
from cognate.domain.oauth import authorize
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.domain.oauth.hosted import HostedSession, HostedSignIn
from cognate.domain.oauth.sign_in_options import COGNITO
from cognate.outbound.http import Outbound
from cognate.storage.db import Database
from cognate.web.oauth import pages
from cognate.web.oauth.pages import DomainRequest
from cognate.web.oauth.saml_endpoints import SamlEndpoints

Grant = Callable[[AuthorizeRequest, HostedSession, str | None], Response]
IDP_RESPONSE = "/oauth2/idpresponse"
_LABELS = {
    "Google": "Continue with Google",
    "Facebook": "Continue with Facebook",
    "LoginWithAmazon": "Continue with Amazon",
    "SignInWithApple": "Continue with Apple",
}


def provider_buttons(
    where: DomainRequest, query: dict[str, str], checked: AuthorizeRequest
) -> list[dict[str, str]]:
    """The login page's buttons: one per third-party provider the app client supports,
    each a GET of /oauth2/authorize naming it (as managed login lists them)."""
    buttons = []
    base = {k: v for k, v in query.items() if k not in ("identity_provider", "idp_identifier")}
    for name in checked.providers:
        if name == COGNITO:
            continue
        href = f"{where.base_url}/oauth2/authorize?{urlencode({**base, 'identity_provider': name})}"
        buttons.append({"name": name, "label": _LABELS.get(name, name), "href": href})
    return buttons


class FederationPages:
    def __init__(
        self,
        db: Database,
        hosted: HostedSignIn,
        pending: PendingSignIns,
        providers: ProviderSignIn,
        users: FederatedUsers,
        outbound: Outbound,
        grant: Grant,
        saml: SamlEndpoints | None = None,
    ) -> None:
        self._db = db
        self._hosted = hosted
        self._pending = pending
        self._providers = providers
        self._users = users
        self._outbound = outbound
        self._grant = grant
        self.saml = saml  # SAML providers (saml_endpoints.py)

    def _provider(self, pool_pk: int, name: str) -> ProviderRecord | None:
        return self._db.read("federation_provider", lambda c: provider_by_name(c, pool_pk, name))

    async def start(
        self, where: DomainRequest, checked: AuthorizeRequest, query: dict[str, str]
    ) -> Response:
        """Send the browser to the provider `checked` names."""
        assert checked.provider is not None
        provider = await run_in_threadpool(
            self._provider, checked.scope.pool.pool.pk, checked.provider
        )
        if provider is None:
            return _back(checked, f"The identity provider {checked.provider} does not exist.")
        if provider.provider_type == SAML and self.saml is not None:
            return await self.saml.start(where, checked, query, provider)
        if provider.provider_type not in oidc.OAUTH_TYPES:
            return pages.error_page(
                f"Signing in through {provider.name} ({provider.provider_type}) is not "
                "supported by this server yet.",
                501,
            )
        nonce = oidc.new_nonce(provider)
        state = await run_in_threadpool(
            self._pending.begin, checked, query, provider.name, {"nonce": nonce}
        )
        url = oidc.authorize_url(
            provider, self._outbound, where.base_url + IDP_RESPONSE, state, nonce
        )
        return RedirectResponse(url, 302)

    async def idp_response(self, request: Request, where: DomainRequest) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            params.update(await pages.read_form(request))
        try:
            pending = await run_in_threadpool(self._pending.take, params.get("state"))
        except StateError as exc:
            reason = "has expired" if exc.expired else "is not valid (or was already used)"
            return pages.error_page(f"The sign-in {reason}: start again from the app.")
        if pending.pool_pk != where.domain.pool_pk:
            return pages.error_page("The sign-in is not valid for this domain.")
        try:
            checked = await run_in_threadpool(
                authorize.check, self._db, where.domain, pending.query
            )
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        except OAuthError as exc:
            return _back(checked=None, description=exc.description, query=pending.query)
        if params.get("error"):
            return _back(checked, params.get("error_description") or params["error"])
        code = params.get("code")
        if not code:
            return _back(checked, "The identity provider sent no code.")
        provider = await run_in_threadpool(self._provider, where.domain.pool_pk, pending.provider)
        if provider is None:
            return _back(checked, f"The identity provider {pending.provider} does not exist.")
        back = ProviderReturn(
            code=code,
            redirect_uri=where.base_url + IDP_RESPONSE,
            nonce=pending.extra.get("nonce"),
            apple_user=params.get("user"),
        )
        ip = request.client.host if request.client else None
        try:
            identity = await run_in_threadpool(self._providers.finish, provider, back)
            cookie = await run_in_threadpool(self._users.sign_in, checked.scope, identity, ip)
        except (UpstreamError, FederatedSignInError) as exc:
            return _back(checked, exc.description)
        session = await run_in_threadpool(self._hosted.session, cookie, where.domain.pool_pk)
        if session is None:  # disabled between the two steps
            return _back(checked, "User is disabled.")
        response = await run_in_threadpool(self._grant, checked, session, ip)
        pages.set_session(response, where, cookie)
        return response


def _back(
    checked: AuthorizeRequest | None,
    description: str | None,
    query: dict[str, str] | None = None,
) -> Response:
    """The redirect to the app that ends a failed federated sign-in."""
    redirect_uri = checked.redirect_uri if checked is not None else (query or {})["redirect_uri"]
    state = checked.state if checked is not None else (query or {}).get("state")
    params: dict[str, Any] = {"error_description": description or "", "error": "invalid_request"}
    if state is not None:
        params["state"] = state
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", 302)
