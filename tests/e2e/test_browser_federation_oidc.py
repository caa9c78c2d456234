"""Federated sign-in through an OIDC identity provider in a real browser: Chromium
(Debian's /usr/bin/chromium, driven by Playwright) signs in to pool B through pool A of
the same live server, configured in B as an OIDC provider by its issuer alone (B
discovers A's domain endpoints from A's /.well-known/openid-configuration).

The user picks the provider on B's login page, signs in on A's hosted login, and lands
at B's app callback with a code, which the app exchanges for tokens of the federated
user `<Provider>_<sub>` (the mapped email, `identities`). A second sign-in reuses that
user (and A's session); an identity linked with AdminLinkProviderForUser signs in as
B's native user. Each page is screenshotted and checked (tests/support/screenshots.py).

Needs Chromium at /usr/bin/chromium and the Python `playwright` package; skipped
without them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.auth import PASSWORD, new_client, new_pool, new_user
from tests.support.browser import launch_chromium
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

PROVIDER = "PoolA"
SCOPES = "openid email profile"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    with launch_chromium() as launched:
        yield launched


def domain_of(cognito: Any, endpoint: str, region: str, pool_id: str) -> str:
    prefix = "f" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    return f"{endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"


def sub_of(cognito: Any, pool_id: str, username: str) -> str:
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def verify_id_token(issuer: str, token: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The relying party's check: discovery -> JWKS -> signature, then the claims."""
    discovery = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"]).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(decoded.claims)
    claims: dict[str, Any] = decoded.claims
    return claims


