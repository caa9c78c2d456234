"""SAML federation at a pool domain: the redirect from /oauth2/authorize to a SAML
provider, /saml2/idpresponse (the assertion consumer service, SP- and IdP-initiated) and
/saml2/logout (where the provider answers a sign-out). The SAML work is in
domain/federation/saml.py; the user and the hosted session come from federation/users.py,
as for OIDC providers (web/oauth/federation.py).

Failures once the app's request is known end at its redirect_uri with
`error=invalid_request` (Cognito's federation errors); without one (an unknown or used
RelayState) an error page says so.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cognate.domain.client_auth import ClientScope
from cognate.domain.federation.providers import ProviderRecord
from cognate.domain.federation.saml import SamlFederation
from cognate.domain.federation.saml_messages import SamlBadRequest, SamlRefused, SamlSignIn
from cognate.domain.federation.users import FederatedSignInError, FederatedUsers
from cognate.domain.oauth import authorize
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.domain.oauth.hosted import HostedSession, HostedSignIn
from cognate.storage.db import Database
from cognate.web.oauth import pages
from cognate.web.oauth.pages import DomainRequest

Grant = Callable[[AuthorizeRequest, HostedSession, str | None], Response]
MAX_RESPONSE = 100_000  # "can accept SAML assertions of up to 100,000 characters"


class SamlEndpoints:
    def __init__(
        self,
        db: Database,
        saml: SamlFederation,
        hosted: HostedSignIn,
        users: FederatedUsers,
        grant: Grant,
    ) -> None:
        self._db = db
        self._saml = saml
        self._hosted = hosted
        self._users = users
        self._grant = grant

    async def start(
        self,
        where: DomainRequest,
        checked: AuthorizeRequest,
        query: dict[str, str],
        provider: ProviderRecord,
    ) -> Response:
        """/oauth2/authorize for a SAML provider: on to its sign-in with an AuthnRequest."""
        try:
            url = await run_in_threadpool(
                self._saml.sign_in_url, checked, query, provider, where.base_url
            )
        except SamlBadRequest as exc:
            return _back(query, str(exc))
        return RedirectResponse(url, 302)

    async def idp_response(self, request: Request, where: DomainRequest) -> Response:
        form = await pages.read_form(request)
        if len(form.get("SAMLResponse") or "") > MAX_RESPONSE:
            return pages.error_page("The SAML response is too long.", 413)

        def lookup(query: dict[str, str]) -> tuple[str | None, int]:
            checked = self._check(where, query)
            return checked.provider, checked.scope.client.pk

        try:
            signed_in = await run_in_threadpool(
                self._saml.receive,
                where.domain.pool_pk,
                where.domain.pool_id,
                form,
                where.base_url,
                lookup,
            )
            checked = await run_in_threadpool(self._check, where, signed_in.query)
        except SamlBadRequest as exc:
            return pages.error_page(f"{exc} Start again from the app.")
        except SamlRefused as exc:
            return _back(exc.query, exc.description, exc.error)
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        return await run_in_threadpool(self._finish, request, where, checked, signed_in)

    def _check(self, where: DomainRequest, query: dict[str, str]) -> AuthorizeRequest:
        """The app's request, checked again as /oauth2/authorize does."""
        try:
            return authorize.check(self._db, where.domain, query)
        except OAuthError as exc:
            raise SamlRefused(query, exc.description or exc.error, exc.error) from None

    def _finish(
        self,
        request: Request,
        where: DomainRequest,
        checked: AuthorizeRequest,
        signed_in: SamlSignIn,
    ) -> Response:
        ip = request.client.host if request.client else None
        try:
            cookie = self._users.sign_in(checked.scope, signed_in.identity, ip)
        except FederatedSignInError as exc:
            return _back(signed_in.query, exc.description)
        session = self._hosted.session(cookie, where.domain.pool_pk)
        if session is None:  # disabled between the two steps
            return _back(signed_in.query, "User is disabled.")
        self._saml.remember_session(
            where.domain.pool_pk, checked.scope.client.pk, cookie, signed_in.session
        )
        response = self._grant(checked, session, ip)
        pages.set_session(response, where, cookie)
        return response

    async def logout_redirect(
        self, request: Request, where: DomainRequest, scope: ClientScope, target: str
    ) -> str | None:
        """/logout of a session opened through a SAML provider with IDPSignout: the URL
        of the provider's sign-out (the session is ended by the caller); else None."""
        return await run_in_threadpool(
            self._saml.logout_url,
            where.domain.pool_pk,
            where.domain.pool_id,
            scope.client.pk,
            request.cookies.get(pages.SESSION_COOKIE),
            target,
            where.base_url,
        )

    async def logout_answer(self, request: Request, where: DomainRequest) -> Response:
        """/saml2/logout: the provider's LogoutResponse; on to where /logout was going."""
        form = await pages.read_form(request)
        try:
            target = await run_in_threadpool(
                self._saml.logout_answered,
                where.domain.pool_pk,
                where.domain.pool_id,
                form,
                where.base_url,
            )
        except SamlBadRequest as exc:
            return pages.error_page(str(exc))
        return RedirectResponse(target, 302)


def _back(query: dict[str, str], description: str, error: str = "invalid_request") -> Response:
    """The redirect to the app that ends a refused SAML sign-in."""
    params = {"error_description": description, "error": error}
    if query.get("state") is not None:
        params["state"] = query["state"]
    redirect_uri = query["redirect_uri"]
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", 302)
