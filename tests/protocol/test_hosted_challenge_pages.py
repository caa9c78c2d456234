"""The hosted sign-in steps after the password of /login, driven by httpx as a browser
would (each form's CSRF token, action URL and hidden step token): an authenticator-app
code (wrong code refused on the page, then accepted; a step token serves once), a new
password for an admin-created user (the password policy's refusal shown, the missing
required attribute asked for), MFA_SETUP with TOTP when the pool requires MFA (the secret
and otpauth:// URI on the page, pyotp codes), SELECT_MFA_TYPE then an SMS code, an email
code (codes read from the server's outbox). Every sign-in ends with the redirect carrying
an authorization code that /oauth2/token exchanges for the user's tokens. The hosted app
client has a secret and no password flow in ExplicitAuthFlows: the pages need neither.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.auth import PASSWORD, claims
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.hosted_pages import ACTION, error_of, field, hosted, submit
from tests.support.mfa import mfa_pool, set_up_totp
from tests.support.oauth import CALLBACK, hosted_login
from tests.support.server import CognateServer

PHONE = "+15555551234"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"hosted-steps-{request.param}")
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


def test_authenticator_code_after_the_password(
    server: CognateServer, cognito: Any, region: str, clock: ShiftedClock
) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL")
    pool.user("alice", email="alice@example.com")
    app = set_up_totp(cognito, pool.access_token(), clock)
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url())
    assert page.status_code == 200, page.text
    assert "authenticator app" in page.text
    code = app.code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = submit(http, page, code=wrong)
    assert refused.status_code == 400
    assert error_of(refused) == "Invalid code or auth state for the user."
    assert field(refused, "step") != field(page, "step")
    # the first page's step token was used up by the wrong answer
    stale = submit(http, page, code=code)
    assert stale.status_code == 400
    assert "Sign in again" in error_of(stale)
    tokens = site.exchange(submit(http, refused, code=code))
    access = claims(tokens["access_token"])
    assert access["username"] == "alice"
    assert access["client_id"] == site.client_id
    assert claims(tokens["id_token"])["email"] == "alice@example.com"
    # the signed-in session skips the login (and MFA) on the next authorize
    again = http.get(site.authorize_url())
    assert again.status_code == 302
    assert again.headers["location"].startswith(CALLBACK)


def test_step_answers_need_the_csrf_token(
    server: CognateServer, cognito: Any, region: str, clock: ShiftedClock
) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL")
    pool.user("alice")
    app = set_up_totp(cognito, pool.access_token(), clock)
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url())
    action = ACTION.search(page.text)
    assert action is not None
    forged = httpx.post(
        unescape(action.group(1)), data={"step": field(page, "step"), "code": app.code()}
    )
    assert forged.status_code == 403
    # the forged post did not use the step up
    site.exchange(submit(http, page, code=app.at(0)))


def test_new_password_with_a_missing_required_attribute(
    server: CognateServer, cognito: Any, region: str
) -> None:
    required = [{"Name": "name", "AttributeDataType": "String", "Required": True}]
    pool = mfa_pool(server, cognito, "OFF", totp=False, Schema=required)
    cognito.admin_create_user(
        UserPoolId=pool.pool_id,
        Username="bob",
        TemporaryPassword="Temp-0rary-Pass!",
        MessageAction="SUPPRESS",
    )
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url(), "bob", "Temp-0rary-Pass!")
    assert page.status_code == 200, page.text
    assert 'name="new_password"' in page.text
    assert 'name="attr_name"' in page.text
    weak = submit(http, page, new_password="short", attr_name="Bob")
    assert weak.status_code == 400
    assert error_of(weak).startswith("Password does not conform to policy")
    tokens = site.exchange(submit(http, weak, new_password=PASSWORD, attr_name="Bob Builder"))
    assert claims(tokens["access_token"])["username"] == "bob"
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "name", "Value": "Bob Builder"} in user["UserAttributes"]


def test_mfa_setup_with_an_authenticator_app(
    server: CognateServer, cognito: Any, region: str, clock: ShiftedClock
) -> None:
    pool = mfa_pool(server, cognito, "ON")
    pool.user("carol")
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url(), "carol")
    assert page.status_code == 200, page.text
    secret = re.search(r'id="secret">([A-Z2-7]+)<', page.text)
    assert secret is not None, page.text
    uri = re.search(r'id="otpauth" href="([^"]+)"', page.text)
    assert uri is not None
    parsed = pyotp.parse_uri(unescape(uri.group(1)))
    assert parsed.secret == secret.group(1)
    assert parsed.name == "carol"
    assert parsed.issuer == "Cognate"
    app = pyotp.TOTP(secret.group(1))
    now = clock.now().timestamp()
    refused = submit(http, page, code=f"{(int(app.at(int(now))) + 1) % 10**6:06d}")
    assert refused.status_code == 400
    assert error_of(refused).startswith("Code mismatch")
    tokens = site.exchange(submit(http, refused, code=app.at(int(now))))
    assert claims(tokens["access_token"])["username"] == "carol"
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="carol")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]


def test_select_mfa_type_then_an_sms_code(
    server: CognateServer, cognito: Any, region: str, clock: ShiftedClock
) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", sms=True)
    pool.user("alice", phone_number=PHONE)
    set_up_totp(cognito, pool.access_token(), clock, prefer=False)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id,
        Username="alice",
        SMSMfaSettings={"Enabled": True},
        SoftwareTokenMfaSettings={"Enabled": True},
    )
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url())
    assert page.status_code == 200, page.text
    offered = re.findall(r'name="answer" value="([A-Z_]+)"', page.text)
    assert sorted(offered) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    sms_page = submit(http, page, answer="SMS_MFA")
    assert sms_page.status_code == 200, sms_page.text
    assert "+*******1234" in sms_page.text
    tokens = site.exchange(submit(http, sms_page, code=pool.last_code()))
    assert claims(tokens["access_token"])["username"] == "alice"


def test_email_code(server: CognateServer, cognito: Any, region: str) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", totp=False, email=True)
    pool.user("dave", email="dave@example.com")
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id, Username="dave", EmailMfaSettings={"Enabled": True}
    )
    site = hosted(pool, region)
    http = httpx.Client()
    page = hosted_login(http, site.authorize_url(), "dave")
    assert page.status_code == 200, page.text
    assert "by email" in page.text
    tokens = site.exchange(submit(http, page, code=pool.last_code("dave")))
    assert claims(tokens["id_token"])["email"] == "dave@example.com"
    assert json.dumps(claims(tokens["access_token"])["username"]) == '"dave"'


def test_passkey_start_on_the_login_page(server: CognateServer, cognito: Any, region: str) -> None:
    factors = {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    pool = mfa_pool(server, cognito, "OFF", totp=False, Policies=factors)
    pool.user("alice")
    site = hosted(pool, region)
    http = httpx.Client()
    login = http.get(site.authorize_url(), follow_redirects=True)
    assert 'id="passkey"' in login.text
    start = re.search(r'data-start="([^"]+)"', login.text)
    assert start is not None
    url = unescape(start.group(1))
    csrf = field(login, "_csrf")
    assert http.post(url, data={"username": "alice"}).status_code == 403
    # alice has no passkey yet
    none = http.post(url, data={"_csrf": csrf, "username": "alice"})
    assert none.status_code == 400
    assert none.json() == {"error": "This account cannot sign in with a passkey."}
    # a pool without WEB_AUTHN has no button
    plain = hosted(mfa_pool(server, cognito, "OFF", totp=False), region)
    assert 'id="passkey"' not in httpx.get(plain.authorize_url(), follow_redirects=True).text
