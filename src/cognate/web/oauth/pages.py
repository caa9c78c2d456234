"""What every hosted page shares: Jinja2 templates (autoescaped), the CSRF token, the
session cookie, and the domain a request came in for.

CSRF: double submit. A GET of a form page sets a random `cognate_csrf` cookie (HttpOnly,
SameSite=Lax, scoped to the domain's path) and puts the same value in the form's hidden
`_csrf` field; a POST is refused unless both are present and equal. No server state.

Adding a page: a template in templates/ extending base.html (with
`<input type="hidden" name="_csrf" value="{{ csrf }}">` in its form), and a handler that
calls `form_page(request, "page.html", ...)` on GET and `check_csrf(request, form)` first
on POST; the query of /oauth2/authorize is carried in the form's action URL, and a
finished sign-in ends in `login.finish` (session cookie + redirect with the code).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cognate.storage.repos.domains import DomainRow

CSRF_COOKIE = "cognate_csrf"
CSRF_FIELD = "_csrf"
SESSION_COOKIE = "cognate_session"
SESSION_SECONDS = 3600
# The largest form body read: far above any page's form or OAuth request, and above a
# SAMLResponse of Cognito's 100,000-character limit once base64- and URL-encoded.
MAX_FORM_BYTES = 1024 * 1024
_TOO_LARGE = f"The form is larger than {MAX_FORM_BYTES} bytes."

_templates = Environment(
    loader=PackageLoader("cognate.web.oauth", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


@dataclass(frozen=True, slots=True)
class DomainRequest:
    """The pool domain a request is for, and where its endpoints are from outside."""

    domain: DomainRow
    base_url: str  # e.g. http://127.0.0.1:9229/_cognate/domains/my-prefix
    cookie_path: str  # the path the domain's cookies are scoped to


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return html_page(_templates.get_template(template).render(**values), status)


def html_page(html: str, status: int = 200) -> HTMLResponse:
    """A server-rendered page as every page of this server is sent: not cached, not framed
    (the admin console's pages too)."""
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def error_page(message: str, status: int = 400, look: Any = None) -> HTMLResponse:
    """An error page, dressed as the app client's pages when the client is known."""
    return render("error.html", status=status, message=message, look=look)


def not_supported_page(what: str, look: Any = None) -> HTMLResponse:
    """The honest answer to a sign-in that needs a step these pages cannot take."""
    return error_page(
        f"This account needs {what} to sign in, a step the hosted sign-in pages of this "
        "server do not support. Sign in through the API instead.",
        501,
        look,
    )


def form_page(
    request: Request, where: DomainRequest, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page with a form: a fresh CSRF token in its cookie and in `csrf`."""
    token = csrf_token(request)
    response = render(template, status=status, csrf=token, **values)
    set_csrf_cookie(response, token, where.cookie_path)
    return response


def csrf_token(request: Request) -> str:
    """The CSRF token of a form page: the request's cookie, or a new random one."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_csrf_cookie(
    response: Response, token: str, path: str, samesite: Literal["lax", "strict"] = "lax"
) -> None:
    response.set_cookie(CSRF_COOKIE, token, path=path, httponly=True, samesite=samesite)


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (all that OAuth endpoints and the pages'
    forms send); the first value of each field. A body over MAX_FORM_BYTES (declared or
    streamed) is refused with 413 before more of it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413, _TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, _TOO_LARGE)
    form: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    if any("\x00" in name or "\x00" in value for name, value in form.items()):
        # No field of any form holds one, and PostgreSQL's text cannot (web/input_guard.py).
        raise HTTPException(400, "The form contains a null character.")
    return form


def check_csrf(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    given = str(form.get(CSRF_FIELD) or "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), given.encode())


def set_session(response: Response, where: DomainRequest, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path=where.cookie_path,
        httponly=True,
        samesite="lax",
        secure=where.base_url.startswith("https:"),
    )


def clear_session(response: Response, where: DomainRequest) -> None:
    response.delete_cookie(SESSION_COOKIE, path=where.cookie_path, httponly=True, samesite="lax")
