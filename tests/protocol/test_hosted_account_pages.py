"""The hosted account pages of a pool domain (/signup, /confirm, /forgotPassword,
/confirmForgotPassword) and the look of the hosted pages, driven by httpx as a browser.

Each form is fetched (its action URL carries the authorize query, its hidden field the
CSRF token) and posted back; codes come from the server's outbox. Checked: /login links
the pages (sign-up only when AllowAdminCreateUserOnly is false); sign-up errors are the
API's messages on the page; a sign-up confirmed in the same browser ends at the callback
with a code that the token endpoint exchanges for the new user's tokens, in another
browser on /login; a password reset ends on /login and the new password signs in; posts
without the CSRF token are refused; pools with email as username and clients with a
secret (the pages compute the SECRET_HASH) work; UI customization (CSS, logo),
managed-login branding and the terms links appear on the pages.
"""

from __future__ import annotations

import re
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.auth import PASSWORD, claims, new_client, new_pool, new_user
from tests.support.oauth import CALLBACK, hosted_login, redirect_params
from tests.support.outbox import read_outbox
from tests.support.server import CognateServer

NEW_PASSWORD = "N3w-Passw0rd!x"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
_HREF = re.compile(r'id="{}" href="([^"]+)"')
_CODE = re.compile(r"\b(\d{6})\b")


@dataclass(frozen=True)
class Site:
    pool_id: str
    client_id: str
    domain_url: str

    def authorize_url(self, state: str = "st-1") -> str:
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": state,
        }
        return f"{self.domain_url}/oauth2/authorize?{urlencode(query)}"


def hosted_site(
    cognito: Any, endpoint: str, region: str, *, secret: bool = False, **pool: Any
) -> Site:
    """A pool (email required and auto-verified) with a domain and an OAuth client."""
    settings: dict[str, Any] = {
        "AutoVerifiedAttributes": ["email"],
        "Schema": [{"Name": "email", "AttributeDataType": "String", "Required": True}],
    }
    settings.update(pool)
    pool_id = new_pool(cognito, "hosted", **settings)
    prefix = "p" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    client = new_client(
        cognito,
        pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"],
        GenerateSecret=secret,
    )
    domain_url = f"{endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    return Site(pool_id, client["ClientId"], domain_url)


def unescape(url: str) -> str:
    return url.replace("&amp;", "&")


def form(http: httpx.Client, url: str) -> tuple[httpx.Response, str, str]:
    """A page with a form: the page, its action URL and its CSRF token."""
    page = http.get(url, follow_redirects=True)
    assert page.status_code == 200, page.text
    action, csrf = _ACTION.search(page.text), _CSRF.search(page.text)
    assert action is not None, page.text
    assert csrf is not None, page.text
    return page, unescape(action.group(1)), csrf.group(1)


def link(page: httpx.Response, element_id: str) -> str | None:
    found = re.search(_HREF.pattern.format(element_id), page.text)
    return unescape(found.group(1)) if found else None


def path_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return urlsplit(response.headers["location"]).path


def latest_code(server: CognateServer, pool_id: str, username: str) -> str:
    messages = [m for m in read_outbox(server, pool_id) if username in (m.username, m.destination)]
    assert messages, f"no message for {username}"
    found = _CODE.search(messages[-1].body)
    assert found is not None, messages[-1].body
    return found.group(1)


def sign_up_form(http: httpx.Client, site: Site) -> tuple[str, str]:
    """From /login, the sign-up link to the sign-up form: its action and CSRF token."""
    login = http.get(site.authorize_url(), follow_redirects=True)
    url = link(login, "sign-up")
    assert url is not None, login.text
    page, action, csrf = form(http, url)
    assert 'name="email"' in page.text  # the pool's required attribute
    return action, csrf


