"""Client ID Metadata Document (CIMD) clients: an HTTPS URL used as `client_id` at the
pool domain's /oauth2/authorize, /login and /oauth2/token.

The pool's CIMD policy whose URL patterns match the URL (the first, in creation order)
names the app client the URL stands for. Its metadata document is fetched (outbound
HTTPS, 5 KB at most, HTTP 200, a JSON object) and must be a public client's registration
(draft-ietf-oauth-client-id-metadata-document; Cognito's CIMD guide): `client_id` equal to
the URL, non-empty `redirect_uris`, `token_endpoint_auth_method` "none" (Cognito supports
no confidential CIMD client: no `client_secret`, no private_key_jwt). A valid document is
cached under the policy until the document's Cache-Control max-age when that is between
one day and one year, else the policy's CacheDuration.

The request then runs as the policy's app client (its pool, scopes, token validity,
triggers) seen through the document: the document's redirect_uris are the callback URLs
(and post_logout_redirect_uris the logout URLs), the OAuth flows are those both the app
client and the document (grant_types / response_types) allow, never client_credentials,
the scopes those both allow (the document's `scope`, when it has one), no client secret,
and token revocation always on (every token names its session, so GetUser and
/oauth2/userInfo find it). The `client_id` of the scope is the URL, so access tokens carry
it as `client_id` and ID tokens as `aud`. Authorization codes require PKCE with S256 (a
public client; OAuth 2.1). A refresh token is issued only when the document's grant_types
include refresh_token.

URL patterns: `*` in the host stands for one or more letters, digits or hyphens inside one
label (it never crosses `.`, `:` or `/`); in the path it stands for any run of characters
other than `?` and `#`; everything else matches literally (the host case-insensitively).
Anything that does not resolve is an unknown client to the caller.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.errors import ServiceError
from cognate.domain.client_auth import ClientScope, load_client
from cognate.domain.clock import Clock
from cognate.outbound.http import Outbound, OutboundError
from cognate.storage.db import Database
from cognate.storage.repos import cimd as cimd_repo
from cognate.storage.repos.cimd import PolicyRow

log = logging.getLogger(__name__)

DEFAULT_CACHE_SECONDS = 86_400
MAX_CACHE_SECONDS = 31_556_952
MAX_DOCUMENT_BYTES = 5_120
CIMD_KEY = "CIMD"  # in a CIMD scope's settings: the URL, the app client, refresh allowed
_GRANT_FLOWS = {"authorization_code": ("code", "code"), "implicit": ("implicit", "token")}
_HOST_WILDCARD = "[a-z0-9-]+"
_PATH_WILDCARD = "[^?#]*"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class DocumentError(Exception):
    """The metadata document could not be fetched, or is not an acceptable one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------- URLs and patterns


def is_url_client_id(client_id: str | None) -> bool:
    """Whether a client_id is a metadata document URL (app client ids never hold `:`)."""
    return bool(client_id) and str(client_id).lower().startswith("https://")


def valid_document_url(url: str) -> bool:
    """The draft's rules for a client_id URL: https, a host, a path, no fragment, no
    user info, no dot segments; at most 256 characters (Cognito's MetadataURLType)."""
    if len(url) > 256 or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or not parts.hostname or "#" in url:
        return False
    if "@" in parts.netloc or not parts.path or parts.path == "/":
        return False
    return not any(seg in (".", "..") for seg in parts.path.split("/"))


def _split(url: str) -> tuple[str, str]:
    """(authority, rest) of an https URL or pattern."""
    body = url[len("https://") :]
    authority, slash, rest = body.partition("/")
    return authority, slash + rest


def pattern_problem(pattern: str) -> str | None:
    """Why a URL pattern is not acceptable (None when it is)."""
    authority, path = _split(pattern)
    if not path or path == "/":
        return f"URL pattern {pattern} must include a path."
    if "#" in pattern or "@" in authority:
        return f"URL pattern {pattern} must not contain a fragment or user information."
    host = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
    labels = host.split(".")
    if not host or any(not label for label in labels):
        return f"URL pattern {pattern} has no valid host."
    if any("*" in label for label in labels[-2:]):
        return f"URL pattern {pattern} must name its domain without a wildcard."
    return None


def _compile(pattern: str) -> re.Pattern[str]:
    authority, path = _split(pattern)
    host_re = _HOST_WILDCARD.join(re.escape(p) for p in authority.lower().split("*"))
    path_re = _PATH_WILDCARD.join(re.escape(p) for p in path.split("*"))
    return re.compile(f"https://{host_re}{path_re}")


def matches(pattern: str, url: str) -> bool:
    authority, path = _split(url)
    normalized = f"https://{authority.lower()}{path}"
    return _compile(pattern).fullmatch(normalized) is not None


def matching_policy(policies: list[PolicyRow], url: str) -> PolicyRow | None:
    for policy in policies:
        if any(matches(p, url) for p in policy.url_patterns):
            return policy
    return None


# ---------------------------------------------------------------------- documents


def cache_seconds(policy: PolicyRow, headers: dict[str, str]) -> int:
    """The document's max-age when it is between a day and a year, else the policy's."""
    control = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
    found = _MAX_AGE.search(control)
    if found is not None and DEFAULT_CACHE_SECONDS <= int(found.group(1)) <= MAX_CACHE_SECONDS:
        return int(found.group(1))
    return policy.cache_seconds or DEFAULT_CACHE_SECONDS


