"""TOTP through the hosted sign-in pages in a real browser (Chromium driven by Playwright).

A pool requires MFA with an authenticator app; its user has none yet. In Chromium, the
user signs in on /login, gets the MFA_SETUP page, reads the secret and the otpauth:// URI
off it, enters a pyotp code (one wrong code first: the page says so and stays usable) and
lands on the app's callback with a code that /oauth2/token exchanges for her tokens. After
/logout, a second sign-in asks for an authenticator code (SOFTWARE_TOKEN_MFA) and ends on
the callback again. The server's clock is shifted (clocked_server) so that each TOTP code
is of a fresh time step.

A user with SMS and TOTP both enabled gets the page choosing the verification method,
picks SMS and enters the code from the outbox; an admin-created user gets the new
password page, which shows the policy's refusal of a weak password and asks for the
missing required attribute.

A passkey through the same pages: in a pool allowing WEB_AUTHN, a passkey is registered
(StartWebAuthnRegistration / CompleteWebAuthnRegistration, the browser's ceremony on
Chromium's CDP virtual authenticator); then /login shows "Sign in with passkey", whose
script gets the WebAuthn request options, runs navigator.credentials.get and posts the
assertion: the browser lands on the callback with a code for the user's tokens.

Each page the browser shows is screenshotted and checked (tests/support/screenshots.py).

Needs Chromium at /usr/bin/chromium and the Python `playwright` package; skipped without.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
import pytest

from tests.support.auth import PASSWORD, claims
from tests.support.browser import launch_chromium
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import STEP, mfa_pool, set_up_totp
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

HEALTH = '"status":"ok"'  # the text of the callback and logout pages (/_cognate/health)
PHONE = "+15555551234"
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
    with launch_chromium() as browser:
        yield browser.new_context().new_page()


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
    request: pytest.FixtureRequest,
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
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

    def password_step(login: str, shot: str, heading: str) -> None:
        page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
        assert urlsplit(page.url).path.endswith("/login")
        shots.take(page, login, heading="Sign in")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_selector("#code")
        shots.take(page, shot, heading=heading)

    def signed_in(shot: str) -> dict[str, Any]:
        page.wait_for_url(f"{callback}*")
        shots.take(page, shot, text=HEALTH)
        return exchange(domain, client_id, callback, page.url)

    # 1. MFA_SETUP: the secret and the otpauth:// URI on the page
    password_step("login", "mfa-setup", "Set up an authenticator app")
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
    shots.take(page, "setup-wrong-code", heading="Set up an authenticator app")
    page.fill("#code", good)
    page.click("#submit")
    assert signed_in("callback")["username"] == "alice"
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="alice")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]

    # 2. after /logout: the password, then SOFTWARE_TOKEN_MFA
    page.goto(f"{domain}/logout?{urlencode({'client_id': client_id, 'logout_uri': logout})}")
    page.wait_for_url(f"{callback}*")
    assert page.url == logout
    shots.take(page, "signed-out", text=HEALTH)
    password_step("login-after-logout", "totp-code", "Verification code")
    assert "authenticator app" in (page.text_content("#hint") or "")
    clock.shift(seconds=STEP)  # a fresh time step: the set-up's code is spent
    page.fill("#code", app.at(int(clock.now().timestamp())))
    page.click("#submit")
    access = signed_in("callback-again")
    assert access["username"] == "alice"
    assert access["client_id"] == client_id

    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-login.png",
        "02-mfa-setup.png",
        "03-setup-wrong-code.png",
        "04-callback.png",
        "05-signed-out.png",
        "06-login-after-logout.png",
        "07-totp-code.png",
        "08-callback-again.png",
    ]


def test_select_the_mfa_type_then_an_sms_code(
    browser_page: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    clock: ShiftedClock,
    request: pytest.FixtureRequest,
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"
    pool = mfa_pool(server, cognito, "OPTIONAL", sms=True)
    pool.user("alice", phone_number=PHONE)
    set_up_totp(cognito, pool.access_token(), clock, prefer=False)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id,
        Username="alice",
        SMSMfaSettings={"Enabled": True},
        SoftwareTokenMfaSettings={"Enabled": True},
    )
    prefix = "s" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix)
    client_id = web_client(cognito, pool.pool_id, callback, callback)
    domain = f"{server.endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": "s1",
    }

    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    shots.take(page, "login", heading="Sign in")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("input[name=answer]")
    offered = page.eval_on_selector_all("input[name=answer]", "all => all.map(e => e.value)")
    assert sorted(offered) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    shots.take(page, "select-mfa-type", heading="Choose a verification method")
    page.check("#answer_SMS_MFA")
    page.click("#submit")
    page.wait_for_selector("#code")
    assert "+*******1234" in (page.text_content("#hint") or "")
    shots.take(page, "sms-code", heading="Verification code")
    page.fill("#code", pool.last_code())
    page.click("#submit")
    page.wait_for_url(f"{callback}*")
    shots.take(page, "callback", text=HEALTH)
    assert exchange(domain, client_id, callback, page.url)["username"] == "alice"
    assert len(shots.taken) == 4


def test_new_password_for_an_admin_created_user(
    browser_page: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    request: pytest.FixtureRequest,
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"
    required = [{"Name": "name", "AttributeDataType": "String", "Required": True}]
    pool = mfa_pool(server, cognito, "OFF", totp=False, Schema=required)
    temporary = "Temp-0rary-Pass!"
    cognito.admin_create_user(
        UserPoolId=pool.pool_id,
        Username="bob",
        TemporaryPassword=temporary,
        MessageAction="SUPPRESS",
    )
    prefix = "n" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix)
    client_id = web_client(cognito, pool.pool_id, callback, callback)
    domain = f"{server.endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": "s1",
    }

    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    shots.take(page, "login", heading="Sign in")
    page.fill("#username", "bob")
    page.fill("#password", temporary)
    page.click("#signin")
    page.wait_for_selector("#new_password")
    assert page.is_visible("#attr_name")
    shots.take(page, "new-password", heading="Change password")
    page.fill("#new_password", "short")
    page.fill("#attr_name", "Bob")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert (page.text_content("#error") or "").startswith("Password does not conform to policy")
    shots.take(page, "new-password-refused", heading="Change password")
    page.fill("#new_password", PASSWORD)
    page.fill("#attr_name", "Bob Builder")
    page.click("#submit")
    page.wait_for_url(f"{callback}*")
    shots.take(page, "callback", text=HEALTH)
    assert exchange(domain, client_id, callback, page.url)["username"] == "bob"
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "name", "Value": "Bob Builder"} in user["UserAttributes"]
    assert len(shots.taken) == 4


def test_sign_in_with_a_passkey_button(
    browser_page: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    request: pytest.FixtureRequest,
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
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
    shots.take(page, "registration-origin", text=HEALTH)
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
    assert page.is_visible("#passkey")
    shots.take(page, "login", heading="Sign in", text="Sign in with passkey")
    # no username: the script says so without asking the server
    page.click("#passkey")
    assert page.text_content("#passkey-error") == "Enter your username first."
    shots.take(page, "passkey-needs-username", heading="Sign in")
    page.fill("#username", "alice")
    page.click("#passkey")
    page.wait_for_url(f"{callback}*")
    shots.take(page, "callback", text=HEALTH)
    access = exchange(domain, client_id, callback, page.url)
    assert access["username"] == "alice"
    assert access["client_id"] == client_id
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})[
        "credentials"
    ]
    assert stored["signCount"] > 0
    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-registration-origin.png",
        "02-login.png",
        "03-passkey-needs-username.png",
        "04-callback.png",
    ]
