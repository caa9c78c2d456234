"""OAuth 2.0 resource servers: the custom scopes a pool's app clients can be granted.

A resource server has an identifier (often a URL), a name and up to 100 scopes; a pool
has at most 25 (Cognito's quota). Its scopes are named `<identifier>/<scope name>` in
app clients' AllowedOAuthScopes and in access tokens. UpdateResourceServer replaces the
name and the scope list as given.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from cognate.domain.clock import Clock
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.storage.db import Database
from cognate.storage.repos import resource_servers as servers_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.resource_servers import ResourceServerRow

MAX_PER_POOL = 25


def custom_scopes(conn: Connection, pool_pk: int) -> frozenset[str]:
    """Every `<identifier>/<scope>` the pool's resource servers define."""
    return frozenset(
        f"{server.identifier}/{scope['ScopeName']}"
        for server in servers_repo.of_pool(conn, pool_pk)
        for scope in server.scopes
    )


def _view(pool: PoolRow, server: ResourceServerRow) -> dict[str, Any]:
    view: dict[str, Any] = {
        "UserPoolId": pool.id,
        "Identifier": server.identifier,
        "Name": server.name,
    }
    if server.scopes:
        view["Scopes"] = server.scopes
    return view


def _scopes(given: list[dict[str, str]] | None) -> list[dict[str, str]]:
    scopes = list(given or [])
    names = [s["ScopeName"] for s in scopes]
    if len(set(names)) != len(names):
        raise InvalidParameterException("Duplicate scope names are not allowed.")
    return [
        {"ScopeName": s["ScopeName"], "ScopeDescription": s["ScopeDescription"]} for s in scopes
    ]


def _not_found(identifier: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Resource server {identifier} does not exist.")


class ResourceServerService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        identifier = request["Identifier"]
        scopes = _scopes(request.get("Scopes"))

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            if servers_repo.get(conn, pool.pk, identifier) is not None:
                raise InvalidParameterException(
                    f"Resource server with identifier {identifier} already exists."
                )
            if servers_repo.count(conn, pool.pk) >= MAX_PER_POOL:
                raise LimitExceededException(
                    f"A user pool can have at most {MAX_PER_POOL} resource servers."
                )
            servers_repo.insert(
                conn,
                pool_pk=pool.pk,
                identifier=identifier,
                name=request["Name"],
                scopes=scopes,
                now=self._clock.now_ms(),
            )
            created = servers_repo.get(conn, pool.pk, identifier)
            assert created is not None
            return _view(pool, created)

        try:
            return self._db.write("create_resource_server", create_txn)
        except IntegrityError:  # created concurrently
            raise InvalidParameterException(
                f"Resource server with identifier {identifier} already exists."
            ) from None

    def describe(self, region: str, pool_id: str, identifier: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            server = servers_repo.get(conn, pool.pk, identifier)
            if server is None:
                raise _not_found(identifier)
            return _view(pool, server)

        return self._db.read("describe_resource_server", describe_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        identifier = request["Identifier"]
        scopes = _scopes(request.get("Scopes"))

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            server = servers_repo.get(conn, pool.pk, identifier)
            if server is None:
                raise _not_found(identifier)
            now = self._clock.now_ms()
            servers_repo.update(conn, server.pk, name=request["Name"], scopes=scopes, now=now)
            updated = ResourceServerRow(server.pk, identifier, request["Name"], scopes)
            return _view(pool, updated)

        return self._db.write("update_resource_server", update_txn)

    def delete(self, region: str, pool_id: str, identifier: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            server = servers_repo.get(conn, pool.pk, identifier)
            if server is None:
                raise _not_found(identifier)
            servers_repo.delete(conn, server.pk)

        self._db.write("delete_resource_server", delete_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"resource-servers/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = servers_repo.page(conn, pool.pk, after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page([_view(pool, r) for r in rows], next_token)

        return self._db.read("list_resource_servers", list_txn)
