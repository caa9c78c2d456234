"""/oauth2/authorize and /login with `prompt`, `lang`, `identity_provider` /
`idp_identifier`, and app clients whose SupportedIdentityProviders leave out COGNITO.

Driven against the live server by httpx as a browser would (cookies kept per client):
prompt=login shows the login page despite the hosted session, prompt=none grants
silently with a session and answers `login_required` without one, select_account and
consent change nothing for the pool's own users, a bad prompt is `invalid_request`;
identity_provider=COGNITO is the hosted login and a provider the client does not support
is `invalid_request`; a client without COGNITO gets no username/password form (and a
session does not sign it in); `lang` rides along in the query while the pages stay English.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.auth import PASSWORD, claims, new_client
from tests.support.oauth import CALLBACK, hosted_login, login_form, oauth_pool, redirect_params
from tests.support.server import CognateServer


def _query(client_id: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "st-1",
        **extra,
    }


def _signed_in_browser(setup: Any) -> httpx.Client:
    """A browser with a hosted session for alice (signed in through the login page)."""
    browser = httpx.Client()
    url = httpx.URL(f"{setup.domain_url}/oauth2/authorize", params=_query(setup.client_id))
    done = hosted_login(browser, str(url))
    assert "code" in redirect_params(done)
    return browser


def _exchange(setup: Any, code: str) -> dict[str, Any]:
    token = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": setup.client_id,
            "code": code,
            "redirect_uri": CALLBACK,
        },
    )
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def test_prompt_login_shows_the_login_page_despite_the_session(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    browser = _signed_in_browser(setup)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    # the session signs in silently without a prompt...
    assert "code" in redirect_params(browser.get(authorize, params=_query(setup.client_id)))
    # ...but prompt=login sends the user to the login page with the same query
    again = browser.get(authorize, params=_query(setup.client_id, prompt="login"))
    assert again.status_code == 302
    location = httpx.URL(again.headers["location"])
    assert location.path.endswith("/login")
    assert location.params["prompt"] == "login"
    page = browser.get(location)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    # signing in again ends the authorization; the session still works afterwards
    url = httpx.URL(authorize, params=_query(setup.client_id, prompt="login"))
    done = hosted_login(browser, str(url))
    params = redirect_params(done)
    assert params["state"] == "st-1"
    assert claims(_exchange(setup, params["code"])["id_token"])["cognito:username"] == "alice"
    assert "code" in redirect_params(browser.get(authorize, params=_query(setup.client_id)))


def test_prompt_none_with_and_without_a_session(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    # no session: straight back to the client, no page
    fresh = httpx.get(authorize, params=_query(setup.client_id, prompt="none"))
    assert redirect_params(fresh) == {"error": "login_required", "state": "st-1"}
    # /login takes the same query and answers the same way
    login = httpx.get(f"{setup.domain_url}/login", params=_query(setup.client_id, prompt="none"))
    assert redirect_params(login) == {"error": "login_required", "state": "st-1"}

    browser = _signed_in_browser(setup)
    silent = browser.get(authorize, params=_query(setup.client_id, prompt="none"))
    params = redirect_params(silent)
    assert params["state"] == "st-1"
    tokens = _exchange(setup, params["code"])
    assert claims(tokens["access_token"])["username"] == "alice"
    implicit = browser.get(
        authorize, params=_query(setup.client_id, prompt="none", response_type="token")
    )
    assert "access_token" in redirect_params(implicit)
    named = browser.get(
        authorize, params=_query(setup.client_id, prompt="none", identity_provider="COGNITO")
    )
    assert "code" in redirect_params(named)

    # after /logout the session is gone: login_required again
    out = browser.get(
        f"{setup.domain_url}/logout",
        params={"client_id": setup.client_id, "logout_uri": "https://app.example.com/signed-out"},
    )
    assert out.status_code == 302
    ended = browser.get(authorize, params=_query(setup.client_id, prompt="none"))
    assert redirect_params(ended) == {"error": "login_required", "state": "st-1"}


def test_prompt_select_account_and_consent_and_bad_values(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    browser = _signed_in_browser(setup)
    for value in ("select_account", "consent", "consent select_account"):
        answer = browser.get(authorize, params=_query(setup.client_id, prompt=value))
        assert "code" in redirect_params(answer), value
    # without a session they go to the login page like no prompt
    page = httpx.get(authorize, params=_query(setup.client_id, prompt="consent"))
    assert page.status_code == 302
    assert "/login?" in page.headers["location"]
    for value in ("bogus", "none login", "LOGIN"):
        bad = browser.get(authorize, params=_query(setup.client_id, prompt=value))
        params = redirect_params(bad)
        assert (params["error"], params["state"]) == ("invalid_request", "st-1"), value
        assert "code" not in params


def test_identity_provider_and_idp_identifier(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    # COGNITO: the hosted login, then the code
    url = httpx.URL(authorize, params=_query(setup.client_id, identity_provider="COGNITO"))
    browser = httpx.Client()
    done = hosted_login(browser, str(url))
    assert "code" in redirect_params(done)
    # a provider the client does not support (none but COGNITO can be configured yet)
    for extra in (
        {"identity_provider": "Google"},
        {"identity_provider": "cognito"},
        {"idp_identifier": "example.com"},
        {"idp_identifier": "COGNITO"},
    ):
        for http in (httpx.Client(), browser):
            answer = http.get(authorize, params=_query(setup.client_id, **extra))
            params = redirect_params(answer)
            assert (params["error"], params["state"]) == ("invalid_request", "st-1"), extra
            assert "error_description" in params
    # /login refuses the same query the same way (no form for an unknown provider)
    login = httpx.get(
        f"{setup.domain_url}/login", params=_query(setup.client_id, identity_provider="Google")
    )
    assert redirect_params(login)["error"] == "invalid_request"


def test_client_without_cognito_gets_no_password_form(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    made = new_client(
        cognito,
        setup.pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
    )
    described = cognito.describe_user_pool_client(
        UserPoolId=setup.pool_id, ClientId=made["ClientId"]
    )["UserPoolClient"]
    assert not described.get("SupportedIdentityProviders")
    other = made["ClientId"]
    authorize = f"{setup.domain_url}/oauth2/authorize"

    first = httpx.get(authorize, params=_query(other))
    assert first.status_code == 302
    page = httpx.get(first.headers["location"])
    assert page.status_code == 400
    assert "Login option is not available" in page.text
    assert 'name="password"' not in page.text
    # posting credentials anyway is refused too, and signs nobody in
    poster = httpx.Client()
    url = httpx.URL(f"{setup.domain_url}/login", params=_query(other))
    posted = poster.post(url, data={"username": "alice", "password": PASSWORD})
    assert posted.status_code == 400
    assert "Login option is not available" in posted.text
    assert "cognate_session" not in poster.cookies
    # naming COGNITO is not allowed for this client
    named = httpx.get(authorize, params=_query(other, identity_provider="COGNITO"))
    assert redirect_params(named)["error"] == "invalid_request"

    # a hosted session from a COGNITO client of the same pool does not sign this client in
    browser = _signed_in_browser(setup)
    again = browser.get(authorize, params=_query(other))
    assert again.status_code == 302
    assert "/login?" in again.headers["location"]
    silent = browser.get(authorize, params=_query(other, prompt="none"))
    assert redirect_params(silent) == {"error": "login_required", "state": "st-1"}
    # while the COGNITO client is still signed in silently
    assert "code" in redirect_params(
        browser.get(authorize, params=_query(setup.client_id, prompt="none"))
    )


def test_lang_is_carried_and_the_pages_stay_english(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    authorize = f"{setup.domain_url}/oauth2/authorize"
    for lang in ("es", "pt-BR", "xx"):
        first = httpx.get(authorize, params=_query(setup.client_id, lang=lang))
        assert first.status_code == 302, lang
        location = httpx.URL(first.headers["location"])
        assert location.path.endswith("/login")
        assert location.params["lang"] == lang
        browser = httpx.Client()
        action, _ = login_form(browser, str(location))
        assert httpx.URL(action).params["lang"] == lang
        page = browser.get(location)
        assert '<html lang="en">' in page.text
    # signing in with lang in the query works as without it
    url = httpx.URL(authorize, params=_query(setup.client_id, lang="ja"))
    done = hosted_login(httpx.Client(), str(url))
    assert "code" in redirect_params(done)
