"""Hosted account pages: sign-up, confirmation and password recovery on a pool domain,
and the look (UI customization, managed-login branding, terms) of the hosted pages.

Every rule is the API's: the pages call SignUpService and AccountCodes with the requests
SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword and ConfirmForgotPassword
would carry (a SECRET_HASH is computed here for a client with a secret, as Cognito's
hosted UI does for its own client), so errors read as Cognito's.

After a sign-up the browser holds a `HOSTED_SIGN_UP` session (auth_sessions, sealed state:
the username and password, 60 minutes, single use); once /confirm succeeds it is taken
and its password starts the sign-in of challenges.py, so a confirmed sign-up continues
exactly as a sign-in from /login would (MFA and its set-up, new password, triggers,
refusals included). Without that session (another browser) the confirmation ends on
/login.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import branding, terms, ui_customization
from cognate.domain.account_codes import AccountCodes
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.client_auth import ClientScope, secret_hash
from cognate.domain.federation.cimd_clients import app_client_id
from cognate.domain.oauth import codes
from cognate.domain.oauth.sign_in_options import TERMS_LANGUAGE
from cognate.domain.secretbox import SecretBox
from cognate.domain.sign_up import SignUpService
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo

HOSTED_SIGN_UP = "HOSTED_SIGN_UP"
SIGN_UP_MINUTES = 60
# Attributes that are never typed on a sign-up form.
_NOT_ON_FORM = frozenset({"sub", "email_verified", "phone_number_verified", "updated_at"})


@dataclass(frozen=True, slots=True)
class Look:
    """What base.html needs to dress a hosted page for an app client."""

    css: str | None
    logo_url: str | None  # the branding's form (or header) logo, else the customization's
    branding: dict[str, Any] | None
    terms: list[dict[str, str]]  # [{"name", "url"}], only when both documents exist
    favicon_url: str | None = None


def sign_up_allowed(scope: ClientScope) -> bool:
    config = scope.pool.settings.get("AdminCreateUserConfig") or {}
    return not config.get("AllowAdminCreateUserOnly")


def username_label(scope: ClientScope) -> str:
    """What the username field asks for, by the pool's UsernameAttributes."""
    kinds = scope.pool.settings.get("UsernameAttributes") or []
    if kinds == ["email"]:
        return "Email"
    if kinds == ["phone_number"]:
        return "Phone number"
    if kinds:
        return "Email or phone number"
    return "Username"


def form_attributes(scope: ClientScope) -> list[str]:
    """The pool's required attributes the sign-up form asks for, but not the email or
    phone number a username gives when they are UsernameAttributes (SignUp takes them
    from the username)."""
    kinds = set(scope.pool.settings.get("UsernameAttributes") or [])
    return [
        name
        for name in scope.pool.schema.required()
        if name not in _NOT_ON_FORM and name not in kinds
    ]


class HostedAccount:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        challenges: ChallengeSessions,
        sign_up: SignUpService,
        account_codes: AccountCodes,
        base_url: str,
    ) -> None:
        self._db = db
        self._box = box
        self._challenges = challenges
        self._sign_up = sign_up
        self._codes = account_codes
        self._base_url = base_url.rstrip("/")

    # ------------------------------------------------------------------ requests

    def _request(self, scope: ClientScope, username: str, **fields: Any) -> dict[str, Any]:
        client_id = app_client_id(scope)  # the app client behind a metadata document URL too
        request: dict[str, Any] = {"ClientId": client_id, "Username": username}
        request.update(fields)
        secret = self._secret(scope)
        if secret is not None:
            request["SecretHash"] = secret_hash(secret, username, client_id)
        return request

    def _secret(self, scope: ClientScope) -> str | None:
        rows = self._db.read("hosted_secret", lambda c: clients_repo.secrets(c, scope.client.pk))
        if not rows:
            return None
        row = rows[0]
        return self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")

    # ------------------------------------------------------------------ sign-up

    def sign_up(
        self, scope: ClientScope, username: str, password: str, attributes: dict[str, str]
    ) -> tuple[dict[str, Any], str]:
        """SignUp; its answer and the cookie value of the sign-up session."""
        pairs = [{"Name": k, "Value": v} for k, v in attributes.items() if v]
        answer = self._sign_up.sign_up(
            self._request(scope, username, Password=password, UserAttributes=pairs)
        )
        state = {"username": username, "password": password}
        token = self._db.write(
            "open_hosted_sign_up",
            lambda c: self._challenges.open(
                c,
                pool_pk=scope.pool.pool.pk,
                client_pk=scope.client.pk,
                user_pk=None,
                challenge=HOSTED_SIGN_UP,
                state=state,
                minutes=SIGN_UP_MINUTES,
            ),
        )
        return answer, codes.to_url(token)

    def confirm(self, scope: ClientScope, username: str, code: str) -> None:
        self._codes.confirm_sign_up(self._request(scope, username, ConfirmationCode=code))

    def resend(self, scope: ClientScope, username: str) -> dict[str, Any]:
        return self._codes.resend_confirmation_code(self._request(scope, username))

    def sign_up_password(self, scope: ClientScope, cookie: str | None, username: str) -> str | None:
        """After /confirm: the password this browser signed this user up with (None: it
        did not; sign in on /login). The sign-up session is used up either way."""
        token = codes.from_url(cookie)
        if token is None:
            return None
        try:
            found = self._challenges.take(token, scope.client.pk)
        except NotAuthorizedException:
            return None
        if found.name != HOSTED_SIGN_UP or found.state.get("username") != username:
            return None
        return str(found.state["password"])

    # ------------------------------------------------------------------ recovery

    def forgot_password(self, scope: ClientScope, username: str) -> dict[str, Any]:
        return self._codes.forgot_password(self._request(scope, username))

    def confirm_forgot_password(
        self, scope: ClientScope, username: str, code: str, password: str
    ) -> None:
        self._codes.confirm_forgot_password(
            self._request(scope, username, ConfirmationCode=code, Password=password)
        )

    # ------------------------------------------------------------------ look

    def look(self, scope: ClientScope, lang: str | None = None) -> Look:
        """How the client's pages look; terms documents in `lang` where they exist."""
        pool = scope.pool.pool
        client_id = app_client_id(scope)

        def read(conn: Connection) -> Look:
            custom = ui_customization.ui_customization_for(conn, pool.pk, client_id)
            logo = ui_customization.logo_path_for(conn, pool.pk, pool.id, client_id)
            style = branding.branding_for(conn, pool.pk, client_id)
            documents = terms.terms_for(conn, pool.pk, client_id)
            assets = _branding_assets(style, pool.id)
            logo_path = assets.get("FORM_LOGO") or assets.get("PAGE_HEADER_LOGO") or logo
            favicon = assets.get("FAVICON_SVG") or assets.get("FAVICON_ICO")
            return Look(
                css=_inline_css(custom[0] if custom is not None else None),
                logo_url=f"{self._base_url}{logo_path}" if logo_path else None,
                branding=_branding_view(style),
                terms=_terms_links(documents, lang),
                favicon_url=f"{self._base_url}{favicon}" if favicon else None,
            )

        return self._db.read("hosted_look", read)


