"""TOTP through the hosted sign-in pages in a real browser (Chromium driven by Playwright).

A pool requires MFA with an authenticator app; its user has none yet. In Chromium, the
user signs in on /login, gets the MFA_SETUP page, reads the secret and the otpauth:// URI
off it, enters a pyotp code (one wrong code first: the page says so and stays usable) and
lands on the app's callback with a code that /oauth2/token exchanges for her tokens. After
/logout, a second sign-in asks for an authenticator code (SOFTWARE_TOKEN_MFA) and ends on
the callback again. The server's clock is shifted (clocked_server) so that each TOTP code
is of a fresh time step. Screenshots of each page are kept in the test's tmp_path.

A passkey through the same pages: in a pool allowing WEB_AUTHN, a passkey is registered
(StartWebAuthnRegistration / CompleteWebAuthnRegistration, the browser's ceremony on
Chromium's CDP virtual authenticator); then /login shows "Sign in with passkey", whose
script gets the WebAuthn request options, runs navigator.credentials.get and posts the
assertion: the browser lands on the callback with a code for the user's tokens.

Needs Chromium at /usr/bin/chromium and the Python `playwright` package; skipped without.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
import pytest

from tests.support.auth import PASSWORD, claims
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import STEP, mfa_pool
from tests.support.server import CognateServer

CHROMIUM = "/usr/bin/chromium"
VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
CREATE = """async (options) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
    const credential = await navigator.credentials.create({ publicKey });
    return credential.toJSON();
}"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"browser-mfa-{request.param}")
    with clocked_server(request.param, workdir) as pair:
        yield pair


@pytest.fixture
def server(clocked: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    return clocked[0]


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield browser.new_context().new_page()
        finally:
            browser.close()


def web_client(cognito: Any, pool_id: str, callback: str, logout: str) -> str:
    made: str = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[callback],
        LogoutURLs=[logout],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]["ClientId"]
    return made


def exchange(domain: str, client_id: str, callback: str, landed: str) -> dict[str, Any]:
    """The code of the callback URL the browser landed on, exchanged for the tokens; the
    access token's claims."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}
    assert params["state"] == "s1"
    token = httpx.post(
        f"{domain}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": params["code"],
            "redirect_uri": callback,
        },
    )
    assert token.status_code == 200, token.text
    return claims(token.json()["access_token"])


def test_totp_set_up_and_sign_in_through_the_pages(
    browser_page: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    clock: ShiftedClock,
    tmp_path: Path,
) -> None:
    page = browser_page
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"
    logout = f"http://localhost:{port}/_cognate/health?signed_out=1"
    pool = mfa_pool(server, cognito, "ON")
    pool.user("alice", email="alice@example.com")
    prefix = "b" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix)
    client_id = web_client(cognito, pool.pool_id, callback, logout)
    domain = f"{server.endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": "s1",
    }

    def password_step(shot: str) -> None:
        page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
        assert urlsplit(page.url).path.endswith("/login")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_selector("#code")
        page.screenshot(path=str(tmp_path / shot))

    def signed_in(shot: str) -> dict[str, Any]:
        page.wait_for_url(f"{callback}*")
        page.screenshot(path=str(tmp_path / shot))
        return exchange(domain, client_id, callback, page.url)

    # 1. MFA_SETUP: the secret and the otpauth:// URI on the page
    password_step("1-mfa-setup.png")
    secret = page.text_content("#secret")
    assert secret
    uri = page.get_attribute("#otpauth", "href")
    assert uri is not None
    assert uri.startswith("otpauth://totp/")
    assert pyotp.parse_uri(uri).secret == secret
    app = pyotp.TOTP(secret)
    good = app.at(int(clock.now().timestamp()))
    page.fill("#code", f"{(int(good) + 1) % 10**6:06d}")
    page.click("#submit")
    assert (page.text_content("#error") or "").startswith("Code mismatch")
    page.screenshot(path=str(tmp_path / "2-setup-wrong-code.png"))
    page.fill("#code", good)
    page.click("#submit")
    assert signed_in("3-callback.png")["username"] == "alice"
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="alice")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]

    # 2. after /logout: the password, then SOFTWARE_TOKEN_MFA
    page.goto(f"{domain}/logout?{urlencode({'client_id': client_id, 'logout_uri': logout})}")
    page.wait_for_url(f"{callback}*")
    password_step("4-totp-code.png")
    assert "authenticator app" in (page.text_content("#hint") or "")
    clock.shift(seconds=STEP)  # a fresh time step: the set-up's code is spent
    page.fill("#code", app.at(int(clock.now().timestamp())))
    page.click("#submit")
    access = signed_in("5-callback-again.png")
    assert access["username"] == "alice"
    assert access["client_id"] == client_id

    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(shots) == 5
    assert all((tmp_path / name).stat().st_size > 1000 for name in shots)


def test_sign_in_with_a_passkey_button(
    browser_page: Any, server: CognateServer, cognito: Any, region: str, tmp_path: Path
) -> None:
    page = browser_page
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"
    logout = f"http://localhost:{port}/_cognate/health?signed_out=1"
    factors = {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    pool = mfa_pool(server, cognito, "OFF", totp=False, Policies=factors)
    pool.user("alice", email="alice@example.com")
    prefix = "k" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix)
    client_id = web_client(cognito, pool.pool_id, callback, logout)
    # origin http://localhost:<port>: the relying party id is `localhost`
    domain = f"http://localhost:{port}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"

    page.goto(f"http://localhost:{port}/_cognate/health")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    access_token = pool.access_token()
    options = cognito.start_web_authn_registration(AccessToken=access_token)[
        "CredentialCreationOptions"
    ]
    created = page.evaluate(CREATE, options)
    cognito.complete_web_authn_registration(AccessToken=access_token, Credential=created)

    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": "s1",
    }
    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    assert urlsplit(page.url).path.endswith("/login")
    # no username: the script says so without asking the server
    page.click("#passkey")
    assert page.text_content("#passkey-error") == "Enter your username first."
    page.fill("#username", "alice")
    page.screenshot(path=str(tmp_path / "1-login-with-passkey.png"))
    page.click("#passkey")
    page.wait_for_url(f"{callback}*")
    page.screenshot(path=str(tmp_path / "2-callback.png"))
    access = exchange(domain, client_id, callback, page.url)
    assert access["username"] == "alice"
    assert access["client_id"] == client_id
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})[
        "credentials"
    ]
    assert stored["signCount"] > 0
    assert len(list(tmp_path.glob("*.png"))) == 2
