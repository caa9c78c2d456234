"""SAML federation in a real browser: Chromium (Debian's /usr/bin/chromium, driven by
Playwright) signs in to a pool through a SAML 2.0 identity provider that the test serves
on 127.0.0.1 with pysaml2 (tests/support/saml_idp.py). The IdP's pages are what a real
one does: its sign-in page reads (and verifies) the pool's signed AuthnRequest, and after
sign-in an auto-submitting HTML form posts the signed, encrypted Response to the pool
domain's /saml2/idpresponse (HTTP-POST binding). Sign-out goes through the IdP's
SingleLogoutService and back to /saml2/logout the same way.

Needs Chromium at /usr/bin/chromium and the Python `playwright` package; skipped
without them.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.auth import claims, new_client, new_pool
from tests.support.browser import launch_chromium
from tests.support.saml_idp import EMAIL_CLAIM, SamlIdP, pem, sp_metadata
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

PROVIDER = "Corp"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    with launch_chromium() as launched:
        yield launched


def _page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    ).encode()


def _post_form(action: str, fields: dict[str, str]) -> bytes:
    """The HTTP-POST binding: a form the browser submits by itself."""
    inputs = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return _page(
        "Signing you in",
        f'<form id="saml" method="post" action="{html.escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        '<script>document.getElementById("saml").submit()</script>',
    )


class IdPSite:
    """The IdP's web pages, on 127.0.0.1: /sso (sign-in page), /sso/login (answer), /slo."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.idp = SamlIdP(self.base)
        self.acs = ""
        self.logout = ""
        self.entity_id = ""
        self.signing_cert = ""
        self.encryption_cert: str | None = None
        self.requests: list[Any] = []
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = site.base + self.path
                if self.path.startswith("/sso?"):
                    request = site.idp.read_request(url, site.signing_cert)
                    site.requests.append(request)
                    relay = site.idp.request_query(url)["RelayState"]
                    self._send(
                        _page(
                            "Corp sign-in",
                            '<form method="post" action="/sso/login">'
                            f'<input type="hidden" name="id" value="{request.message.id}">'
                            f'<input type="hidden" name="relay" value="{html.escape(relay)}">'
                            '<input id="username" name="username">'
                            '<button id="signin" type="submit">Sign in</button></form>',
                        )
                    )
                elif self.path.startswith("/slo?"):
                    request = site.idp.read_request(url, site.signing_cert)
                    site.requests.append(request)
                    relay = site.idp.request_query(url)["RelayState"]
                    answer = site.idp.logout_response(request, site.logout)
                    self._send(_post_form(site.logout, {"SAMLResponse": answer,
                                                        "RelayState": relay}))  # fmt: skip
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                username = form["username"]
                answer = site.idp.respond(
                    name_id=username,
                    attributes={EMAIL_CLAIM: [f"{username}@corp.example"]},
                    destination=site.acs,
                    sp_entity_id=site.entity_id,
                    in_response_to=form["id"],
                    relay_state=form["relay"],
                    encrypt_cert=site.encryption_cert,
                )
                self._send(_post_form(site.acs, {"SAMLResponse": answer.saml_response,
                                                 "RelayState": form["relay"]}))  # fmt: skip

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def site() -> Iterator[IdPSite]:
    made = IdPSite()
    try:
        yield made
    finally:
        made.close()


def test_sign_in_and_out_through_a_saml_idp(
    browser: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    site: IdPSite,
    request: pytest.FixtureRequest,
) -> None:
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"
    pool_id = new_pool(cognito, "saml")
    prefix = "s" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    domain = f"{server.endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName=PROVIDER, ProviderType="SAML",
        ProviderDetails={"MetadataFile": site.idp.metadata, "EncryptedResponses": "true",
                         "RequestSigningAlgorithm": "rsa-sha256", "IDPSignout": "true"},
        AttributeMapping={"email": EMAIL_CLAIM},
    )  # fmt: skip
    app = new_client(
        cognito, pool_id, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"], CallbackURLs=[callback], LogoutURLs=[callback],
        SupportedIdentityProviders=["COGNITO", PROVIDER],
    )  # fmt: skip
    details = cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=PROVIDER)[
        "IdentityProvider"
    ]["ProviderDetails"]
    signing = cognito.get_signing_certificate(UserPoolId=pool_id)["Certificate"]
    site.entity_id = f"urn:amazon:cognito:sp:{pool_id}"
    site.acs = f"{domain}/saml2/idpresponse"
    site.logout = f"{domain}/saml2/logout"
    site.signing_cert = signing
    site.encryption_cert = pem(details["ActiveEncryptionCertificate"])
    site.idp.trust(
        sp_metadata(
            site.entity_id, site.acs, site.logout, signing, details["ActiveEncryptionCertificate"]
        )
    )
    query = {"response_type": "code", "client_id": app["ClientId"], "redirect_uri": callback,
             "scope": "openid email", "state": "s1"}  # fmt: skip

    page = browser.new_context().new_page()
    shots = Screenshots(request, page)
    page.goto(f"{domain}/oauth2/authorize?{urlencode(query)}")
    shots.take(page, "pool-login", heading="Sign in")
    page.click(f"#idp-{PROVIDER}")
    page.wait_for_url(f"{site.base}/sso?*")
    shots.take(page, "idp-sign-in", heading="Corp sign-in")
    page.fill("#username", "jdoe")
    page.click("#signin")
    page.wait_for_url(f"{callback}?*")
    shots.take(page, "callback", text='"status":"ok"')
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == "s1"
    reply = httpx.post(
        f"{domain}/oauth2/token",
        data={"grant_type": "authorization_code", "client_id": app["ClientId"],
              "code": params["code"], "redirect_uri": callback},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    id_claims = claims(reply.json()["id_token"])
    assert id_claims["cognito:username"] == f"{PROVIDER}_jdoe"
    assert id_claims["email"] == "jdoe@corp.example"
    assert id_claims["identities"][0]["providerType"] == "SAML"

    # The hosted session skips the IdP on the next authorize.
    page.goto(f"{domain}/oauth2/authorize?{urlencode({**query, 'state': 's2'})}")
    page.wait_for_url(f"{callback}?*")
    assert "state=s2" in page.url

    # Sign-out: on to the IdP's SingleLogoutService, back through /saml2/logout.
    logout = {"client_id": app["ClientId"], "logout_uri": callback}
    page.goto(f"{domain}/logout?{urlencode(logout)}")
    page.wait_for_url(callback)
    shots.take(page, "signed-out", text='"status":"ok"')
    assert site.requests[-1].message.name_id.text == "jdoe"  # the LogoutRequest
    page.goto(f"{domain}/oauth2/authorize?{urlencode({**query, 'identity_provider': PROVIDER})}")
    page.wait_for_url(f"{site.base}/sso?*")  # no session any more
