"""Setting up MFA on the hosted pages when the pool requires it, driven by httpx as a
browser would: the choice of a factor when the pool offers an authenticator app and email
(the pages wearing the client's branding),
email set-up (the address, then the code sent to it; the address becomes the user's
verified email and email MFA is turned on), an invalid choice refused on the page, a pool
that offers only SMS telling a user without a phone number what is missing, and a sign-up
confirmed in the same browser going on to the set-up instead of stopping. Codes are read
from the server's outbox; every sign-in ends with a code /oauth2/token exchanges.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.auth import PASSWORD, claims
from tests.support.hosted_pages import error_of, field, hosted, submit
from tests.support.mfa import mfa_pool
from tests.support.oauth import CALLBACK, hosted_login
from tests.support.outbox import read_outbox
from tests.support.server import CognateServer

_CODE = re.compile(r"\b(\d{6})\b")


def offered(page: httpx.Response) -> list[str]:
    return sorted(re.findall(r'name="answer" value="([A-Z_]+)"', page.text))


def code_sent_to(server: CognateServer, pool_id: str, address: str) -> str:
    messages = [m for m in read_outbox(server, pool_id) if m.destination == address]
    assert messages, f"nothing was sent to {address}"
    found = _CODE.search(messages[-1].body)
    assert found is not None, messages[-1].body
    return found.group(1)


def test_email_set_up_chosen_among_factors(
    server: CognateServer, cognito: Any, region: str
) -> None:
    pool = mfa_pool(server, cognito, "ON", email=True)
    pool.user("erin")
    site = hosted(pool, region)
    http = httpx.Client()
    choice = hosted_login(http, site.authorize_url(), "erin")
    assert choice.status_code == 200, choice.text
    assert "Set up multi-factor authentication" in choice.text
    assert offered(choice) == ["EMAIL_OTP", "SOFTWARE_TOKEN_MFA"]
    wrong_choice = submit(http, choice, answer="SMS_MFA")
    assert wrong_choice.status_code == 400
    assert error_of(wrong_choice) == "Invalid MFA type: SMS_MFA"
    email_page = submit(http, wrong_choice, answer="EMAIL_OTP")
    assert email_page.status_code == 200, email_page.text
    assert 'name="email"' in email_page.text
    code_page = submit(http, email_page, email="erin@example.com")
    assert code_page.status_code == 200, code_page.text
    assert "by email to e***@e***" in unescape(code_page.text)
    code = code_sent_to(server, pool.pool_id, "erin@example.com")
    wrong = submit(http, code_page, code=f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.status_code == 400
    assert error_of(wrong) == "Invalid code or auth state for the user."
    tokens = site.exchange(submit(http, wrong, code=code))
    id_claims = claims(tokens["id_token"])
    assert id_claims["cognito:username"] == "erin"
    assert id_claims["email"] == "erin@example.com"
    assert id_claims["email_verified"] is True
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="erin")
    assert user["UserMFASettingList"] == ["EMAIL_OTP"]
    # the next sign-in asks for an email code straight away
    again = hosted_login(httpx.Client(), site.authorize_url(), "erin")
    assert again.status_code == 200, again.text
    assert 'name="code"' in again.text
    assert "by email" in again.text


def test_authenticator_chosen_among_factors(
    server: CognateServer, cognito: Any, region: str
) -> None:
    pool = mfa_pool(server, cognito, "ON", email=True)
    pool.user("finn")
    site = hosted(pool, region)
    cognito.create_managed_login_branding(
        UserPoolId=pool.pool_id,
        ClientId=site.client_id,
        Settings={"components": {"pageBackground": {"lightMode": {"color": "abcdefff"}}}},
    )
    http = httpx.Client()
    choice = hosted_login(http, site.authorize_url(), "finn")
    assert "background: #abcdefff" in choice.text  # step pages wear the client's branding
    setup = submit(http, choice, answer="SOFTWARE_TOKEN_MFA")
    assert setup.status_code == 200, setup.text
    assert "background: #abcdefff" in setup.text
    assert re.search(r'id="secret">([A-Z2-7]+)<', setup.text) is not None
    assert "otpauth://totp/Cognate:finn" in unescape(setup.text)


def test_sms_only_pool_tells_a_user_without_a_phone_number(
    server: CognateServer, cognito: Any, region: str
) -> None:
    pool = mfa_pool(server, cognito, "ON", sms=True, totp=False)
    pool.user("gail")
    site = hosted(pool, region)
    page = hosted_login(httpx.Client(), site.authorize_url(), "gail")
    assert page.status_code == 400
    assert "has no phone number" in error_of(page)


def test_confirmed_sign_up_goes_on_to_the_set_up(
    server: CognateServer, cognito: Any, region: str
) -> None:
    required_email = [{"Name": "email", "AttributeDataType": "String", "Required": True}]
    pool = mfa_pool(server, cognito, "ON", AutoVerifiedAttributes=["email"], Schema=required_email)
    site = hosted(pool, region)
    http = httpx.Client()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": site.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": "xyz",
        }
    )
    form_page = http.get(f"{site.domain_url}/signup?{query}")
    assert form_page.status_code == 200, form_page.text
    action = re.search(r'<form method="post" action="([^"]+)"', form_page.text)
    assert action is not None
    done = http.post(
        unescape(action.group(1)),
        data={
            "_csrf": field(form_page, "_csrf"),
            "username": "hana",
            "password": PASSWORD,
            "email": "hana@example.com",
        },
    )
    assert done.status_code == 302, done.text
    confirm = http.get(done.headers["location"])
    confirm_action = re.search(r'<form method="post" action="([^"]+)"', confirm.text)
    assert confirm_action is not None
    code = code_sent_to(server, pool.pool_id, "hana@example.com")
    setup = http.post(
        unescape(confirm_action.group(1)),
        data={"_csrf": field(confirm, "_csrf"), "username": "hana", "code": code},
    )
    assert setup.status_code == 200, setup.text
    assert "Set up an authenticator app" in setup.text
    assert 'name="step"' in setup.text
