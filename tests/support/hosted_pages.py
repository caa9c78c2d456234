"""Driving the hosted step pages with httpx as a browser would: a pool domain with a
confidential OAuth client, each form's CSRF token, action URL and hidden step token, the
error shown on a page, and the redirect that ends a sign-in exchanged at /oauth2/token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.mfa import MfaPool
from tests.support.oauth import CALLBACK

_FIELD = r'name="{}" value="([^"]*)"'
ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass(frozen=True)
class Hosted:
    pool: MfaPool
    client_id: str
    client_secret: str
    domain_url: str

    def authorize_url(self) -> str:
        return (
            f"{self.domain_url}/oauth2/authorize?response_type=code&client_id={self.client_id}"
            f"&redirect_uri={CALLBACK}&scope=openid+email&state=xyz"
        )

    def exchange(self, response: httpx.Response) -> dict[str, Any]:
        """The redirect that ends the sign-in: its code exchanged at /oauth2/token."""
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(CALLBACK), location
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert params["state"] == "xyz"
        tokens = httpx.post(
            f"{self.domain_url}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": CALLBACK,
            },
            auth=(self.client_id, self.client_secret),
        )
        assert tokens.status_code == 200, tokens.text
        body: dict[str, Any] = tokens.json()
        return body


def hosted(pool: MfaPool, region: str) -> Hosted:
    """A domain and a confidential OAuth client (no password flows) on the pool."""
    prefix = "h" + secrets.token_hex(6)
    pool.cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix)
    made = pool.cognito.create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName="hosted",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    domain_url = f"{pool.server.endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    return Hosted(pool, made["ClientId"], made["ClientSecret"], domain_url)


def field(page: httpx.Response, name: str) -> str:
    found = re.search(_FIELD.format(name), page.text)
    assert found is not None, page.text
    return unescape(found.group(1))


def submit(http: httpx.Client, page: httpx.Response, **values: str) -> httpx.Response:
    """Post a step page's form (its CSRF token, step token and action) with `values`."""
    action = ACTION.search(page.text)
    assert action is not None, page.text
    data = {"_csrf": field(page, "_csrf"), "step": field(page, "step"), **values}
    return http.post(unescape(action.group(1)), data=data)


def error_of(page: httpx.Response) -> str:
    found = re.search(r'id="error">([^<]*)<', page.text)
    assert found is not None, page.text
    return unescape(found.group(1))
