"""The authorization-code + PKCE flow in a real browser: Chromium (Debian's
/usr/bin/chromium, driven by Playwright) signs in on the hosted login page of a pool
domain, and an OpenID Connect relying party checks the ID token.

The browser reaches the domain by its Host name, `<prefix>.auth.<region>.localhost:<port>`
(Chromium resolves `*.localhost` to loopback), so the Host-based routing is what serves
it. The application's callback and logout URLs are pages of this server on
http://localhost (where Cognito allows http), where the code is read from the URL. The relying party
does what generic OIDC libraries do: discovery from the issuer, the JWKS named there,
the RS256 signature, then `iss`, `aud`, `nonce`, `exp` and `token_use`. A second authorize
in the same browser skips the login page (the session cookie); /logout brings it back.
Each page the browser shows is screenshotted and checked (tests/support/screenshots.py):
login, wrong password, callback, callback again, signed out, login after the logout.

Needs Chromium at /usr/bin/chromium and the Python `playwright` package (never a browser
downloaded by `playwright install`); skipped without them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.auth import PASSWORD, WRONG_PASSWORD
from tests.support.browser import launch_chromium
from tests.support.oauth import oauth_pool
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser.new_context().new_page()


def verify_id_token(issuer: str, token: str, client_id: str, nonce: str) -> dict[str, Any]:
    """An OIDC relying party's check: discovery -> JWKS -> signature, then the claims."""
    discovery = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == issuer
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"]).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    claims: dict[str, Any] = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        token_use={"essential": True, "value": "id"},
    )
    registry.validate(claims)
    return claims


def test_code_flow_with_pkce_in_chromium(
    browser_page: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    request: pytest.FixtureRequest,
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
    port = urlsplit(server.endpoint).port
    # The application: pages of this server on http://localhost (Cognito allows http there).
    callback = f"http://localhost:{port}/_cognate/health"
    logout = f"http://localhost:{port}/_cognate/health?signed_out=1"
    setup = oauth_pool(
        cognito, server.endpoint, region, flows=("code",), callback=callback, logout=logout
    )
    prefix = urlsplit(setup.domain_url).path.rsplit("/", 1)[1].split(".")[0]
    domain = f"http://{prefix}.auth.{region}.localhost:{port}"

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    nonce, state = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": setup.client_id,
        "redirect_uri": callback,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    assert urlsplit(page.url).path == "/login"
    shots.take(page, "login", heading="Sign in")

    page.fill("#username", "alice")
    page.fill("#password", WRONG_PASSWORD)
    page.click("#signin")
    assert page.text_content("#error") == "Incorrect username or password."
    shots.take(page, "wrong-password", heading="Sign in")

    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url(f"{callback}*")
    shots.take(page, "callback", text='"status":"ok"')
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == callback
    params = {k: v[0] for k, v in parse_qs(landed.query).items()}
    assert params["state"] == state

    # The application's back channel: to the same domain by its Host header (httpx does
    # not resolve *.localhost names itself).
    back = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{prefix}.auth.{region}.localhost"}
    )
    token = back.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": setup.client_id,
            "code": params["code"],
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    tokens = token.json()
    issuer = f"{server.endpoint}/{setup.pool_id}"
    id_claims = verify_id_token(issuer, tokens["id_token"], setup.client_id, nonce)
    assert id_claims["cognito:username"] == "alice"
    assert id_claims["email"] == "alice@example.com"
    # The domain's own discovery names the same issuer and keys.
    on_domain = back.get("/.well-known/openid-configuration").json()
    assert on_domain["issuer"] == issuer
    assert on_domain["token_endpoint"] == f"http://{prefix}.auth.{region}.localhost/oauth2/token"

    # A second authorize in the same browser: no login page (the session cookie).
    page.goto(f"{domain}/oauth2/authorize?{urlencode({**query, 'state': 'second'})}")
    page.wait_for_url(f"{callback}*")
    assert "state=second" in page.url
    assert "code=" in page.url
    shots.take(page, "callback-again", text='"status":"ok"')

    page.goto(f"{domain}/logout?{urlencode({'client_id': setup.client_id, 'logout_uri': logout})}")
    page.wait_for_url(f"{callback}*")
    assert page.url == logout
    shots.take(page, "signed-out", text='"status":"ok"')
    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    assert urlsplit(page.url).path == "/login"
    shots.take(page, "login-after-logout", heading="Sign in")
    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-login.png",
        "02-wrong-password.png",
        "03-callback.png",
        "04-callback-again.png",
        "05-signed-out.png",
        "06-login-after-logout.png",
    ]
