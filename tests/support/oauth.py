"""Helpers for the OAuth 2.0 / OIDC endpoint tests: a pool with a domain, a resource
server and an OAuth app client, and the hosted sign-in done by an HTTP client that posts
the login form (with its CSRF token) as a browser would."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.auth import PASSWORD, new_client, new_pool, new_user

CALLBACK = "https://app.example.com/callback"
LOGOUT = "https://app.example.com/signed-out"
RESOURCE = "https://api.example.com"
CUSTOM_SCOPE = f"{RESOURCE}/read"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass(frozen=True)
class OAuthSetup:
    pool_id: str
    client_id: str
    client_secret: str | None
    domain_url: str
    username: str


def oauth_pool(
    cognito: Any,
    endpoint: str,
    region: str,
    *,
    secret: bool = False,
    flows: tuple[str, ...] = ("code", "implicit"),
    scopes: tuple[str, ...] = ("openid", "email", "profile", "aws.cognito.signin.user.admin"),
    callback: str = CALLBACK,
    logout: str = LOGOUT,
    **client: Any,
) -> OAuthSetup:
    pool_id = new_pool(cognito, "oauth")
    prefix = "p" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    cognito.create_resource_server(
        UserPoolId=pool_id,
        Identifier=RESOURCE,
        Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}],
    )
    made = new_client(
        cognito,
        pool_id,
        GenerateSecret=secret,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=list(flows),
        AllowedOAuthScopes=list(scopes),
        CallbackURLs=[callback],
        LogoutURLs=[logout],
        SupportedIdentityProviders=["COGNITO"],
        **client,
    )
    username = new_user(
        cognito, pool_id, "alice", attributes={"email": "alice@example.com", "name": "Alice"}
    )
    domain_url = f"{endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    return OAuthSetup(pool_id, made["ClientId"], made.get("ClientSecret"), domain_url, username)


def login_form(http: httpx.Client, url: str) -> tuple[str, str]:
    """Follow `url` (an authorize URL) to the login page: its form's action and CSRF token."""
    page = http.get(url, follow_redirects=True)
    assert page.status_code == 200, page.text
    assert str(page.url).split("?")[0].endswith("/login")
    csrf = _CSRF.search(page.text)
    action = _ACTION.search(page.text)
    assert csrf is not None, page.text
    assert action is not None, page.text
    return action.group(1).replace("&amp;", "&"), csrf.group(1)


def hosted_login(
    http: httpx.Client, authorize_url: str, username: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    """Sign in on the hosted login page; the response to the form's POST."""
    action, csrf = login_form(http, authorize_url)
    return http.post(action, data={"_csrf": csrf, "username": username, "password": password})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query (or fragment) parameters of a redirect to the callback URL."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK), location
    parts = urlsplit(location)
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw).items()}
