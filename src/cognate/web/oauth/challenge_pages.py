"""The hosted pages of the sign-in steps after the password of /login: a new password
(with missing required attributes), an MFA code (authenticator app, SMS, email), the
choice of an MFA type, setting up MFA during sign-in (the choice of a factor when the
pool offers several; an authenticator app, its secret and otpauth:// URI shown, no QR
code; or email: the address, then the code sent to it), and a passkey: when the pool
allows WEB_AUTHN, /login has a "Sign in with passkey" button whose script posts the
username to /login/passkey, passes the CREDENTIAL_REQUEST_OPTIONS it gets to
navigator.credentials.get, and posts the assertion's JSON (toJSON()) to /login/challenge
as the WEB_AUTHN answer.

Every step page posts to /login/challenge, carrying the /oauth2/authorize query in its
action URL (re-checked on each POST, as /login does) and the step's opaque token in a
hidden `step` field; the sign-in itself is driven by domain/oauth/challenges.py. A
finished sign-in ends like /login's: the session cookie and the redirect with the code.
Every page is dressed as the app client's pages (UI customization, branding).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cognate.api.errors import ServiceError
from cognate.domain.client_auth import ClientScope
from cognate.domain.oauth import authorize
from cognate.domain.oauth.account import Look
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.oauth.challenges import (
    CODE_FIELDS,
    EMAIL_OTP,
    MFA_SETUP,
    NEW_PASSWORD_REQUIRED,
    SOFTWARE_TOKEN_MFA,
    Done,
    HostedChallenges,
    Step,
    StepNotSupported,
    StepRefused,
    passkeys_allowed,
)
from cognate.domain.oauth.errors import OAuthError, PageError
from cognate.domain.oauth.hosted import HostedSession, HostedSignIn
from cognate.domain.passkeys import WEB_AUTHN
from cognate.storage.db import Database
from cognate.web.oauth import pages
from cognate.web.oauth.pages import DomainRequest

Grant = Callable[[AuthorizeRequest, HostedSession, str | None], Response]
LookOf = Callable[[ClientScope, str | None], Look]
FACTOR_LABELS = {
    "SOFTWARE_TOKEN_MFA": "Authenticator app",
    "SMS_MFA": "Text message (SMS)",
    "EMAIL_OTP": "Email",
}
_CODE_HINTS = {
    "SOFTWARE_TOKEN_MFA": "Enter the code from your authenticator app.",
    "SMS_MFA": "We sent a code by text message to {dest}.",
    "EMAIL_OTP": "We sent a code by email to {dest}.",
}
EXPIRED = "Your sign-in session has expired. Sign in again."


class ChallengePages:
    def __init__(
        self,
        db: Database,
        challenges: HostedChallenges,
        hosted: HostedSignIn,
        grant: Grant,
        look: LookOf,
    ) -> None:
        self._db = db
        self._challenges = challenges
        self._hosted = hosted
        self._grant = grant
        self._look = look

    async def show(
        self,
        request: Request,
        where: DomainRequest,
        checked: AuthorizeRequest,
        query: dict[str, str],
        outcome: Step | Done,
    ) -> Response:
        """The page of the next step, or the end of the sign-in."""
        if isinstance(outcome, Done):
            return await self._finish(request, where, checked, outcome.cookie)
        look = await run_in_threadpool(self._look, checked.scope, checked.lang)
        return step_page(request, where, query, outcome, look)

    async def challenge(self, request: Request, where: DomainRequest) -> Response:
        """POST /login/challenge: a step page's answer."""
        query = dict(request.query_params)
        try:
            checked = await run_in_threadpool(authorize.check, self._db, where.domain, query)
        except PageError as exc:
            return pages.error_page(exc.message, exc.status)
        except OAuthError as exc:
            return pages.error_page(exc.description or exc.error)
        look = await run_in_threadpool(self._look, checked.scope, checked.lang)
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return pages.error_page("The form has expired: go back and try again.", 403, look)
        ip = request.client.host if request.client else None
        try:
            outcome = await run_in_threadpool(
                self._challenges.answer, checked.scope, form.get("step"), form, ip
            )
        except StepNotSupported as exc:
            return pages.not_supported_page(str(exc), look)
        except StepRefused as exc:
            if exc.step is None or exc.step.name == WEB_AUTHN:
                message = EXPIRED if exc.expired else exc.message
                action = f"{where.base_url}/login?{urlencode(query)}"
                return pages.form_page(
                    request, where, "login.html", 400, action=action, username="",
                    error=message, look=look, **login_extras(where, query, checked),
                )  # fmt: skip
            return step_page(request, where, query, exc.step, look, exc.message, 400)
        return await self.show(request, where, checked, query, outcome)

    async def passkey(self, request: Request, where: DomainRequest) -> Response:
        """POST /login/passkey (from the login page's script): start a passkey sign-in for
        the username typed; JSON with the step token and the WebAuthn request options."""
        query = dict(request.query_params)
        try:
            checked = await run_in_threadpool(authorize.check, self._db, where.domain, query)
        except (PageError, OAuthError) as exc:
            return JSONResponse({"error": str(exc) or "invalid request"}, 400)
        form = await pages.read_form(request)
        if not pages.check_csrf(request, form):
            return JSONResponse({"error": "The form has expired: reload the page."}, 403)
        username = (form.get("username") or "").strip()
        if not username:
            return JSONResponse({"error": "Enter your username first."}, 400)
        if not passkeys_allowed(checked.scope):
            return JSONResponse({"error": "Passkeys are not enabled."}, 400)
        ip = request.client.host if request.client else None
        try:
            step = await run_in_threadpool(
                self._challenges.start_passkey, checked.scope, username, ip
            )
        except StepRefused as exc:
            return JSONResponse({"error": exc.message}, 400)
        except ServiceError as exc:
            return JSONResponse({"error": exc.message}, 400)
        options = json.loads(step.parameters["CREDENTIAL_REQUEST_OPTIONS"])
        return JSONResponse(
            {"step": step.token, "options": options}, headers={"Cache-Control": "no-store"}
        )

    async def _finish(
        self, request: Request, where: DomainRequest, checked: AuthorizeRequest, cookie: str
    ) -> Response:
        session = await run_in_threadpool(self._hosted.session, cookie, where.domain.pool_pk)
        assert session is not None
        ip = request.client.host if request.client else None
        response = await run_in_threadpool(self._grant, checked, session, ip)
        pages.set_session(response, where, cookie)
        return response


