"""Signing in through an OAuth 2.0 / OIDC identity provider (OIDC, Google, Facebook,
Login with Amazon, Sign in with Apple): the redirect to its sign-in page, and what is
done with the code it sends back to /oauth2/idpresponse, up to a `FederatedIdentity`.

Cognito's documented behaviour (developer guide "Using OIDC identity providers with a
user pool", "OIDC user pool IdP authentication flow", "Social identity providers"; the
userInfo endpoint page), and *chosen* where it is silent:
- The redirect: `response_type=code`, `client_id`, `redirect_uri` (the domain's
  /oauth2/idpresponse), `scope` (the provider's authorize_scopes as configured), `state`
  (an opaque single-use token) and, for OIDC, Google and Apple, a `nonce` that the ID
  token must carry back. Apple gets `response_mode=form_post` when it is asked for name
  or email (Apple requires it), so /oauth2/idpresponse also takes a POST.
- The code is exchanged at the token endpoint with `client_secret_post` ("Amazon Cognito
  doesn't support client_secret_basic" for OIDC providers); Facebook's token endpoint is
  called with GET (its token_request_method). Sign in with Apple's client secret is a
  JWT signed ES256 with the provider's private_key (iss team_id, kid key_id, sub the
  client id, aud https://appleid.apple.com), as Apple requires.
- The ID token (OIDC, Google, Apple) is verified: signature against the provider's
  jwks_uri (HMAC tokens with the client secret), `iss` the provider's issuer, `aud` the
  client id, `exp` in the future, `nonce` the one sent.
- Attributes: OIDC providers' userInfo endpoint is called with the access token (GET or
  POST per attributes_request_method) and its claims laid over the ID token's ("the user
  pool passes the IdP access token to authorize retrieval of user information from the
  IdP userInfo endpoint"); Facebook's Graph /me (with `fields=` the claims the attribute
  mapping names, and `id`) and Login with Amazon's profile likewise. *Chosen*: Google's
  claims come from its ID token alone (the People API's answer is not flat claims).
- Failures end the sign-in with `error=invalid_request` at the app's redirect_uri; the
  token endpoint's in the developer guide's words ("<IdP name> Error - <status> error
  getting token", "Timeout occurred in calling IdP token endpoint"); *chosen* wording
  for the rest.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OctKey

from cognate.domain.clock import Clock
from cognate.domain.federation.details import DEFAULT_USERNAME_CLAIM, OIDC
from cognate.domain.federation.identity import FederatedIdentity
from cognate.domain.federation.providers import ProviderRecord
from cognate.domain.secretbox import SecretBox
from cognate.outbound.http import Outbound, OutboundError, Reply

GOOGLE, FACEBOOK, AMAZON, APPLE = "Google", "Facebook", "LoginWithAmazon", "SignInWithApple"
NONCE_TYPES = frozenset({OIDC, GOOGLE, APPLE})
ID_TOKEN_TYPES = NONCE_TYPES
OAUTH_TYPES = frozenset({OIDC, GOOGLE, FACEBOOK, AMAZON, APPLE})
DEFAULT_JWKS = {
    GOOGLE: "https://www.googleapis.com/oauth2/v3/certs",
    APPLE: "https://appleid.apple.com/auth/keys",
}
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
APPLE_AUDIENCE = "https://appleid.apple.com"
ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
)  # fmt: skip
LEEWAY_S = 60
_REGISTERED = frozenset({"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "azp", "jti"})


class UpstreamError(Exception):
    """The provider refused, failed or answered something unusable: the sign-in ends
    with `error=invalid_request` and this description."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def new_nonce(provider: ProviderRecord) -> str | None:
    return secrets.token_urlsafe(24) if provider.provider_type in NONCE_TYPES else None


def authorize_url(
    provider: ProviderRecord, outbound: Outbound, redirect_uri: str, state: str, nonce: str | None
) -> str:
    """Where the browser goes to sign in at the provider (stand-in origins applied)."""
    details = provider.details
    scopes = details.get("authorize_scopes", "")
    params = {
        "response_type": "code",
        "client_id": details.get("client_id", ""),
        "redirect_uri": redirect_uri,
        "scope": scopes,
        "state": state,
    }
    if nonce is not None:
        params["nonce"] = nonce
    if provider.provider_type == APPLE and {"name", "email"} & set(scopes.split()):
        params["response_mode"] = "form_post"
    base = outbound.origins.apply(details["authorize_url"])
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


