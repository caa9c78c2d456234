"""The OAuth 2.0 / OpenID Connect endpoints of a pool domain, driven by Authlib's client.

The domain is reached by its path prefix (`/_cognate/domains/<domain>`). The user's side of
the authorization-code flow (the hosted login page and its form with the CSRF token) is
done by httpx as a browser would; the application's side by Authlib's OAuth2Session
(authorization URL with PKCE, code exchange, refresh, client credentials). Checked: the
tokens are the API's (same issuer and keys: GetUser accepts the access token), the access
token's `scope` is the granted scopes, the ID token only with `openid` and with the
nonce, codes are single use and bound to their PKCE verifier and redirect_uri, the
session cookie skips the login on a second authorize until /logout, and the errors are
RFC 6749's / Cognito's.
"""

from __future__ import annotations

from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.support.auth import PASSWORD, SIGN_IN_SCOPE, WRONG_PASSWORD, claims
from tests.support.oauth import (
    CALLBACK,
    CUSTOM_SCOPE,
    LOGOUT,
    hosted_login,
    login_form,
    oauth_pool,
    redirect_params,
)
from tests.support.server import CognateServer

SCOPE = "openid email profile aws.cognito.signin.user.admin"


def authlib_client(setup: Any, scope: str = SCOPE) -> OAuth2Session:
    return OAuth2Session(
        client_id=setup.client_id,
        client_secret=setup.client_secret,
        scope=scope,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=("client_secret_basic" if setup.client_secret else "none"),
    )


def code_flow(
    setup: Any, scope: str = SCOPE, nonce: str | None = None
) -> tuple[OAuth2Session, dict[str, Any], httpx.Client]:
    """Authorization code + PKCE (S256) through the hosted login; the client, its token
    and the browser (with its session cookie)."""
    client = authlib_client(setup, scope)
    verifier = generate_token(48)
    extra = {"nonce": nonce} if nonce else {}
    url, state = client.create_authorization_url(
        f"{setup.domain_url}/oauth2/authorize", code_verifier=verifier, **extra
    )
    browser = httpx.Client()
    response = hosted_login(browser, url)
    params = redirect_params(response)
    assert params["state"] == state
    token = client.fetch_token(
        f"{setup.domain_url}/oauth2/token",
        authorization_response=response.headers["location"],
        code_verifier=verifier,
    )
    return client, dict(token), browser


def test_code_flow_with_pkce_gives_the_apis_tokens(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    _, token, _ = code_flow(setup, nonce="n-0S6_WzA2Mj")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    access, id_token = claims(token["access_token"]), claims(token["id_token"])
    assert access["scope"].split() == SCOPE.split()
    assert access["client_id"] == setup.client_id
    assert id_token["aud"] == setup.client_id
    assert id_token["nonce"] == "n-0S6_WzA2Mj"
    assert id_token["email"] == "alice@example.com"
    assert id_token["cognito:username"] == "alice"
    assert id_token["iss"] == f"{server.endpoint}/{setup.pool_id}"
    # The same tokens as the API's: GetUser accepts the access token.
    user = cognito.get_user(AccessToken=token["access_token"])
    assert user["Username"] == "alice"


def test_refresh_keeps_the_granted_scopes(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    client, token, _ = code_flow(setup, scope="openid email")
    assert claims(token["access_token"])["scope"] == "openid email"
    refreshed = client.refresh_token(
        f"{setup.domain_url}/oauth2/token", refresh_token=token["refresh_token"]
    )
    access = claims(refreshed["access_token"])
    assert access["scope"] == "openid email"
    assert claims(refreshed["id_token"])["sub"] == claims(token["id_token"])["sub"]
    assert access["origin_jti"] == claims(token["access_token"])["origin_jti"]


def test_no_openid_no_id_token(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    _, token, _ = code_flow(setup, scope="email aws.cognito.signin.user.admin")
    assert "id_token" not in token
    # email needs openid: only the sign-in scope is granted
    assert claims(token["access_token"])["scope"] == SIGN_IN_SCOPE


def test_client_credentials_with_a_secret(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(
        cognito,
        server.endpoint,
        region,
        secret=True,
        flows=("client_credentials",),
        scopes=(CUSTOM_SCOPE,),
    )
    client = OAuth2Session(setup.client_id, setup.client_secret, scope=CUSTOM_SCOPE)
    token = client.fetch_token(f"{setup.domain_url}/oauth2/token", grant_type="client_credentials")
    access = claims(token["access_token"])
    assert access["scope"] == CUSTOM_SCOPE
    assert access["sub"] == setup.client_id
    assert "refresh_token" not in token
    # client_secret_post works too; a wrong secret is invalid_client (401)
    post = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": setup.client_id,
            "client_secret": setup.client_secret,
        },
    )
    assert post.status_code == 200
    wrong = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(setup.client_id, "not-the-secret"),
    )
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    bad_scope = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "openid"},
        auth=(setup.client_id, setup.client_secret or ""),
    )
    assert (bad_scope.status_code, bad_scope.json()) == (400, {"error": "invalid_scope"})