def test_sign_in_to_pool_b_through_pool_a(
    browser: Any,
    server: CognateServer,
    cognito: Any,
    region: str,
    request: pytest.FixtureRequest,
) -> None:
    port = urlsplit(server.endpoint).port
    callback = f"http://localhost:{port}/_cognate/health"

    # Pool B: the app's pool. Its domain's /oauth2/idpresponse is pool A's callback.
    pool_b = new_pool(cognito, "pool-b")
    domain_b = domain_of(cognito, server.endpoint, region, pool_b)
    # Pool A: the identity provider, with alice and bob.
    pool_a = new_pool(cognito, "pool-a")
    domain_a = domain_of(cognito, server.endpoint, region, pool_a)
    relying = new_client(
        cognito, pool_a, GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=SCOPES.split(),
        CallbackURLs=[f"{domain_b}/oauth2/idpresponse"], SupportedIdentityProviders=["COGNITO"],
    )  # fmt: skip
    new_user(cognito, pool_a, "alice", attributes={"email": "alice@a.example", "name": "Alice"})
    new_user(cognito, pool_a, "bob", attributes={"email": "bob@a.example", "name": "Bob"})
    issuer_a = f"{server.endpoint}/{pool_a}"
    discovered = httpx.get(f"{issuer_a}/.well-known/openid-configuration").json()
    assert discovered["authorization_endpoint"] == f"{domain_a}/oauth2/authorize"
    assert discovered["token_endpoint"] == f"{domain_a}/oauth2/token"
    assert discovered["userinfo_endpoint"] == f"{domain_a}/oauth2/userInfo"

    cognito.create_identity_provider(
        UserPoolId=pool_b, ProviderName=PROVIDER, ProviderType="OIDC",
        ProviderDetails={"client_id": relying["ClientId"], "client_secret": relying["ClientSecret"],
                         "attributes_request_method": "GET", "oidc_issuer": issuer_a,
                         "authorize_scopes": SCOPES},
        AttributeMapping={"email": "email", "name": "name"},
    )  # fmt: skip
    described = cognito.describe_identity_provider(UserPoolId=pool_b, ProviderName=PROVIDER)
    assert described["IdentityProvider"]["ProviderDetails"]["token_url"] == (
        f"{domain_a}/oauth2/token"
    )
    app = new_client(
        cognito, pool_b, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=SCOPES.split(), CallbackURLs=[callback],
        SupportedIdentityProviders=["COGNITO", PROVIDER],
    )  # fmt: skip
    client_id = app["ClientId"]
    issuer_b = f"{server.endpoint}/{pool_b}"

    def authorize(state: str, nonce: str, **extra: str) -> str:
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": callback,
                 "scope": SCOPES, "state": state, "nonce": nonce, **extra}  # fmt: skip
        return f"{domain_b}/oauth2/authorize?{urlencode(query)}"

    def landed(page: Any, state: str) -> str:
        page.wait_for_url(f"{callback}*")
        params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
        assert params["state"] == state, page.url
        return params["code"]

    def tokens_for(code: str, nonce: str) -> dict[str, Any]:
        reply = httpx.post(
            f"{domain_b}/oauth2/token",
            data={"grant_type": "authorization_code", "client_id": client_id, "code": code,
                  "redirect_uri": callback},
        )  # fmt: skip
        assert reply.status_code == 200, reply.text
        return verify_id_token(issuer_b, reply.json()["id_token"], client_id, nonce)

    context = browser.new_context()
    page = context.new_page()
    shots = Screenshots(request, page)

    # B's login page offers pool A; its button goes to A's hosted login.
    page.goto(authorize("first", "n1"))
    assert urlsplit(page.url).path.endswith("/login")
    shots.take(page, "pool-b-login", heading="Sign in")
    page.click(f"#idp-{PROVIDER}")
    page.wait_for_url(f"{domain_a}/login*")
    shots.take(page, "pool-a-login", heading="Sign in")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    code = landed(page, "first")
    shots.take(page, "callback", text='"status":"ok"')
    alice_sub = sub_of(cognito, pool_a, "alice")
    first = tokens_for(code, "n1")
    assert first["cognito:username"] == f"{PROVIDER}_{alice_sub}"
    assert first["email"] == "alice@a.example"
    assert first["name"] == "Alice"
    assert first["cognito:groups"] == [f"{pool_b}_{PROVIDER}"]
    [identity] = first["identities"]
    assert identity["userId"] == alice_sub
    assert identity["providerName"] == PROVIDER
    assert identity["providerType"] == "OIDC"
    user = cognito.admin_get_user(UserPoolId=pool_b, Username=f"{PROVIDER}_{alice_sub}")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"

    # Again, naming the provider: A's session signs alice in without a page; same user.
    page.goto(authorize("second", "n2", identity_provider=PROVIDER))
    code = landed(page, "second")
    shots.take(page, "callback-again", text='"status":"ok"')
    second = tokens_for(code, "n2")
    assert second["sub"] == first["sub"]
    assert [u["Username"] for u in cognito.list_users(UserPoolId=pool_b)["Users"]] == [
        f"{PROVIDER}_{alice_sub}"
    ]

    # bob's identity at A is linked to nora, a native user of B: he signs in as nora.
    new_user(cognito, pool_b, "nora", attributes={"email": "nora@b.example"})
    bob_sub = sub_of(cognito, pool_a, "bob")
    cognito.admin_link_provider_for_user(
        UserPoolId=pool_b,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nora"},
        SourceUser={"ProviderName": PROVIDER, "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": bob_sub},
    )  # fmt: skip
    fresh = browser.new_context().new_page()  # no session at A: bob signs in there
    fresh.on("response", lambda response: shots._navigated(fresh, response))
    fresh.goto(authorize("third", "n3", identity_provider=PROVIDER))
    fresh.wait_for_url(f"{domain_a}/login*")
    shots.take(fresh, "pool-a-login-bob", heading="Sign in")
    fresh.fill("#username", "bob")
    fresh.fill("#password", PASSWORD)
    fresh.click("#signin")
    code = landed(fresh, "third")
    shots.take(fresh, "callback-linked", text='"status":"ok"')
    linked = tokens_for(code, "n3")
    assert linked["cognito:username"] == "nora"
    assert linked["email"] == "nora@b.example"
    assert [i["userId"] for i in linked["identities"]] == [bob_sub]
    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-pool-b-login.png",
        "02-pool-a-login.png",
        "03-callback.png",
        "04-callback-again.png",
        "05-pool-a-login-bob.png",
        "06-callback-linked.png",
    ]