@dataclass(frozen=True, slots=True)
class ProviderReturn:
    """What the provider sent back to /oauth2/idpresponse."""

    code: str
    redirect_uri: str
    nonce: str | None
    apple_user: str | None = None  # Apple's `user` form field (first sign-in only)


class ProviderSignIn:
    def __init__(self, box: SecretBox, outbound: Outbound, clock: Clock) -> None:
        self._box = box
        self._outbound = outbound
        self._clock = clock

    def finish(self, provider: ProviderRecord, back: ProviderReturn) -> FederatedIdentity:
        kind = provider.provider_type
        secret_values = provider.secrets(self._box)
        tokens = self._exchange(provider, secret_values, back)
        claims: dict[str, Any] = {}
        if kind in ID_TOKEN_TYPES:
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise UpstreamError(f"{provider.name} Error - no id_token in the token response")
            claims.update(self._id_token(provider, secret_values, id_token, back.nonce))
        access = tokens.get("access_token")
        url = provider.details.get("attributes_url")
        if url and kind in (OIDC, FACEBOOK, AMAZON) and isinstance(access, str):
            extra = self._attributes(provider, url, access)
            if "sub" in claims and "sub" in extra and str(extra["sub"]) != str(claims["sub"]):
                raise UpstreamError(f"{provider.name} Error - userInfo is of another subject")
            claims.update(extra)
        if kind == APPLE and back.apple_user:
            claims.update(_apple_user(back.apple_user))
        subject_claim = DEFAULT_USERNAME_CLAIM.get(kind, "sub")
        subject = claims.get(subject_claim)
        if subject is None or subject == "":
            raise UpstreamError(f"{provider.name} Error - no {subject_claim} in the user's claims")
        flat = {k: _flat(v) for k, v in claims.items() if k not in _REGISTERED}
        return FederatedIdentity(provider.name, kind, str(subject), flat, None)

    # ------------------------------------------------------------------ token endpoint

    def _exchange(
        self, provider: ProviderRecord, secret_values: dict[str, str], back: ProviderReturn
    ) -> dict[str, Any]:
        details = provider.details
        client_id = details.get("client_id", "")
        if provider.provider_type == APPLE:
            client_secret = self._apple_secret(details, secret_values)
        else:
            client_secret = secret_values.get("client_secret", "")
        form = {
            "grant_type": "authorization_code",
            "code": back.code,
            "redirect_uri": back.redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        headers = {"Accept": "application/json"}
        try:
            if details.get("token_request_method") == "GET":
                url = details["token_url"]
                reply = self._outbound.get(
                    f"{url}{'&' if '?' in url else '?'}{urlencode(form)}", headers=headers
                )
            else:
                reply = self._outbound.post_form(details["token_url"], form, headers=headers)
        except OutboundError as exc:
            if exc.message.startswith("Timeout"):
                raise UpstreamError("Timeout occurred in calling IdP token endpoint") from None
            raise UpstreamError(f"{provider.name} Error - error getting token") from None
        body = _json_object(reply)
        if not reply.ok or body is None or not isinstance(body.get("access_token"), str):
            raise UpstreamError(f"{provider.name} Error - {reply.status} error getting token")
        return body

    def _apple_secret(self, details: dict[str, str], secret_values: dict[str, str]) -> str:
        now = self._clock.now_ms() // 1000
        claims = {
            "iss": details.get("team_id", ""),
            "iat": now,
            "exp": now + 300,
            "aud": APPLE_AUDIENCE,
            "sub": details.get("client_id", ""),
        }
        try:
            key = ECKey.import_key(secret_values.get("private_key", ""))
            return jwt.encode({"alg": "ES256", "kid": details.get("key_id", "")}, claims, key)
        except (JoseError, ValueError):
            raise UpstreamError(
                "SignInWithApple Error - the private_key is not an EC key"
            ) from None

    # ------------------------------------------------------------------ ID token

    def _id_token(
        self,
        provider: ProviderRecord,
        secret_values: dict[str, str],
        token: str,
        nonce: str | None,
    ) -> dict[str, Any]:
        invalid = UpstreamError(f"{provider.name} Error - invalid id_token")
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError):
            raise invalid from None
        alg = str(header.get("alg", ""))
        if alg not in ALGORITHMS:
            raise invalid
        key: OctKey | KeySet
        if alg.startswith("HS"):
            try:
                key = OctKey.import_key(secret_values.get("client_secret", ""))
            except (JoseError, ValueError):
                raise invalid from None
        else:
            key = self._jwks(provider)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except (JoseError, ValueError):
            raise UpstreamError(f"{provider.name} Error - invalid id_token signature") from None
        claims = dict(decoded.claims)
        details = provider.details
        issuers = GOOGLE_ISSUERS if provider.provider_type == GOOGLE else ()
        issuer = details.get("oidc_issuer", "")
        if claims.get("iss") not in (issuer, issuer.rstrip("/"), *issuers):
            raise UpstreamError(f"{provider.name} Error - id_token issuer mismatch")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if details.get("client_id") not in audiences:
            raise UpstreamError(f"{provider.name} Error - id_token audience mismatch")
        exp = claims.get("exp")
        now = self._clock.now_ms() // 1000
        if not isinstance(exp, int | float) or exp + LEEWAY_S <= now:
            raise UpstreamError(f"{provider.name} Error - id_token expired")
        if nonce is not None and not _same(claims.get("nonce"), nonce):
            raise UpstreamError(f"{provider.name} Error - id_token nonce mismatch")
        return claims

    def _jwks(self, provider: ProviderRecord) -> KeySet:
        url = provider.details.get("jwks_uri") or DEFAULT_JWKS.get(provider.provider_type)
        if not url:
            raise UpstreamError(f"{provider.name} Error - no jwks_uri")
        try:
            reply = self._outbound.get(url, headers={"Accept": "application/json"})
            document = reply.json() if reply.ok else None
            if not isinstance(document, dict):
                raise UpstreamError(f"{provider.name} Error - {reply.status} error getting keys")
            return KeySet.import_key_set(document)  # type: ignore[arg-type]
        except OutboundError as exc:
            raise UpstreamError(f"{provider.name} Error - {exc.message}") from None
        except (JoseError, ValueError, TypeError, KeyError):
            raise UpstreamError(f"{provider.name} Error - unusable jwks") from None

    # ------------------------------------------------------------------ attributes

    def _attributes(self, provider: ProviderRecord, url: str, access: str) -> dict[str, Any]:
        details = provider.details
        headers = {"Authorization": f"Bearer {access}", "Accept": "application/json"}
        if details.get("attributes_url_add_attributes") == "true":
            wanted = {"id", *provider.attribute_mapping.values()}
            url += ",".join(sorted(wanted))
        try:
            if details.get("attributes_request_method") == "POST":
                reply = self._outbound.post_form(url, {}, headers=headers)
            else:
                reply = self._outbound.get(url, headers=headers)
        except OutboundError as exc:
            if exc.message.startswith("Timeout"):
                raise UpstreamError("Timeout occurred in calling IdP userInfo endpoint") from None
            raise UpstreamError(f"{provider.name} Error - error getting user attributes") from None
        body = _json_object(reply)
        if not reply.ok or body is None:
            raise UpstreamError(
                f"{provider.name} Error - {reply.status} error getting user attributes"
            )
        return body


def _json_object(reply: Reply) -> dict[str, Any] | None:
    try:
        body = reply.json()
    except OutboundError:
        return None
    return body if isinstance(body, dict) else None


def _flat(value: Any) -> str:
    """A claim as the string a user attribute holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _apple_user(raw: str) -> dict[str, Any]:
    """Apple's `user` field: {"name": {"firstName", "lastName"}, "email"} on the first
    sign-in only."""
    try:
        user = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(user, dict):
        return {}
    found: dict[str, Any] = {}
    name = user.get("name")
    if isinstance(name, dict):
        for key in ("firstName", "lastName"):
            if isinstance(name.get(key), str):
                found[key] = name[key]
    if isinstance(user.get("email"), str):
        found["email"] = user["email"]
    return found


def _same(claim: Any, expected: str) -> bool:
    """A claim equal to the value this server sent, compared in constant time."""
    return isinstance(claim, str) and hmac.compare_digest(claim.encode(), expected.encode())