def _inline_css(css: str | None) -> str | None:
    """The customization's CSS (checked by SetUICustomization) for a <style> element: it
    can never close the element."""
    return css.replace("</", "<\\/") if css else None


def _terms_links(documents: list[dict[str, Any]], lang: str | None) -> list[dict[str, str]]:
    """Managed login links the terms on its sign-up page once both documents exist, in
    the order terms of use, privacy policy, each in the page's language where the
    document has it, else in its default."""
    wanted = f"cognito:{TERMS_LANGUAGE[lang]}" if lang in TERMS_LANGUAGE else None
    by_name = {d["TermsName"]: d for d in documents}
    if not {"terms-of-use", "privacy-policy"} <= by_name.keys():
        return []
    links = []
    for name, label in (("terms-of-use", "Terms of use"), ("privacy-policy", "Privacy policy")):
        urls = by_name[name].get("Links") or {}
        url = (
            (urls.get(wanted) if wanted else None)
            or urls.get("cognito:default")
            or next(iter(urls.values()), None)
        )
        if url:
            links.append({"name": label, "url": str(url)})
    return links


def _branding_assets(style: dict[str, Any] | None, pool_id: str) -> dict[str, str]:
    """The paths of a branding style's assets by category, for the light color mode
    (LIGHT, else DYNAMIC: the pages have no dark mode)."""
    if style is None:
        return {}
    found: dict[str, str] = {}
    for mode in ("DYNAMIC", "LIGHT"):  # LIGHT last: it wins
        for asset in style.get("Assets") or []:
            if asset["ColorMode"] == mode:
                branding_id = str(style["ManagedLoginBrandingId"])
                found[asset["Category"]] = branding.asset_path(pool_id, branding_id, asset)
    return found


def _branding_view(style: dict[str, Any] | None) -> dict[str, Any] | None:
    """The few branding settings the pages apply: colors of the page and its button."""
    if style is None:
        return None
    settings = style.get("Settings") or {}
    found: dict[str, Any] = {"id": style.get("ManagedLoginBrandingId")}
    components = settings.get("components") or {}
    page = (components.get("pageBackground") or {}).get("lightMode") or {}
    if page.get("color"):
        found["page_background"] = _color(page["color"])
    primary = (components.get("primaryButton") or {}).get("lightMode") or {}
    default = primary.get("defaults") or {}
    if default.get("backgroundColor"):
        found["button_background"] = _color(default["backgroundColor"])
    if default.get("textColor"):
        found["button_text"] = _color(default["textColor"])
    return found


def _color(value: Any) -> str:
    """Branding colors are RRGGBBAA hex; CSS takes #RRGGBBAA. Anything else is dropped."""
    text = str(value).strip().lstrip("#")
    if len(text) in (6, 8) and all(ch in "0123456789abcdefABCDEF" for ch in text):
        return "#" + text
    return "inherit"