def check_document(url: str, document: Any) -> dict[str, Any]:
    """The document, when it is an acceptable public client's registration for `url`."""
    if not isinstance(document, dict):
        raise DocumentError("The client metadata document is not a JSON object.")
    if document.get("client_id") != url:
        raise DocumentError("The client_id of the client metadata document is not its URL.")
    redirects = document.get("redirect_uris")
    if (
        not isinstance(redirects, list)
        or not redirects
        or not all(isinstance(r, str) and r for r in redirects)
    ):
        raise DocumentError("The client metadata document has no redirect_uris.")
    if document.get("token_endpoint_auth_method") != "none":
        raise DocumentError(
            "The client metadata document's token_endpoint_auth_method is not none."
        )
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise DocumentError("A client metadata document must not contain a client secret.")
    for key in ("grant_types", "response_types", "post_logout_redirect_uris"):
        value = document.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise DocumentError(f"The client metadata document's {key} is not a list of strings.")
    if "scope" in document and not isinstance(document["scope"], str):
        raise DocumentError("The client metadata document's scope is not a string.")
    return document


def client_view(scope: ClientScope, url: str, document: dict[str, Any]) -> ClientScope:
    """The policy's app client as the URL's document registers it (see the module doc)."""
    app = scope.client
    settings = dict(app.settings)
    grants = document.get("grant_types") or ["authorization_code"]
    responses = document.get("response_types") or ["code"]
    wanted = {
        flow
        for grant, (flow, response) in _GRANT_FLOWS.items()
        if grant in grants and response in responses
    }
    allowed = settings.get("AllowedOAuthScopes") or []
    if isinstance(document.get("scope"), str):
        asked = set(document["scope"].split())
        allowed = [s for s in allowed if s in asked]
    settings.update(
        CallbackURLs=list(document["redirect_uris"]),
        LogoutURLs=list(document.get("post_logout_redirect_uris") or []),
        AllowedOAuthFlows=[f for f in settings.get("AllowedOAuthFlows") or [] if f in wanted],
        AllowedOAuthScopes=allowed,
        EnableTokenRevocation=True,
    )
    settings[CIMD_KEY] = {
        "url": url,
        "ClientId": app.client_id,
        "refresh": "refresh_token" in grants,
    }
    name = document.get("client_name")
    client = dataclasses.replace(
        app,
        client_id=url,
        settings=settings,
        name=name if isinstance(name, str) and name else app.name,
    )
    return ClientScope(client, scope.pool, has_secret=False)


def url_of(scope: ClientScope) -> str | None:
    """The metadata document URL a scope stands for (None: an ordinary app client)."""
    facts = scope.client.settings.get(CIMD_KEY)
    return str(facts["url"]) if isinstance(facts, dict) else None


def app_client_id(scope: ClientScope) -> str:
    """The id of the app client behind a scope (itself, for an ordinary app client)."""
    facts = scope.client.settings.get(CIMD_KEY)
    return str(facts["ClientId"]) if isinstance(facts, dict) else scope.client.client_id


def may_refresh(scope: ClientScope) -> bool:
    facts = scope.client.settings.get(CIMD_KEY)
    return bool(facts["refresh"]) if isinstance(facts, dict) else True


# ---------------------------------------------------------------------- resolution


class URLClients:
    """Resolves metadata document URLs to clients, fetching and caching documents."""

    def __init__(self, db: Database, clock: Clock, outbound: Outbound) -> None:
        self._db = db
        self._clock = clock
        self._outbound = outbound

    def fetch(self, policy: PolicyRow, url: str) -> None:
        """Fetch and check the document of `url`, then cache it under the policy."""
        try:
            reply = self._outbound.get(url, headers={"Accept": "application/json"})
        except OutboundError as exc:
            raise DocumentError(exc.message) from None
        if reply.status != 200:
            raise DocumentError(f"The client metadata document URL answered {reply.status}.")
        if len(reply.body) > MAX_DOCUMENT_BYTES:
            raise DocumentError("The client metadata document is larger than 5 KB.")
        try:
            document = check_document(url, reply.json())
        except OutboundError as exc:
            raise DocumentError(exc.message) from None
        now = self._clock.now_ms()
        expires = now + cache_seconds(policy, reply.headers) * 1000

        def store(conn: Connection) -> None:
            cimd_repo.store(conn, policy.pk, url, document, now, expires)

        with contextlib.suppress(IntegrityError):  # cached concurrently: keep theirs
            self._db.write("cimd_cache_document", store)

    def resolve(self, pool_pk: int, url: str) -> ClientScope | None:
        """The client `url` stands for in the pool; None when it stands for none."""
        if not valid_document_url(url):
            return None

        def load(conn: Connection) -> tuple[PolicyRow, ClientScope, dict[str, Any] | None] | None:
            policy = matching_policy(cimd_repo.of_pool(conn, pool_pk), url)
            if policy is None or policy.client_id is None:
                return None
            try:
                scope = load_client(conn, policy.client_id)
            except ServiceError:
                return None
            cached = cimd_repo.cached(conn, policy.pk, url)
            fresh = cached is not None and cached.expires_at > self._clock.now_ms()
            return policy, scope, cached.document if cached is not None and fresh else None

        found = self._db.read("cimd_client", load)
        if found is None:
            return None
        policy, scope, document = found
        if scope.pool.settings.get("UserPoolTier", "ESSENTIALS") == "LITE":
            return None
        if document is None:
            try:
                self.fetch(policy, url)
            except DocumentError as exc:
                log.info("CIMD client %s refused: %s", url, exc.message)
                return None
            cached = self._db.read("cimd_cached", lambda c: cimd_repo.cached(c, policy.pk, url))
            if cached is None:  # invalidated meanwhile
                return None
            document = cached.document
        return client_view(scope, url, document)


_installed: list[URLClients] = []


def install(clients: URLClients) -> None:
    """Make `clients` the process's resolver (the endpoints' checks are module functions)."""
    _installed[:] = [clients]


def resolve(pool_pk: int, url: str) -> ClientScope | None:
    return _installed[0].resolve(pool_pk, url) if _installed else None
