"""A user pool's public key set and OpenID Connect discovery document.

`GET /<poolId>/.well-known/jwks.json` and `GET /<poolId>/.well-known/openid-configuration`,
the two documents JWT verifiers fetch (pycognito and generic OIDC libraries derive them
from the token's issuer; aws-jwt-verify's Cognito verifier fetches the JWKS by pool id).

The discovery document has Cognito's fields. Its OAuth 2.0 endpoints are the ones this
server serves for the pool's domain (web/oauth: `/_cognate/domains/<domain>/...`; the
pool's own path when it has no domain yet).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cognate.domain import messages
from cognate.domain.ids import region_of_pool_id
from cognate.domain.token_keys import TokenKeys
from cognate.domain.tokens import TokenIssuer
from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.pools import PoolRow


class WellKnown:
    def __init__(self, db: Database, keys: TokenKeys, issuer: TokenIssuer, base_url: str) -> None:
        self._db = db
        self._keys = keys
        self._issuer = issuer
        self._base_url = base_url.rstrip("/")

    def routes(self) -> list[Route]:
        return [
            Route("/{pool_id}/.well-known/jwks.json", self.jwks, methods=["GET"]),
            Route("/{pool_id}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
        ]

    async def jwks(self, request: Request) -> Response:
        pool = await run_in_threadpool(self._pool, request.path_params["pool_id"])
        if pool is None:
            return _not_found(request.path_params["pool_id"])
        document = await run_in_threadpool(self._keys.jwks, pool.pk, pool.id)
        return JSONResponse(document)

    async def discovery(self, request: Request) -> Response:
        pool = await run_in_threadpool(self._pool, request.path_params["pool_id"])
        if pool is None:
            return _not_found(request.path_params["pool_id"])
        domain_url = await run_in_threadpool(self._domain_url, pool)
        return JSONResponse(self.discovery_document(pool, domain_url))

    def discovery_document(self, pool: PoolRow, domain_url: str | None = None) -> dict[str, Any]:
        """Cognito's document; `domain_url`: served on a pool domain (web/oauth), whose
        endpoints it names (the issuer is the API's either way)."""
        oauth = domain_url or f"{self._base_url}/{pool.id}"
        jwks = f"{domain_url or self._base_url + '/' + pool.id}/.well-known/jwks.json"
        return {
            "authorization_endpoint": f"{oauth}/oauth2/authorize",
            "end_session_endpoint": f"{oauth}/logout",
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": self._issuer.issuer(pool.id, pool.region),
            "jwks_uri": jwks,
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "token_endpoint": f"{oauth}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "userinfo_endpoint": f"{oauth}/oauth2/userInfo",
        }

    def _domain_url(self, pool: PoolRow) -> str | None:
        """Where the pool's domain is served (web/oauth), if it has one."""
        domains = self._db.read("pool_domains", lambda c: domains_repo.of_pool(c, pool.pk))
        if not domains:
            return None
        domain = domains[0]
        name = domain.domain
        if domain.kind == "prefix":
            name = f"{name}.auth.{pool.region}.amazoncognito.com"
        return f"{self._base_url}/_cognate/domains/{name}"

    def _pool(self, pool_id: str) -> PoolRow | None:
        region = region_of_pool_id(pool_id)
        if region is None:
            return None
        return pools_repo.fetch_get(self._db.fetch, pool_id, region)


def _not_found(pool_id: str) -> Response:
    return JSONResponse({"message": messages.user_pool_not_found(pool_id)}, status_code=404)
