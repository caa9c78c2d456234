"""Hosted sign-up in a real browser: Chromium (Debian's /usr/bin/chromium, driven by
Playwright) goes from the authorize URL to /login, follows its sign-up link, signs up
(first with a password the policy refuses: the page shows Cognito's message), confirms
with the code from the outbox and lands on the application's callback with a code that
the token endpoint exchanges for the new user's tokens. The pages wear the client's UI
customization (its CSS is applied: the button's computed color). Each page is
screenshotted and checked (tests/support/screenshots.py): login, sign-up, sign-up
refused, confirm, callback.

The domain is reached by its Host name `<prefix>.auth.<region>.localhost:<port>`.
Skipped without Chromium or the playwright package.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.auth import PASSWORD, claims, new_client, new_pool
from tests.support.browser import launch_chromium
from tests.support.outbox import read_outbox
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

CSS = ".submitButton-customizable { background-color: #0a7c3e; }"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser.new_context().new_page()


def test_sign_up_confirm_and_land_on_the_callback(
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
    pool_id = new_pool(
        cognito,
        "signup",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True}],
    )
    prefix = "p" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    client_id = new_client(
        cognito,
        pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[callback],
        SupportedIdentityProviders=["COGNITO"],
    )["ClientId"]
    cognito.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=CSS)
    domain = f"http://{prefix}.auth.{region}.localhost:{port}"
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid email",
        "state": state,
    }

    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    assert urlsplit(page.url).path == "/login"
    shots.take(page, "login", heading="Sign in")
    page.click("#sign-up")
    assert urlsplit(page.url).path == "/signup"
    color = page.eval_on_selector("#signup", "e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(10, 124, 62)"  # the client's CSS
    page.fill("#username", "dora")
    page.fill("#attr-email", "dora@example.com")
    page.fill("#password", "short")
    shots.take(page, "signup", heading="Sign up")
    page.click("#signup")
    assert "Password did not conform with policy" in (page.text_content("#error") or "")
    shots.take(page, "signup-refused", heading="Sign up")
    page.fill("#password", PASSWORD)
    page.click("#signup")
    assert urlsplit(page.url).path == "/confirm"
    assert page.input_value("#username") == "dora"
    shots.take(page, "confirm", heading="Confirm your account")

    message = [m for m in read_outbox(server, pool_id) if m.username == "dora"][-1]
    code = re.search(r"\b(\d{6})\b", message.body)
    assert code is not None, message.body
    page.fill("#code", code.group(1))
    page.click("#confirm")
    page.wait_for_url(f"{callback}*")
    shots.take(page, "callback", text='"status":"ok"')
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == state

    back = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{prefix}.auth.{region}.localhost"}
    )
    token = back.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": params["code"],
            "redirect_uri": callback,
        },
    )
    assert token.status_code == 200, token.text
    id_claims = claims(token.json()["id_token"])
    assert id_claims["cognito:username"] == "dora"
    assert id_claims["email_verified"] is True
    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-login.png",
        "02-signup.png",
        "03-signup-refused.png",
        "04-confirm.png",
        "05-callback.png",
    ]