def test_sign_up_and_confirm_continue_to_the_callback(
    server: CognateServer, cognito: Any, region: str
) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    http = httpx.Client()
    action, csrf = sign_up_form(http, site)
    fields = {"_csrf": csrf, "username": "bob", "email": "bob@example.com"}
    weak = http.post(action, data={**fields, "password": "short"})
    assert weak.status_code == 400
    assert "Password did not conform with policy" in weak.text
    missing = http.post(action, data={**fields, "email": "", "password": PASSWORD})
    assert missing.status_code == 400
    assert "email: The attribute is required" in missing.text
    done = http.post(action, data={**fields, "password": PASSWORD})
    assert path_of(done).endswith("/confirm")
    confirm_url = done.headers["location"]
    assert parse_qs(urlsplit(confirm_url).query)["username"] == ["bob"]
    user = cognito.admin_get_user(UserPoolId=site.pool_id, Username="bob")
    assert user["UserStatus"] == "UNCONFIRMED"
    again = http.post(action, data={**fields, "password": PASSWORD})
    assert again.status_code == 400
    assert "User already exists" in again.text

    page, confirm_action, csrf = form(http, confirm_url)
    assert 'value="bob"' in page.text
    wrong = http.post(confirm_action, data={"_csrf": csrf, "username": "bob", "code": "000000"})
    assert wrong.status_code == 400
    assert "Invalid verification code provided, please try again." in wrong.text
    code = latest_code(server, site.pool_id, "bob")
    confirmed = http.post(confirm_action, data={"_csrf": csrf, "username": "bob", "code": code})
    params = redirect_params(confirmed)
    assert params["state"] == "st-1"
    token = httpx.post(
        f"{site.domain_url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": site.client_id,
            "code": params["code"],
            "redirect_uri": CALLBACK,
        },
    )
    assert token.status_code == 200, token.text
    id_claims = claims(token.json()["id_token"])
    assert id_claims["cognito:username"] == "bob"
    assert id_claims["email"] == "bob@example.com"
    assert id_claims["email_verified"] is True
    user = cognito.admin_get_user(UserPoolId=site.pool_id, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"
    # the browser is now signed in: authorize goes straight to the callback
    second = http.get(site.authorize_url("st-2"))
    assert redirect_params(second)["state"] == "st-2"


def test_confirm_in_another_browser_ends_on_login(
    server: CognateServer, cognito: Any, region: str
) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    first = httpx.Client()
    action, csrf = sign_up_form(first, site)
    done = first.post(
        action,
        data={"_csrf": csrf, "username": "carol", "email": "c@example.com", "password": PASSWORD},
    )
    other = httpx.Client()
    _, confirm_action, csrf = form(other, done.headers["location"])
    resent = other.post(
        confirm_action, data={"_csrf": csrf, "username": "carol", "action": "resend"}
    )
    assert resent.status_code == 200
    assert "We have sent a code to c***@e***" in resent.text
    code = latest_code(server, site.pool_id, "carol")
    confirmed = other.post(confirm_action, data={"_csrf": csrf, "username": "carol", "code": code})
    assert path_of(confirmed).endswith("/login")
    assert redirect_params(hosted_login(other, confirmed.headers["location"], "carol"))["code"]


def test_forgot_password_resets_it(server: CognateServer, cognito: Any, region: str) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    new_user(
        cognito,
        site.pool_id,
        "alice",
        attributes={"email": "alice@example.com", "email_verified": "true"},
    )
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    url = link(login, "forgot-password")
    assert url is not None
    assert urlsplit(url).path.endswith("/forgotPassword")
    _, action, csrf = form(http, url)
    sent = http.post(action, data={"_csrf": csrf, "username": "alice"})
    assert path_of(sent).endswith("/confirmForgotPassword")
    page, reset_action, csrf = form(http, sent.headers["location"])
    assert "a***@e***" in page.text
    code = latest_code(server, site.pool_id, "alice")
    fields = {"_csrf": csrf, "username": "alice", "code": code}
    mismatch = http.post(
        reset_action, data={**fields, "password": NEW_PASSWORD, "password_again": "other"}
    )
    assert mismatch.status_code == 400
    weak = http.post(reset_action, data={**fields, "password": "weak", "password_again": "weak"})
    assert weak.status_code == 400
    assert "Password does not conform to policy" in weak.text
    wrong = http.post(
        reset_action,
        data={**fields, "code": "000000", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert "Invalid verification code provided, please try again." in wrong.text
    reset = http.post(
        reset_action, data={**fields, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert path_of(reset).endswith("/login")
    signed_in = hosted_login(httpx.Client(), site.authorize_url(), "alice", NEW_PASSWORD)
    assert redirect_params(signed_in)["state"] == "st-1"


def test_admin_only_pool_has_no_sign_up(server: CognateServer, cognito: Any, region: str) -> None:
    site = hosted_site(
        cognito,
        server.endpoint,
        region,
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    assert link(login, "forgot-password") is not None
    assert link(login, "sign-up") is None
    query = urlsplit(str(login.url)).query
    refused = http.get(f"{site.domain_url}/signup?{query}")
    assert refused.status_code == 400
    assert "SignUp is not permitted for this user pool" in refused.text


def test_forms_need_the_csrf_token_and_a_valid_query(
    server: CognateServer, cognito: Any, region: str
) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    http = httpx.Client()
    action, _ = sign_up_form(http, site)
    forged = http.post(
        action, data={"username": "eve", "email": "e@example.com", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert not [u for u in cognito.list_users(UserPoolId=site.pool_id)["Users"]]
    bad = http.get(
        f"{site.domain_url}/signup?client_id={site.client_id}&redirect_uri=https://evil.example"
    )
    assert bad.status_code == 400
    assert "redirect_mismatch" in bad.text


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_pages_wear_the_customization_branding_and_terms(
    server: CognateServer, cognito: Any, region: str
) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    css = ".submitButton-customizable { background-color: #123456; }"
    logo = png()
    cognito.set_ui_customization(
        UserPoolId=site.pool_id, ClientId=site.client_id, CSS=css, ImageFile=logo
    )
    cognito.create_managed_login_branding(
        UserPoolId=site.pool_id,
        ClientId=site.client_id,
        Settings={"components": {"pageBackground": {"lightMode": {"color": "abcdefff"}}}},
    )
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    assert css in login.text
    assert "background: #abcdefff" in login.text
    logo_url = re.search(r'id="logo" src="([^"]+)"', login.text)
    assert logo_url is not None
    assert httpx.get(logo_url.group(1)).content == logo
    # a refused sign-in shows the login page again, dressed and linked the same way
    _, action, csrf = form(http, site.authorize_url())
    refused = http.post(action, data={"_csrf": csrf, "username": "nobody", "password": PASSWORD})
    assert refused.status_code == 400
    assert css in refused.text
    assert link(refused, "sign-up") == link(login, "sign-up")
    # the terms appear on the sign-up page once both documents exist
    terms = {"cognito:default": "https://app.example.com/terms"}
    cognito.create_terms(
        UserPoolId=site.pool_id, ClientId=site.client_id, TermsName="terms-of-use",
        TermsSource="LINK", Enforcement="NONE", Links=terms,
    )  # fmt: skip
    signup_url = link(login, "sign-up")
    assert signup_url is not None
    assert 'id="terms"' not in http.get(signup_url).text
    cognito.create_terms(
        UserPoolId=site.pool_id, ClientId=site.client_id, TermsName="privacy-policy",
        TermsSource="LINK", Enforcement="NONE",
        Links={"cognito:default": "https://app.example.com/privacy"},
    )  # fmt: skip
    page = http.get(signup_url).text
    assert 'id="terms"' in page
    assert 'href="https://app.example.com/terms"' in page
    assert 'href="https://app.example.com/privacy"' in page
    assert css in page


def test_email_as_username_pool(server: CognateServer, cognito: Any, region: str) -> None:
    site = hosted_site(cognito, server.endpoint, region, UsernameAttributes=["email"])
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    signup_url = link(login, "sign-up")
    assert signup_url is not None
    page, action, csrf = form(http, signup_url)
    assert "Email <input" in page.text
    assert 'name="email"' not in page.text  # the username is the email
    done = http.post(
        action, data={"_csrf": csrf, "username": "erin@example.com", "password": PASSWORD}
    )
    assert path_of(done).endswith("/confirm")
    users = cognito.list_users(UserPoolId=site.pool_id)["Users"]
    assert len(users) == 1
    _, confirm_action, csrf = form(http, done.headers["location"])
    assert users[0]["UserStatus"] == "UNCONFIRMED"
    code = latest_code(server, site.pool_id, "erin@example.com")
    confirmed = http.post(
        confirm_action, data={"_csrf": csrf, "username": "erin@example.com", "code": code}
    )
    assert redirect_params(confirmed)["state"] == "st-1"


def test_client_with_a_secret(server: CognateServer, cognito: Any, region: str) -> None:
    """The pages compute the SECRET_HASH SignUp, ConfirmSignUp and ForgotPassword need."""
    site = hosted_site(cognito, server.endpoint, region, secret=True)
    http = httpx.Client()
    action, csrf = sign_up_form(http, site)
    done = http.post(
        action,
        data={"_csrf": csrf, "username": "fay", "email": "f@example.com", "password": PASSWORD},
    )
    _, confirm_action, csrf = form(http, done.headers["location"])
    code = latest_code(server, site.pool_id, "fay")
    confirmed = http.post(confirm_action, data={"_csrf": csrf, "username": "fay", "code": code})
    assert redirect_params(confirmed)["code"]
    query = urlsplit(done.headers["location"]).query.replace("username=fay", "")
    _, forgot_action, csrf = form(http, f"{site.domain_url}/forgotPassword?{query}")
    sent = http.post(forgot_action, data={"_csrf": csrf, "username": "fay"})
    assert path_of(sent).endswith("/confirmForgotPassword")


def test_branding_assets_dress_the_pages(server: CognateServer, cognito: Any, region: str) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    logo = png()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    cognito.create_managed_login_branding(
        UserPoolId=site.pool_id,
        ClientId=site.client_id,
        Settings={"components": {"pageBackground": {"lightMode": {"color": "abcdefff"}}}},
        Assets=[
            {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": logo},
            {"Category": "FAVICON_SVG", "ColorMode": "DYNAMIC", "Extension": "SVG", "Bytes": svg},
        ],
    )
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    logo_url = re.search(r'id="logo" src="([^"]+)"', login.text)
    favicon_url = re.search(r'id="favicon" href="([^"]+)"', login.text)
    assert logo_url is not None, login.text
    assert favicon_url is not None, login.text
    assert httpx.get(logo_url.group(1)).content == logo
    assert httpx.get(favicon_url.group(1)).content == svg
    # an error page of the client (an expired form) is dressed the same way
    _, action, _ = form(http, site.authorize_url())
    expired = http.post(action, data={"_csrf": "forged", "username": "a", "password": "b"})
    assert expired.status_code == 403
    assert "background: #abcdefff" in expired.text
    assert f'src="{logo_url.group(1)}"' in expired.text


def test_terms_in_the_language_of_the_pages(
    server: CognateServer, cognito: Any, region: str
) -> None:
    site = hosted_site(cognito, server.endpoint, region)
    for name in ("terms-of-use", "privacy-policy"):
        cognito.create_terms(
            UserPoolId=site.pool_id, ClientId=site.client_id, TermsName=name,
            TermsSource="LINK", Enforcement="NONE",
            Links={
                "cognito:default": f"https://app.example.com/{name}",
                "cognito:german": f"https://app.example.com/de/{name}",
            },
        )  # fmt: skip
    http = httpx.Client()
    german = http.get(site.authorize_url() + "&lang=de", follow_redirects=True)
    signup_url = link(german, "sign-up")
    assert signup_url is not None
    assert "lang=de" in signup_url  # the language goes from page to page
    page = http.get(signup_url).text
    assert 'href="https://app.example.com/de/terms-of-use"' in page
    assert 'href="https://app.example.com/de/privacy-policy"' in page
    # a language without its own documents falls back to the default ones
    japanese = http.get(site.authorize_url() + "&lang=ja", follow_redirects=True)
    fallback = http.get(link(japanese, "sign-up") or "").text
    assert 'href="https://app.example.com/terms-of-use"' in fallback