def login_extras(
    where: DomainRequest, query: dict[str, str], checked: AuthorizeRequest
) -> dict[str, Any]:
    """What login.html needs for its "Sign in with passkey" button (none unless the pool
    allows WEB_AUTHN as a first factor)."""
    if not passkeys_allowed(checked.scope):
        return {}
    encoded = urlencode(query)
    return {
        "passkey_start": f"{where.base_url}/login/passkey?{encoded}",
        "step_action": f"{where.base_url}/login/challenge?{encoded}",
    }


def step_page(
    request: Request,
    where: DomainRequest,
    query: dict[str, str],
    step: Step,
    look: Look | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    values = {
        "action": f"{where.base_url}/login/challenge?{urlencode(query)}",
        "step": step.token,
        "challenge": step.name,
        "error": error,
        "look": look,
    }
    if step.name == NEW_PASSWORD_REQUIRED:
        return pages.form_page(
            request, where, "new_password.html", status,
            attributes=step.required_attributes(), **values,
        )  # fmt: skip
    if step.name in CODE_FIELDS:
        destination = step.parameters.get("CODE_DELIVERY_DESTINATION") or ""
        hint = _CODE_HINTS[step.name].format(dest=destination)
        return pages.form_page(request, where, "mfa_code.html", status, hint=hint, **values)
    if step.name == MFA_SETUP and step.setup == SOFTWARE_TOKEN_MFA:
        return pages.form_page(
            request, where, "mfa_setup.html", status, secret=step.secret_code,
            uri=step.otpauth_uri(), **values,
        )  # fmt: skip
    if step.name == MFA_SETUP and step.setup == EMAIL_OTP:
        return pages.form_page(request, where, "mfa_setup_email.html", status, **values)
    choices = [(c, FACTOR_LABELS.get(c, c)) for c in step.choices()]
    return pages.form_page(
        request, where, "select_mfa.html", status, choices=choices,
        setting_up=step.name == MFA_SETUP, **values,
    )  # fmt: skip