def test_code_is_single_use_and_bound_to_its_verifier(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    client = authlib_client(setup)
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(
        f"{setup.domain_url}/oauth2/authorize", code_verifier=verifier
    )
    code = redirect_params(hosted_login(httpx.Client(), url))["code"]
    token_url = f"{setup.domain_url}/oauth2/token"
    form = {
        "grant_type": "authorization_code",
        "client_id": setup.client_id,
        "code": code,
        "redirect_uri": CALLBACK,
    }
    wrong = httpx.post(token_url, data={**form, "code_verifier": generate_token(48)})
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    # the failed attempt used the code up
    right = httpx.post(token_url, data={**form, "code_verifier": verifier})
    assert (right.status_code, right.json()) == (400, {"error": "invalid_grant"})

    url, _ = client.create_authorization_url(
        f"{setup.domain_url}/oauth2/authorize", code_verifier=verifier
    )
    code = redirect_params(hosted_login(httpx.Client(), url))["code"]
    form = {**form, "code": code, "code_verifier": verifier}
    other_uri = httpx.post(token_url, data={**form, "redirect_uri": "https://other.example"})
    assert other_uri.json() == {"error": "invalid_grant"}
    unsupported = httpx.post(token_url, data={**form, "grant_type": "password"})
    assert unsupported.json() == {"error": "unsupported_grant_type"}


def test_session_cookie_skips_the_login_until_logout(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    _, _, browser = code_flow(setup)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    query = {
        "response_type": "code",
        "client_id": setup.client_id,
        "redirect_uri": CALLBACK,
        "state": "again",
    }
    again = browser.get(authorize, params=query)
    assert redirect_params(again)["state"] == "again"
    assert "code" in redirect_params(again)

    # implicit flow with the same session: tokens in the fragment, no refresh token
    implicit = browser.get(authorize, params={**query, "response_type": "token"})
    fragment = redirect_params(implicit)
    assert "#" in implicit.headers["location"]
    assert fragment["token_type"] == "bearer"
    assert "refresh_token" not in fragment
    assert claims(fragment["access_token"])["client_id"] == setup.client_id

    bad_logout = browser.get(
        f"{setup.domain_url}/logout",
        params={"client_id": setup.client_id, "logout_uri": "https://evil.example"},
    )
    assert bad_logout.status_code == 400
    out = browser.get(
        f"{setup.domain_url}/logout",
        params={"client_id": setup.client_id, "logout_uri": LOGOUT},
    )
    assert (out.status_code, out.headers["location"]) == (302, LOGOUT)
    after = browser.get(authorize, params=query)
    assert after.status_code == 302
    assert "/login?" in after.headers["location"]


def test_user_info_by_scope(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    _, token, _ = code_flow(setup, scope="openid email")
    url = f"{setup.domain_url}/oauth2/userInfo"
    info = httpx.get(url, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200
    body = info.json()
    assert body["email"] == "alice@example.com"
    assert body["sub"] == claims(token["id_token"])["sub"]
    assert "name" not in body  # the profile scope was not granted
    posted = httpx.post(url, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert posted.json() == body

    missing = httpx.get(url)
    assert missing.status_code == 400
    assert 'error="invalid_request"' in missing.headers["www-authenticate"]
    # an API token has no openid scope
    api = cognito.initiate_auth(
        ClientId=setup.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    refused = httpx.get(url, headers={"Authorization": f"Bearer {api['AccessToken']}"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


def test_revoke_ends_the_refresh_token(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    _, token, _ = code_flow(setup)
    revoke = f"{setup.domain_url}/oauth2/revoke"
    not_refresh = httpx.post(
        revoke, data={"token": token["access_token"], "client_id": setup.client_id}
    )
    assert (not_refresh.status_code, not_refresh.json()) == (
        400,
        {"error": "unsupported_token_type"},
    )
    missing = httpx.post(revoke, data={"client_id": setup.client_id})
    assert missing.json() == {"error": "invalid_request"}
    done = httpx.post(revoke, data={"token": token["refresh_token"], "client_id": setup.client_id})
    assert (done.status_code, done.text) == (200, "")
    refresh = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": setup.client_id,
            "refresh_token": token["refresh_token"],
        },
    )
    assert refresh.json() == {"error": "invalid_grant"}
    info = httpx.get(
        f"{setup.domain_url}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert info.status_code == 401


def test_authorize_errors(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region, flows=("code",))
    url = f"{setup.domain_url}/oauth2/authorize"
    good = {"response_type": "code", "client_id": setup.client_id, "redirect_uri": CALLBACK}
    # bad client or redirect_uri: an error page, never a redirect
    assert httpx.get(url, params={**good, "client_id": "nope"}).status_code == 400
    mismatch = httpx.get(url, params={**good, "redirect_uri": "https://evil.example/cb"})
    assert (mismatch.status_code, "redirect_mismatch" in mismatch.text) == (400, True)
    # otherwise: back to the client with error= and the state
    implicit = httpx.get(url, params={**good, "response_type": "token", "state": "s1"})
    assert redirect_params(implicit) == {"error": "unauthorized_client", "state": "s1"}
    odd = httpx.get(url, params={**good, "response_type": "id_token"})
    assert redirect_params(odd)["error"] == "unsupported_response_type"
    scope = httpx.get(url, params={**good, "scope": "phone https://nowhere/x"})
    assert redirect_params(scope)["error"] == "invalid_scope"
    pkce = httpx.get(
        url, params={**good, "code_challenge": "x" * 43, "code_challenge_method": "S512"}
    )
    assert redirect_params(pkce)["error"] == "invalid_request"
    unknown = httpx.get(
        f"{server.endpoint}/_cognate/domains/no-such-domain-xyz.auth.{region}.amazoncognito.com"
        "/oauth2/authorize",
        params=good,
    )
    assert unknown.status_code == 404


def test_login_page_errors(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    url = (
        f"{setup.domain_url}/oauth2/authorize?response_type=code&client_id={setup.client_id}"
        f"&redirect_uri={CALLBACK}"
    )
    browser = httpx.Client()
    action, csrf = login_form(browser, url)
    wrong = browser.post(
        action, data={"_csrf": csrf, "username": "alice", "password": WRONG_PASSWORD}
    )
    assert wrong.status_code == 400
    assert "Incorrect username or password." in wrong.text
    no_csrf = browser.post(action, data={"username": "alice", "password": PASSWORD})
    assert no_csrf.status_code == 403
    other = httpx.Client()  # a forged form from another site: no CSRF cookie
    forged = other.post(action, data={"_csrf": csrf, "username": "alice", "password": PASSWORD})
    assert forged.status_code == 403
    # the page escapes what it echoes
    escaped = browser.post(
        action, data={"_csrf": csrf, "username": "<script>x</script>", "password": "p"}
    )
    assert "<script>x</script>" not in escaped.text
    assert "&lt;script&gt;" in escaped.text


def test_domain_discovery_and_jwks(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    doc = httpx.get(f"{setup.domain_url}/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{server.endpoint}/{setup.pool_id}"
    assert doc["token_endpoint"] == f"{setup.domain_url}/oauth2/token"
    assert doc["authorization_endpoint"] == f"{setup.domain_url}/oauth2/authorize"
    jwks = httpx.get(doc["jwks_uri"]).json()
    api_jwks = httpx.get(f"{server.endpoint}/{setup.pool_id}/.well-known/jwks.json").json()
    assert jwks == api_jwks


def test_issuer_discovery_names_the_domain(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    doc = httpx.get(f"{server.endpoint}/{setup.pool_id}/.well-known/openid-configuration").json()
    assert doc["authorization_endpoint"] == f"{setup.domain_url}/oauth2/authorize"
    assert doc["userinfo_endpoint"] == f"{setup.domain_url}/oauth2/userInfo"


def test_domain_by_host_header(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    prefix = setup.domain_url.rsplit("/", 1)[1].split(".")[0]
    for host in (f"{prefix}.auth.{region}.localhost", f"{prefix}.auth.{region}.amazoncognito.com"):
        doc = httpx.get(
            f"{server.endpoint}/.well-known/openid-configuration", headers={"Host": host}
        )
        assert doc.status_code == 200, host
        assert doc.json()["token_endpoint"] == f"http://{host}/oauth2/token"
        login = httpx.get(
            f"{server.endpoint}/oauth2/authorize",
            headers={"Host": host},
            params={
                "response_type": "code",
                "client_id": setup.client_id,
                "redirect_uri": CALLBACK,
            },
        )
        assert login.status_code == 302
        assert login.headers["location"].startswith(f"http://{host}/login?")
    # the API still answers on the server's own host
    assert cognito.describe_user_pool(UserPoolId=setup.pool_id)["UserPool"]["Id"] == setup.pool_id


def test_plain_pkce_and_a_confidential_client(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region, secret=True, flows=("code",))
    verifier = generate_token(48)
    query = {
        "response_type": "code",
        "client_id": setup.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": verifier,
        "code_challenge_method": "plain",
    }
    url = f"{setup.domain_url}/oauth2/authorize?" + "&".join(f"{k}={v}" for k, v in query.items())
    code = redirect_params(hosted_login(httpx.Client(), url))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    token_url = f"{setup.domain_url}/oauth2/token"
    # a client with a secret must authenticate
    anonymous = httpx.post(token_url, data={**form, "client_id": setup.client_id})
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "invalid_client"})
    done = httpx.post(token_url, data=form, auth=(setup.client_id, setup.client_secret or ""))
    assert done.status_code == 200, done.text
    assert claims(done.json()["access_token"])["scope"] == "openid"
