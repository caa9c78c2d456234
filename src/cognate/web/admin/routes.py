"""The admin console's routes, under /admin on the server's own host (a request by a pool
domain's Host gets 404): sign-in, the pools of every region, a pool (clients, groups,
users filtered by username prefix), a user (attributes, MFA, devices, groups, recent
auth events), and the user actions (create, enable/disable, delete, reset or set the
password).

Pages are Jinja2 templates (autoescaped) sent like the hosted pages (no-store, no
framing) plus a Content-Security-Policy that allows no scripts. Every action is a POST
carrying the double-submit CSRF token of the hosted pages (web/oauth/pages.py; the cookie
here is SameSite=Strict and scoped to /admin), and ends in a redirect (post/redirect/get)
whose page shows the outcome once: the API's error (`Code: message`) on failure. Reads
and actions go through views.py and actions.py to the domain services, in the thread pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from cognate.api.errors import ServiceError
from cognate.services import Services
from cognate.web.admin import actions, views
from cognate.web.admin.auth import BASE, AdminAuth, Flash
from cognate.web.oauth import pages

Handler = Callable[[Request], Awaitable[Response]]
FAILED_SIGN_IN_DELAY = 1.0  # seconds before answering a wrong password
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
CSRF_REFUSED = (
    "This form was not sent by this console's page (the CSRF check failed). "
    "Reload the page and try again."
)
_USER_ACTIONS = ("enable", "disable", "delete", "reset-password", "set-password")

_templates = Environment(
    loader=PackageLoader("cognate.web.admin", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def pool_url(pool_id: str, **query: str) -> str:
    url = f"{BASE}/pools/{pool_id}"
    wanted = {k: v for k, v in query.items() if v}
    return url + ("?" + urlencode(wanted) if wanted else "")


def user_url(pool_id: str, username: str) -> str:
    return f"{BASE}/pools/{pool_id}/user?" + urlencode({"username": username})


_templates.globals.update(pool_url=pool_url, user_url=user_url, base=BASE)
_templates.filters["when"] = views.when


class AdminConsole:
    def __init__(
        self,
        services: Services,
        auth: AdminAuth,
        is_pool_domain: Callable[[str], bool],
    ) -> None:
        self._services = services
        self._auth = auth
        self._is_pool_domain = is_pool_domain

    def routes(self) -> list[Route]:
        return [
            Route(BASE, self._guard(self.pools), methods=["GET"]),
            Route(BASE + "/", self._guard(self.pools), methods=["GET"]),
            Route(BASE + "/login", self._on_host(self.login), methods=["GET", "POST"]),
            Route(BASE + "/logout", self._guard(self.logout), methods=["POST"]),
            Route(BASE + "/pools/{pool_id}", self._guard(self.pool), methods=["GET"]),
            Route(BASE + "/pools/{pool_id}/users", self._guard(self.create_user), methods=["POST"]),
            Route(BASE + "/pools/{pool_id}/user", self._guard(self.user), methods=["GET"]),
            Route(
                BASE + "/pools/{pool_id}/user/{action}",
                self._guard(self.user_action),
                methods=["POST"],
            ),
        ]

    # ------------------------------------------------------------------ guards

    def _on_host(self, handler: Handler) -> Handler:
        """404 for a request that came by a pool domain's Host: the console is the
        server's own."""

        async def on_host(request: Request) -> Response:
            host = request.headers.get("host", "")
            on_domain: bool = bool(host) and await run_in_threadpool(self._is_pool_domain, host)
            if on_domain:
                return PlainTextResponse("Not Found", status_code=404)
            return await handler(request)

        return on_host

    def _guard(self, handler: Handler) -> Handler:
        """Signed in (else to the sign-in page) and, for a POST, the CSRF token."""

        async def guarded(request: Request) -> Response:
            if not self._auth.signed_in(request):
                return RedirectResponse(BASE + "/login", status_code=303)
            if request.method == "POST":
                form = await pages.read_form(request)
                if not pages.check_csrf(request, form):
                    return self._page(request, "error.html", status=403, message=CSRF_REFUSED)
                request.state.form = form
            return await handler(request)

        return self._on_host(guarded)

    # ------------------------------------------------------------------ rendering

    def _page(
        self, request: Request, template: str, status: int = 200, **values: Any
    ) -> HTMLResponse:
        token = pages.csrf_token(request)
        html = _templates.get_template(template).render(
            csrf=token, signed_in=self._auth.signed_in(request), **values
        )
        response = pages.html_page(html, status)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        pages.set_csrf_cookie(response, token, BASE, samesite="strict")
        return response

    async def _show(
        self, request: Request, template: str, read: Callable[[], Any], **values: Any
    ) -> Response:
        """A page of the data `read` gets, with the flash of the action before it; the
        API's error instead when reading fails."""
        flash = self._auth.flash(request)
        try:
            data = await run_in_threadpool(read)
        except ServiceError as error:
            response: Response = self._page(
                request, "error.html", status=error.status, message=_error_text(error), flash=flash
            )
        else:
            response = self._page(request, template, data=data, flash=flash, **values)
        self._auth.clear_flash(request, response)
        return response

    def _done(self, url: str, flash: Flash) -> Response:
        response = RedirectResponse(url, status_code=303)
        self._auth.set_flash(response, flash)
        return response

    # ------------------------------------------------------------------ sign-in

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            if self._auth.signed_in(request):
                return RedirectResponse(BASE, status_code=303)
            return self._page(request, "login.html")
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return self._page(request, "login.html", status=403, error=CSRF_REFUSED)
        if not self._auth.password_ok(form.get("password") or ""):
            await asyncio.sleep(FAILED_SIGN_IN_DELAY)
            return self._page(request, "login.html", status=401, error="Incorrect password.")
        response = RedirectResponse(BASE, status_code=303)
        self._auth.start_session(response)
        return response

    async def logout(self, _request: Request) -> Response:
        response = RedirectResponse(BASE + "/login", status_code=303)
        self._auth.end_session(response)
        return response

    # ------------------------------------------------------------------ pages

    async def pools(self, request: Request) -> Response:
        region = request.query_params.get("region") or None
        token = request.query_params.get("next") or None
        return await self._show(
            request,
            "pools.html",
            lambda: views.pools_by_region(self._services, region, token if region else None),
            region=region,
        )

    async def pool(self, request: Request) -> Response:
        pool_id = request.path_params["pool_id"]
        prefix = request.query_params.get("prefix") or ""
        token = request.query_params.get("next") or None
        return await self._show(
            request,
            "pool.html",
            lambda: views.pool_page(self._services, pool_id, prefix, token),
            pool_id=pool_id,
        )

    async def user(self, request: Request) -> Response:
        pool_id = request.path_params["pool_id"]
        username = request.query_params.get("username") or ""
        return await self._show(
            request,
            "user.html",
            lambda: views.user_page(self._services, pool_id, username),
            pool_id=pool_id,
        )

    # ------------------------------------------------------------------ actions

    async def create_user(self, request: Request) -> Response:
        pool_id = request.path_params["pool_id"]
        form: dict[str, str] = request.state.form
        try:
            username = await run_in_threadpool(actions.create_user, self._services, pool_id, form)
        except ServiceError as error:
            return self._done(pool_url(pool_id), Flash(False, _error_text(error)))
        return self._done(user_url(pool_id, username), Flash(True, f"User {username} created."))

    async def user_action(self, request: Request) -> Response:
        pool_id = request.path_params["pool_id"]
        action = request.path_params["action"]
        form: dict[str, str] = request.state.form
        username = form.get("username") or ""
        if action not in _USER_ACTIONS:
            return PlainTextResponse("Not Found", status_code=404)
        if action == "delete" and form.get("confirm") != "on":
            flash = Flash(False, "Tick the box to confirm deleting the user.")
            return self._done(user_url(pool_id, username), flash)
        try:
            done = await run_in_threadpool(self._act, action, pool_id, username, form)
        except ServiceError as error:
            return self._done(user_url(pool_id, username), Flash(False, _error_text(error)))
        if action == "delete":
            return self._done(pool_url(pool_id), Flash(True, done))
        return self._done(user_url(pool_id, username), Flash(True, done))

    def _act(self, action: str, pool_id: str, username: str, form: dict[str, str]) -> str:
        svc = self._services
        if action in ("enable", "disable"):
            actions.set_enabled(svc, pool_id, username, enabled=action == "enable")
            return f"User {username} {action}d."
        if action == "delete":
            actions.delete_user(svc, pool_id, username)
            return f"User {username} deleted."
        if action == "reset-password":
            actions.reset_password(svc, pool_id, username)
            return f"Password of {username} reset: the user must set a new one with a code."
        permanent = form.get("permanent") == "on"
        password = form.get("password") or ""
        actions.set_password(svc, pool_id, username, password, permanent=permanent)
        kind = "permanent" if permanent else "temporary"
        return f"New {kind} password set for {username}."


def _error_text(error: ServiceError) -> str:
    return f"{error.code}: {error.message}"
