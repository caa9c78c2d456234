"""Client ID Metadata Document (CIMD) policies and their document cache: CreateCIMDPolicy,
DescribeCIMDPolicy, UpdateCIMDPolicy, DeleteCIMDPolicy, ListCIMDPolicies,
ListClientMetadataURLs and UpdateClientMetadataURLState.

A policy maps one to five HTTPS URL patterns to one app client of the pool (how URLs
are matched, fetched and used: cimd_clients.py). Its id is 32 lower-case hex characters
(`^[a-z0-9]+$`); CacheDuration defaults to 86,400 seconds and is always returned. A pool
has at most 20 policies (Cognate's quota; LimitExceededException). UpdateCIMDPolicy
replaces the client and the patterns, and PolicyName / CacheDuration when given; cached
documents whose URL no longer matches the patterns are dropped. A policy whose app client
was deleted omits ClientId (the model's words) and resolves no URL.

Feature plan: the operations whose model lists FeatureUnavailableInTierException
(create, update, UpdateClientMetadataURLState) refuse LITE pools; describing, listing and
deleting work on every plan. OperationNotEnabledException (replica regions) never arises:
Cognate has no replicas. UpdateClientMetadataURLState acts only on a cached URL
(CachedCIMDURLDoesNotExistException otherwise): REFRESH fetches the document again and
replaces the cached copy (a fetch or document problem is InvalidParameterException and
leaves the cache as it was), INVALIDATE removes it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    CachedCIMDURLDoesNotExistException,
    FeatureUnavailableInTierException,
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from cognate.domain import messages
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.federation.cimd_clients import (
    DEFAULT_CACHE_SECONDS,
    DocumentError,
    URLClients,
    matches,
    pattern_problem,
)
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.storage.db import Database
from cognate.storage.repos import cimd as cimd_repo
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos.cimd import PolicyRow
from cognate.storage.repos.pools import PoolRow

MAX_PER_POOL = 20


def _summary(policy: PolicyRow) -> dict[str, Any]:
    view: dict[str, Any] = {"CIMDPolicyId": policy.policy_id}
    if policy.client_id is not None:
        view["ClientId"] = policy.client_id
    view.update(
        PolicyName=policy.name,
        CacheDuration=policy.cache_seconds or DEFAULT_CACHE_SECONDS,
        CreationDate=ms_to_seconds(policy.created_at),
        LastModifiedDate=ms_to_seconds(policy.updated_at),
    )
    return view


def _view(pool: PoolRow, policy: PolicyRow) -> dict[str, Any]:
    summary = _summary(policy)
    return {
        "UserPoolId": pool.id,
        **summary,
        "URLPatterns": list(policy.url_patterns),
    }


def _patterns(given: list[str]) -> list[str]:
    patterns = list(dict.fromkeys(given))
    for pattern in patterns:
        problem = pattern_problem(pattern)
        if problem is not None:
            raise InvalidParameterException(problem)
    return patterns


def _not_found(policy_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"CIMD policy {policy_id} does not exist.")


def _check_tier(pool: PoolRow) -> None:
    if pool.settings.get("UserPoolTier", "ESSENTIALS") == "LITE":
        raise FeatureUnavailableInTierException(
            "The following feature is not available for the LITE pricing tier configured: "
            "Client ID metadata documents"
        )


def _client_pk(conn: Connection, pool: PoolRow, client_id: str) -> int:
    client = clients_repo.by_client_id(conn, client_id)
    if client is None or client.pool_pk != pool.pk:
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    return client.pk


def _policy(conn: Connection, pool: PoolRow, policy_id: str) -> PolicyRow:
    policy = cimd_repo.get(conn, pool.pk, policy_id)
    if policy is None:
        raise _not_found(policy_id)
    return policy


class CIMDService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, clients: URLClients) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._clients = clients

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        patterns = _patterns(request["URLPatterns"])
        policy_id = secrets.token_hex(16)

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            _check_tier(pool)
            client_pk = _client_pk(conn, pool, request["ClientId"])
            if cimd_repo.count(conn, pool.pk) >= MAX_PER_POOL:
                raise LimitExceededException(
                    f"A user pool can have at most {MAX_PER_POOL} CIMD policies."
                )
            cimd_repo.insert(
                conn,
                pool_pk=pool.pk,
                client_pk=client_pk,
                policy_id=policy_id,
                name=request["PolicyName"],
                cache_seconds=request.get("CacheDuration") or DEFAULT_CACHE_SECONDS,
                url_patterns=patterns,
                now=self._clock.now_ms(),
            )
            return _view(pool, _policy(conn, pool, policy_id))

        return self._db.write("create_cimd_policy", create_txn)

    def describe(self, region: str, pool_id: str, policy_id: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            return _view(pool, _policy(conn, pool, policy_id))

        return self._db.read("describe_cimd_policy", describe_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        patterns = _patterns(request["URLPatterns"])
        policy_id = request["CIMDPolicyId"]

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            _check_tier(pool)
            policy = _policy(conn, pool, policy_id)
            values: dict[str, Any] = {
                "client_pk": _client_pk(conn, pool, request["ClientId"]),
                "url_patterns": patterns,
                "updated_at": self._clock.now_ms(),
            }
            if request.get("PolicyName") is not None:
                values["name"] = request["PolicyName"]
            if request.get("CacheDuration") is not None:
                values["cache_seconds"] = request["CacheDuration"]
            cimd_repo.update(conn, policy.pk, **values)
            after = 0
            while batch := cimd_repo.cached_page(conn, policy.pk, after, 100):
                for row in batch:
                    if not any(matches(p, row.url) for p in patterns):
                        cimd_repo.forget(conn, policy.pk, row.url)
                after = batch[-1].pk
            return _view(pool, _policy(conn, pool, policy_id))

        return self._db.write("update_cimd_policy", update_txn)

    def delete(self, region: str, pool_id: str, policy_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            cimd_repo.delete(conn, _policy(conn, pool, policy_id).pk)

        self._db.write("delete_cimd_policy", delete_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"cimd-policies/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = cimd_repo.page(conn, pool.pk, after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page([_summary(r) for r in rows], next_token)

        return self._db.read("list_cimd_policies", list_txn)

    # ------------------------------------------------------------------ the document cache

    def list_urls(
        self,
        region: str,
        pool_id: str,
        policy_id: str,
        limit: int,
        token: str | None,
        request_id: str,
    ) -> Page:
        scope_name = f"cimd-urls/{pool_id}/{policy_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            policy = _policy(conn, pool, policy_id)
            rows = cimd_repo.cached_page(conn, policy.pk, after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            items = [
                {
                    "URL": r.url,
                    "CachedDate": ms_to_seconds(r.cached_at),
                    "ExpirationDate": ms_to_seconds(r.expires_at),
                }
                for r in rows
            ]
            return Page(items, next_token)

        return self._db.read("list_client_metadata_urls", list_txn)

    def update_url_state(self, region: str, request: dict[str, Any]) -> None:
        url, action = request["URL"], request["Action"]
        policy_id = request["CIMDPolicyId"]

        def find(conn: Connection) -> PolicyRow:
            pool = require_pool(conn, region, request["UserPoolId"])
            _check_tier(pool)
            policy = _policy(conn, pool, policy_id)
            if cimd_repo.cached(conn, policy.pk, url) is None:
                raise CachedCIMDURLDoesNotExistException(
                    f"No client metadata document is cached for {url}."
                )
            return policy

        if action == "INVALIDATE":

            def invalidate(conn: Connection) -> None:
                cimd_repo.forget(conn, find(conn).pk, url)

            self._db.write("invalidate_client_metadata_url", invalidate)
            return
        policy = self._db.read("refresh_client_metadata_url", find)
        try:
            self._clients.fetch(policy, url)
        except DocumentError as exc:
            raise InvalidParameterException(
                f"Unable to refresh the client metadata document: {exc.message}"
            ) from None
