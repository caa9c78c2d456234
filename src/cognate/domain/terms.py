"""Terms documents of app clients: Create/Describe/DescribeByClient/Update/Delete/ListTerms.

An app client has at most one document of each name (`terms-of-use`, `privacy-policy`);
another one of the same name is TermsExistsException, also when UpdateTerms renames a
document to a name the client already has. The only source is `LINK` (a map of managed
login language -> URL, `cognito:default` the fallback) and the only enforcement `NONE`.
Managed login shows the links on its sign-up page once both documents exist.

ListTerms lists the pool's documents (of every client) in creation order.

The hosted pages read a client's documents with `terms_for`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    TermsExistsException,
)
from cognate.domain.clients import require_client
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import terms as terms_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.terms import TermsRow

DEFAULT_MAX_RESULTS = 60


def _view(pool: PoolRow, row: TermsRow) -> dict[str, Any]:
    return {
        "TermsId": row.terms_id,
        "UserPoolId": pool.id,
        "ClientId": row.client_id,
        "TermsName": row.name,
        "TermsSource": row.source,
        "Enforcement": row.enforcement,
        "Links": row.links,
        "CreationDate": ms_to_seconds(row.created_at),
        "LastModifiedDate": ms_to_seconds(row.updated_at),
    }


def _summary(row: TermsRow) -> dict[str, Any]:
    return {
        "TermsId": row.terms_id,
        "TermsName": row.name,
        "Enforcement": row.enforcement,
        "CreationDate": ms_to_seconds(row.created_at),
        "LastModifiedDate": ms_to_seconds(row.updated_at),
    }


def _not_found(terms_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Terms {terms_id} does not exist.")


def _exists(name: str) -> TermsExistsException:
    return TermsExistsException(f"Terms with name {name} already exist for this app client.")


def terms_for(conn: Connection, pool_pk: int, client_id: str) -> list[dict[str, Any]]:
    """For the hosted pages: an app client's documents, [{TermsId, TermsName, Enforcement,
    Links}] (empty when there are none or the client doesn't exist)."""
    client = clients_repo.get(conn, pool_pk, client_id)
    if client is None:
        return []
    return [
        {
            "TermsId": row.terms_id,
            "TermsName": row.name,
            "Enforcement": row.enforcement,
            "Links": row.links,
        }
        for row in terms_repo.of_client(conn, client.pk)
    ]


class TermsService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TermsName"]
        links = request.get("Links")
        if not links:
            raise InvalidParameterException("Links is required when TermsSource is LINK.")

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            client = require_client(conn, pool, request["ClientId"])
            if terms_repo.by_name(conn, client.pk, name) is not None:
                raise _exists(name)
            terms_id = str(uuid.uuid4())
            terms_repo.insert(
                conn,
                pool_pk=pool.pk,
                client_pk=client.pk,
                terms_id=terms_id,
                name=name,
                source=request["TermsSource"],
                enforcement=request["Enforcement"],
                links=dict(links),
                now=self._clock.now_ms(),
            )
            row = terms_repo.by_id(conn, pool.pk, terms_id)
            assert row is not None
            return _view(pool, row)

        try:
            return self._db.write("create_terms", create_txn)
        except IntegrityError:  # the same name created concurrently
            raise _exists(name) from None

    def describe(self, region: str, pool_id: str, terms_id: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            row = terms_repo.by_id(conn, pool.pk, terms_id)
            if row is None:
                raise _not_found(terms_id)
            return _view(pool, row)

        return self._db.read("describe_terms", describe_txn)

    def describe_by_client(
        self, region: str, pool_id: str, client_id: str, name: str
    ) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id)
            row = terms_repo.by_name(conn, client.pk, name)
            if row is None:
                raise ResourceNotFoundException(
                    f"Terms with name {name} do not exist for app client {client_id}."
                )
            return _view(pool, row)

        return self._db.read("describe_terms_by_client", describe_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        terms_id = request["TermsId"]

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            row = terms_repo.by_id(conn, pool.pk, terms_id)
            if row is None:
                raise _not_found(terms_id)
            name = request.get("TermsName") or row.name
            if name != row.name and terms_repo.by_name(conn, row.client_pk, name) is not None:
                raise _exists(name)
            terms_repo.update(
                conn,
                row.pk,
                name=name,
                source=request.get("TermsSource") or row.source,
                enforcement=request.get("Enforcement") or row.enforcement,
                links=dict(request.get("Links") or row.links),
                now=self._clock.now_ms(),
            )
            updated = terms_repo.by_id(conn, pool.pk, terms_id)
            assert updated is not None
            return _view(pool, updated)

        try:
            return self._db.write("update_terms", update_txn)
        except IntegrityError:  # renamed to a name taken concurrently
            raise _exists(request.get("TermsName") or "") from None

    def delete(self, region: str, pool_id: str, terms_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            row = terms_repo.by_id(conn, pool.pk, terms_id)
            if row is None:
                raise _not_found(terms_id)
            terms_repo.delete(conn, row.pk)

        self._db.write("delete_terms", delete_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"terms/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = terms_repo.page(conn, pool.pk, after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page([_summary(r) for r in rows], next_token)

        return self._db.read("list_terms", list_txn)
