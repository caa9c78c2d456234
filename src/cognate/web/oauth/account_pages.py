"""The hosted account pages of a pool domain: /signup, /confirm, /forgotPassword and
/confirmForgotPassword, and what /login shows of them (its links, the pages' look).

Each page takes the query of /oauth2/authorize (checked again on every request, carried
in the form's action URL and in the links between pages) plus, on /confirm and
/confirmForgotPassword, `username`. The work is in domain/oauth/account.py; the errors
shown are the API's messages. A sign-up ends on /confirm (or, auto-confirmed by a
PreSignUp trigger, straight at the authorize redirect); a confirmation made in the
browser that signed up continues to the authorize redirect, otherwise to /login; a reset
password ends on /login. A confirmation made in the browser that signed up goes on as a
sign-in from /login would, through the step pages of challenge_pages.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cognate.api.errors import ServiceError
from cognate.domain.oauth import authorize
from cognate.domain.oauth.account import (
    HostedAccount,
    Look,
    form_attributes,
    sign_up_allowed,
    username_label,
)
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.oauth.challenges import (
    Done,
    HostedChallenges,
    Step,
    StepNotSupported,
    StepRefused,
)
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.storage.db import Database
from cognate.web.oauth import pages
from cognate.web.oauth.pages import DomainRequest

SIGN_UP_COOKIE = "cognate_signup"
Show = Callable[
    [Request, DomainRequest, AuthorizeRequest, dict[str, str], Step | Done], Awaitable[Response]
]
_INPUT_TYPES = {"email": "email", "phone_number": "tel"}
_LABELS = {
    "email": "Email",
    "phone_number": "Phone number",
    "name": "Name",
    "given_name": "Given name",
    "family_name": "Family name",
    "birthdate": "Birthdate",
}
_EXPIRED = "The form has expired: go back and try again."


class AccountPages:
    def __init__(
        self, db: Database, account: HostedAccount, challenges: HostedChallenges, show: Show
    ) -> None:
        self._db = db
        self._account = account
        self._challenges = challenges
        self._show = show

    # ------------------------------------------------------------------ shared

    async def _check(
        self, request: Request, where: DomainRequest
    ) -> tuple[AuthorizeRequest, dict[str, str]] | Response:
        query = dict(request.query_params)
        query.pop("username", None)
        try:
            checked = await run_in_threadpool(authorize.check, self._db, where.domain, query)
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        except OAuthError as exc:
            return _error_redirect(query, exc)
        return checked, query

    async def look(self, checked: AuthorizeRequest) -> Look:
        return await run_in_threadpool(self._account.look, checked.scope, checked.lang)

    async def login_extras(
        self, where: DomainRequest, checked: AuthorizeRequest, query: dict[str, str]
    ) -> dict[str, Any]:
        """What login.html shows besides its form: the look and the account links."""
        links = {"forgot_password": _url(where, "/forgotPassword", query)}
        if sign_up_allowed(checked.scope):
            links["sign_up"] = _url(where, "/signup", query)
        return {"look": await self.look(checked), "links": links}

    # ------------------------------------------------------------------ /signup

    async def sign_up(self, request: Request, where: DomainRequest) -> Response:
        found = await self._check(request, where)
        if isinstance(found, Response):
            return found
        checked, query = found
        if not sign_up_allowed(checked.scope):
            return pages.error_page("SignUp is not permitted for this user pool", 400)
        names = form_attributes(checked.scope)
        values: dict[str, str] = {}
        look = await self.look(checked)

        def page(status: int = 200, error: str | None = None, username: str = "") -> Response:
            fields = [
                {
                    "name": n,
                    "label": _LABELS.get(n, n),
                    "type": _INPUT_TYPES.get(n, "text"),
                    "value": values.get(n, ""),
                }
                for n in names
            ]
            return pages.form_page(
                request, where, "signup.html", status, action=_url(where, "/signup", query),
                login_url=_url(where, "/login", query), username=username,
                username_label=username_label(checked.scope), fields=fields, look=look,
                error=error,
            )  # fmt: skip

        if request.method == "GET":
            return page()
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page(_EXPIRED, 403)
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        values.update({n: str(form.get(n) or "").strip() for n in names})
        try:
            answer, cookie = await run_in_threadpool(
                self._account.sign_up, checked.scope, username, password, values
            )
        except ServiceError as exc:
            return page(400, exc.message, username)
        if answer.get("UserConfirmed"):
            return await self._continue(request, where, checked, query, username, cookie)
        target = _url(where, "/confirm", {**query, "username": username})
        response = RedirectResponse(target, 302)
        response.set_cookie(
            SIGN_UP_COOKIE, cookie, path=where.cookie_path, httponly=True, samesite="lax",
            secure=where.base_url.startswith("https:"),
        )  # fmt: skip
        return response

    async def _continue(
        self,
        request: Request,
        where: DomainRequest,
        checked: AuthorizeRequest,
        query: dict[str, str],
        username: str,
        sign_up_cookie: str | None,
    ) -> Response:
        """After a confirmed sign-up: this browser signed up, so the sign-in goes on as
        from /login (steps included); otherwise, or if it is refused, /login."""
        password = await run_in_threadpool(
            self._account.sign_up_password, checked.scope, sign_up_cookie, username
        )
        login = RedirectResponse(_url(where, "/login", query), 302)
        login.delete_cookie(SIGN_UP_COOKIE, path=where.cookie_path, httponly=True)
        if password is None:
            return login
        try:
            outcome = await run_in_threadpool(
                self._challenges.start, checked.scope, username, password, _ip(request)
            )
        except StepNotSupported as exc:
            return pages.not_supported_page(str(exc), await self.look(checked))
        except StepRefused as exc:
            return pages.error_page(exc.message, 400, await self.look(checked))
        except ServiceError:
            return login
        response = await self._show(request, where, checked, query, outcome)
        response.delete_cookie(SIGN_UP_COOKIE, path=where.cookie_path, httponly=True)
        return response

    # ------------------------------------------------------------------ /confirm

    async def confirm(self, request: Request, where: DomainRequest) -> Response:
        found = await self._check(request, where)
        if isinstance(found, Response):
            return found
        checked, query = found
        look = await self.look(checked)
        username = request.query_params.get("username") or ""
        action = _url(where, "/confirm", {**query, "username": username})

        def page(status: int = 200, **values: Any) -> Response:
            values.setdefault("username", username)
            return pages.form_page(
                request, where, "confirm.html", status, action=action, look=look, **values
            )

        if request.method == "GET":
            return page(message="We have sent a code. Enter it below to confirm your account.")
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page(_EXPIRED, 403)
        username = str(form.get("username") or username).strip()
        code = str(form.get("code") or "").strip()
        try:
            if form.get("action") == "resend":
                answer = await run_in_threadpool(self._account.resend, checked.scope, username)
                sent = answer.get("CodeDeliveryDetails") or {}
                to = sent.get("Destination")
                message = f"We have sent a code to {to}." if to else "We have sent a code."
                return page(message=message, username=username)
            await run_in_threadpool(self._account.confirm, checked.scope, username, code)
        except ServiceError as exc:
            return page(400, error=exc.message, username=username)
        cookie = request.cookies.get(SIGN_UP_COOKIE)
        return await self._continue(request, where, checked, query, username, cookie)

    # ------------------------------------------------------------------ recovery

    async def forgot_password(self, request: Request, where: DomainRequest) -> Response:
        found = await self._check(request, where)
        if isinstance(found, Response):
            return found
        checked, query = found
        look = await self.look(checked)

        def page(status: int = 200, **values: Any) -> Response:
            return pages.form_page(
                request, where, "forgot_password.html", status, look=look,
                action=_url(where, "/forgotPassword", query),
                login_url=_url(where, "/login", query), **values,
            )  # fmt: skip

        if request.method == "GET":
            return page(username="")
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page(_EXPIRED, 403)
        username = str(form.get("username") or "").strip()
        try:
            answer = await run_in_threadpool(self._account.forgot_password, checked.scope, username)
        except ServiceError as exc:
            return page(400, username=username, error=exc.message)
        sent = answer.get("CodeDeliveryDetails") or {}
        params = {**query, "username": username}
        if sent.get("Destination"):
            params["destination"] = str(sent["Destination"])
        return RedirectResponse(_url(where, "/confirmForgotPassword", params), 302)

    async def confirm_forgot_password(self, request: Request, where: DomainRequest) -> Response:
        found = await self._check(request, where)
        if isinstance(found, Response):
            return found
        checked, query = found
        query.pop("destination", None)
        look = await self.look(checked)
        username = request.query_params.get("username") or ""
        destination = request.query_params.get("destination")
        params = {**query, "username": username}
        if destination:
            params["destination"] = destination

        def page(status: int = 200, **values: Any) -> Response:
            return pages.form_page(
                request, where, "confirm_forgot_password.html", status, look=look,
                action=_url(where, "/confirmForgotPassword", params), username=username,
                **values,
            )  # fmt: skip

        if request.method == "GET":
            to = f" to {destination}" if destination else ""
            return page(message=f"We have sent a password reset code{to}. Enter it below.")
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page(_EXPIRED, 403)
        code = str(form.get("code") or "").strip()
        password = str(form.get("password") or "")
        if password != str(form.get("password_again") or ""):
            return page(400, error="Passwords do not match.")
        try:
            await run_in_threadpool(
                self._account.confirm_forgot_password, checked.scope, username, code, password
            )
        except ServiceError as exc:
            return page(400, error=exc.message)
        return RedirectResponse(_url(where, "/login", query), 302)


def _url(where: DomainRequest, path: str, query: dict[str, str]) -> str:
    return f"{where.base_url}{path}?{urlencode(query)}"


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _error_redirect(query: dict[str, str], exc: OAuthError) -> Response:
    params = {"error": exc.error}
    if exc.description:
        params["error_description"] = exc.description
    if query.get("state") is not None:
        params["state"] = query["state"]
    uri = query["redirect_uri"]
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", 302)
