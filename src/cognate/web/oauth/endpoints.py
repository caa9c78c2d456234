"""The routes of a pool domain: /oauth2/authorize, /login, /oauth2/token,
/oauth2/userInfo, /oauth2/revoke, /logout and the domain's /.well-known documents.

Handlers parse HTTP and shape answers; the work is in domain/oauth (authorize.py checks
the request, hosted.py signs in and issues codes, grants.py issues tokens). Blocking
work runs in the thread pool. No state is kept in the process: sessions and codes are
in the database, the CSRF token in a cookie.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from cognate.api.errors import ServiceError
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.account import AccountService
from cognate.domain.federation import cimd_clients
from cognate.domain.federation.saml import ACS_PATH, LOGOUT_PATH
from cognate.domain.oauth import authorize
from cognate.domain.oauth.account import HostedAccount
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.oauth.challenges import HostedChallenges, StepNotSupported, StepRefused
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.domain.oauth.grants import OAuthTokens
from cognate.domain.oauth.hosted import HostedSession, HostedSignIn
from cognate.domain.oauth.sign_in_options import COGNITO, Step
from cognate.domain.token_keys import TokenKeys
from cognate.domain.tokens import readable_attributes
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo
from cognate.web.oauth import pages
from cognate.web.oauth.account_pages import AccountPages
from cognate.web.oauth.challenge_pages import ChallengePages, login_extras
from cognate.web.oauth.federation import IDP_RESPONSE, FederationPages, provider_buttons
from cognate.web.oauth.pages import DomainRequest
from cognate.web.oauth.routing import HOST_ROOT, PATH_PREFIX, DomainNames
from cognate.web.well_known import WellKnown

Handler = Callable[[Request, DomainRequest], Awaitable[Response]]
Grant = Callable[[AuthorizeRequest, HostedSession, str | None], Response]
_PROFILE = (
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
    "updated_at", "address",
)  # fmt: skip
_SCOPE_ATTRIBUTES = {
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "profile": _PROFILE,
}
INVALID_TOKEN = (
    "Access token is expired, disabled, or deleted, or the user has globally signed out."
)


class DomainEndpoints:
    def __init__(
        self,
        db: Database,
        names: DomainNames,
        hosted: HostedSignIn,
        tokens: OAuthTokens,
        access: AccessCheck,
        account: AccountService,
        keys: TokenKeys,
        well_known: WellKnown,
        challenges: HostedChallenges,
        account_pages: HostedAccount,
        federation: Callable[[Grant], FederationPages],
    ) -> None:
        self._db = db
        self._names = names
        self._hosted = hosted
        self._tokens = tokens
        self._access = access
        self._account = account
        self._keys = keys
        self._well_known = well_known
        self._challenges = challenges
        self._steps = ChallengePages(db, challenges, hosted, self._grant, account_pages.look)
        self._pages = AccountPages(db, account_pages, challenges, self._steps.show)
        self._federation = federation(self._grant)

    def routes(self) -> list[Mount]:
        def r(path: str, handler: Handler, methods: list[str]) -> Route:
            return Route(path, self._with_domain(handler), methods=methods)

        step_routes = [
            r("/login/challenge", self._steps.challenge, ["POST"]),
            r("/login/passkey", self._steps.passkey, ["POST"]),
        ]
        account_routes = [
            r("/signup", self._pages.sign_up, ["GET", "POST"]),
            r("/confirm", self._pages.confirm, ["GET", "POST"]),
            r("/forgotPassword", self._pages.forgot_password, ["GET", "POST"]),
            r("/confirmForgotPassword", self._pages.confirm_forgot_password, ["GET", "POST"]),
        ]
        return [
            Mount(
                PATH_PREFIX + "/{domain}",
                routes=[
                    r("/oauth2/authorize", self.authorize, ["GET"]),
                    r(IDP_RESPONSE, self._federation.idp_response, ["GET", "POST"]),
                    *self._saml_routes(r),
                    r("/login", self.login, ["GET", "POST"]),
                    *step_routes,
                    *account_routes,
                    r("/oauth2/token", self.token, ["POST"]),
                    r("/oauth2/userInfo", self.user_info, ["GET", "POST"]),
                    r("/oauth2/revoke", self.revoke, ["POST"]),
                    r("/logout", self.logout, ["GET"]),
                    r("/.well-known/openid-configuration", self.discovery, ["GET"]),
                    r("/.well-known/jwks.json", self.jwks, ["GET"]),
                ],
            )
        ]

    def _with_domain(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            name = unquote(request.path_params["domain"])
            domain = await run_in_threadpool(self._names.find, name)
            if domain is None:
                return pages.error_page("The domain is not configured for any user pool.", 404)
            root = str(request.base_url).rstrip("/")
            if request.scope.get(HOST_ROOT):
                where = DomainRequest(domain, root, "/")
            else:
                path = f"{PATH_PREFIX}/{name}"
                where = DomainRequest(domain, root + path, path)
            return await handler(request, where)

        return endpoint

    # ------------------------------------------------------------------ authorize / login

    async def authorize(self, request: Request, where: DomainRequest) -> Response:
        query = dict(request.query_params)
        try:
            checked = await run_in_threadpool(authorize.check, self._db, where.domain, query)
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        except OAuthError as exc:
            return _error_redirect(query, exc)
        cookie = request.cookies.get(pages.SESSION_COOKIE)
        session = await run_in_threadpool(self._hosted.session, cookie, where.domain.pool_pk)
        step = authorize.authorize_step(checked, session is not None)
        if step is Step.LOGIN_PAGE:
            return RedirectResponse(f"{where.base_url}/login?{urlencode(query)}", 302)
        return await self._answer(request, where, checked, query, step, session)

    async def _login_guard(
        self,
        request: Request,
        where: DomainRequest,
        checked: AuthorizeRequest,
        query: dict[str, str],
    ) -> Response | None:
        """/login takes the authorize query: prompt=none answers without a page, and no
        username/password form for a request or client that does not sign in with COGNITO."""
        showing = request.method == "GET"
        session = None
        if showing and "none" in checked.prompt:
            cookie = request.cookies.get(pages.SESSION_COOKIE)
            session = await run_in_threadpool(self._hosted.session, cookie, where.domain.pool_pk)
        step = authorize.login_step(checked, session is not None, showing)
        if step is None:
            return None
        return await self._answer(request, where, checked, query, step, session)

    async def _answer(
        self,
        request: Request,
        where: DomainRequest,
        checked: AuthorizeRequest,
        query: dict[str, str],
        step: Step,
        session: HostedSession | None,
    ) -> Response:
        if step is Step.GRANT and session is not None:
            return await run_in_threadpool(self._grant, checked, session, _ip(request))
        if step is Step.LOGIN_REQUIRED:
            return _error_redirect(query, OAuthError("login_required"))
        if step is Step.FEDERATION and checked.provider not in (None, COGNITO):
            return await self._federation.start(where, checked, query)
        if step is Step.FEDERATION:  # a client without COGNITO: only its providers' buttons
            extras = await self._pages.login_extras(where, checked, query)
            return pages.form_page(
                request, where, "login.html", action="", username="", password_form=False,
                providers=provider_buttons(where, query, checked), **extras,
            )  # fmt: skip
        refused = authorize.refusal(checked, step)
        return pages.error_page(refused.message, refused.status)

    def _grant(self, checked: AuthorizeRequest, session: HostedSession, ip: str | None) -> Response:
        """The redirect that ends an authorization: a code, or (implicit) the tokens."""
        if checked.response_type == "code":
            code = self._hosted.issue_code(checked, session)
            params = {"code": code}
            if checked.state is not None:
                params["state"] = checked.state
            return _redirect(checked.redirect_uri, "?", params)
        body = self._tokens.user_tokens(
            checked.scope,
            session.user,
            list(checked.scopes),
            checked.nonce,
            session.auth_time_ms,
            ip,
            refresh=False,
        )
        fragment = {k: str(v) for k, v in body.items()}
        fragment["token_type"] = "bearer"
        if checked.state is not None:
            fragment["state"] = checked.state
        return _redirect(checked.redirect_uri, "#", fragment)

    async def login(self, request: Request, where: DomainRequest) -> Response:
        query = dict(request.query_params)
        try:
            checked = await run_in_threadpool(authorize.check, self._db, where.domain, query)
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        except OAuthError as exc:
            return _error_redirect(query, exc)
        if (guard := await self._login_guard(request, where, checked, query)) is not None:
            return guard
        action = f"{where.base_url}/login?{urlencode(query)}"
        extras = {
            **await self._pages.login_extras(where, checked, query),
            **login_extras(where, query, checked),
            "password_form": True,
            "providers": provider_buttons(where, query, checked),
        }
        if request.method == "GET":
            return pages.form_page(
                request, where, "login.html", action=action, username="", **extras
            )
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page(
                "The form has expired: go back and try again.", 403, extras["look"]
            )
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        try:
            outcome = await run_in_threadpool(
                self._challenges.start, checked.scope, username, password, _ip(request)
            )
        except StepNotSupported as exc:
            return pages.not_supported_page(str(exc), extras["look"])
        except (ServiceError, StepRefused) as exc:
            return pages.form_page(
                request, where, "login.html", 400, action=action, username=username,
                error=exc.message, **extras,
            )  # fmt: skip
        return await self._steps.show(request, where, checked, query, outcome)

    # ------------------------------------------------------------------ token endpoints

    async def token(self, request: Request, where: DomainRequest) -> Response:
        form = await pages.read_form(request)
        try:
            basic = _basic(request)
            body = await run_in_threadpool(
                self._tokens.token, form, basic, _ip(request), where.domain.pool_pk
            )
        except OAuthError as exc:
            return _error_json(exc)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def user_info(self, request: Request, where: DomainRequest) -> Response:
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return JSONResponse(
                {"error": "invalid_request"},
                400,
                headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
            )
        try:
            signed = await run_in_threadpool(self._access.signed_in, token.strip(), "openid")
        except ServiceError:
            return JSONResponse(
                {"error": "invalid_token", "error_description": INVALID_TOKEN},
                401,
                headers={
                    "WWW-Authenticate": (
                        f'Bearer error="invalid_token", error_description="{INVALID_TOKEN}"'
                    )
                },
            )
        if signed.context.user.pool_pk != where.domain.pool_pk:
            return JSONResponse({"error": "invalid_token"}, 401)
        context = signed.context
        readable = readable_attributes(context.client, context.attributes)
        body: dict[str, Any] = {"sub": context.user.sub}
        for scope_name, names in _SCOPE_ATTRIBUTES.items():
            if scope_name in signed.claims.scopes:
                body.update({n: readable[n] for n in names if n in readable})
        body["username"] = context.user.username
        return JSONResponse(body)

    async def revoke(self, request: Request, where: DomainRequest) -> Response:
        form = await pages.read_form(request)
        try:
            basic = _basic(request)
        except OAuthError as exc:
            return _error_json(exc)
        client_id, secret = basic if basic is not None else (form.get("client_id"), None)
        secret = secret if basic is not None else form.get("client_secret")
        token = form.get("token")
        if not token or not client_id:
            return _error_json(OAuthError("invalid_request"))
        if cimd_clients.is_url_client_id(client_id):
            try:
                await run_in_threadpool(
                    self._tokens.revoke_for_url_client,
                    where.domain.pool_pk, client_id, token, secret,
                )  # fmt: skip
            except OAuthError as exc:
                return _error_json(exc)
            return Response(status_code=200)
        try:
            await run_in_threadpool(self._account.revoke_token, client_id, token, secret)
        except ServiceError as exc:
            return _error_json(_revocation_error(exc))
        return Response(status_code=200)

    async def logout(self, request: Request, where: DomainRequest) -> Response:
        query = dict(request.query_params)
        try:
            scope = await run_in_threadpool(
                authorize.client_in_domain, self._db, where.domain, query.get("client_id")
            )
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        logout_uri = query.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in (scope.client.settings.get("LogoutURLs") or []):
                return pages.error_page("Invalid logout_uri (not one of the client's LogoutURLs).")
            target = logout_uri
        elif query.get("redirect_uri"):
            target = f"{where.base_url}/login?{urlencode(query)}"
            if query["redirect_uri"] not in (scope.client.settings.get("CallbackURLs") or []):
                return pages.error_page("redirect_mismatch")
        else:
            return pages.error_page("Required String parameter 'logout_uri' is not present")
        saml = self._federation.saml  # a SAML sign-in with IDPSignout: via its provider
        if saml is not None:
            target = await saml.logout_redirect(request, where, scope, target) or target
        await run_in_threadpool(self._hosted.end, request.cookies.get(pages.SESSION_COOKIE))
        response = RedirectResponse(target, 302)
        pages.clear_session(response, where)
        return response

    def _saml_routes(self, r: Callable[[str, Handler, list[str]], Route]) -> list[Route]:
        saml = self._federation.saml
        if saml is None:
            return []
        return [
            r(ACS_PATH, saml.idp_response, ["POST"]),
            r(LOGOUT_PATH, saml.logout_answer, ["POST"]),
        ]

    # ------------------------------------------------------------------ discovery

    async def discovery(self, request: Request, where: DomainRequest) -> Response:
        pool = await run_in_threadpool(self._pool, where.domain.pool_pk)
        return JSONResponse(self._well_known.discovery_document(pool, where.base_url))

    async def jwks(self, request: Request, where: DomainRequest) -> Response:
        pool = await run_in_threadpool(self._pool, where.domain.pool_pk)
        return JSONResponse(await run_in_threadpool(self._keys.jwks, pool.pk, pool.id))

    def _pool(self, pool_pk: int) -> Any:
        pool = self._db.read("domain_pool", lambda c: pools_repo.by_pk(c, pool_pk))
        assert pool is not None
        return pool


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _redirect(uri: str, separator: str, params: dict[str, str]) -> RedirectResponse:
    joiner = separator if separator == "#" or "?" not in uri else "&"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", 302)


def _error_redirect(query: dict[str, str], exc: OAuthError) -> Response:
    params = {"error": exc.error}
    if exc.description:
        params["error_description"] = exc.description
    if query.get("state") is not None:
        params["state"] = query["state"]
    return _redirect(query["redirect_uri"], "?", params)


def _error_json(exc: OAuthError) -> JSONResponse:
    body = {"error": exc.error}
    if exc.description:
        body["error_description"] = exc.description
    return JSONResponse(body, exc.status)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_client", status=401) from None
    if not sep:
        raise OAuthError("invalid_client", status=401)
    return client_id, secret


def _revocation_error(exc: ServiceError) -> OAuthError:
    code = type(exc).__name__
    if code == "UnsupportedTokenTypeException":
        return OAuthError("unsupported_token_type")
    if code in ("UnauthorizedException", "NotAuthorizedException", "ResourceNotFoundException"):
        return OAuthError("invalid_client", status=401)
    return OAuthError("invalid_request")
