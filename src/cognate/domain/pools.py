"""User pools: create, describe, update, delete, list, and add custom attributes.

Every operation is one named transaction. A pool belongs to one region: lookups are by
(id, region), so a pool is invisible from another region, as in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import InvalidParameterException, ResourceNotFoundException
from cognate.domain import ids, messages, pool_schema, pool_settings
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.pools import PoolRow


def require_pool(
    conn: Connection, region: str, pool_id: str, *, for_update: bool = False
) -> PoolRow:
    """The pool, or ResourceNotFoundException in Cognito's words."""
    pool = pools_repo.get(conn, pool_id, region, for_update=for_update)
    if pool is None:
        raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
    return pool


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_token: str | None


class PoolService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, account_id: str) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._account_id = account_id

    # ------------------------------------------------------------------ create / read

    def create(
        self, region: str, request: dict[str, Any], *, pool_id: str | None = None
    ) -> dict[str, Any]:
        """CreateUserPool. `pool_id` (not an API parameter: `cognate serve --seed` only)
        gives the new pool that id instead of a random one."""
        if pool_id is not None:
            check_fixed_pool_id(region, pool_id)
        settings = pool_settings.for_create(request)
        tags = dict(request.get("UserPoolTags") or {})
        check_tags(tags)
        now = self._clock.now_ms()

        def create_txn(conn: Connection) -> dict[str, Any]:
            new_id = pool_id or ids.new_user_pool_id(region)
            if pool_id is not None and pools_repo.get(conn, pool_id, region) is not None:
                raise InvalidParameterException(f"User pool {pool_id} already exists.")
            pk = pools_repo.insert(
                conn,
                pool_id=new_id,
                region=region,
                name=request["PoolName"],
                settings=settings,
                tags=tags,
                now=now,
            )
            return self._view(
                PoolRow(pk, new_id, region, request["PoolName"], settings, tags, now, now)
            )

        # A new random id that is already taken makes the insert fail: draw again.
        return self._db.write("create_user_pool", create_txn, conflicts=2)

    def describe(self, region: str, pool_id: str) -> dict[str, Any]:
        described = pools_repo.fetch_described(self._db.fetch, pool_id, region)
        if described is None:
            raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
        pool, user_count = described
        return self._view(pool, users=user_count)

    def all_pool_ids(self, only: list[str] | None = None) -> list[tuple[int, str]]:
        """(pk, id) of every pool, or of the pools named in `only` (an unknown one is an
        error)."""
        found = self._db.read("pool_ids", pools_repo.ids)
        if only is None:
            return found
        by_id = dict((pool_id, pk) for pk, pool_id in found)
        for pool_id in only:
            if pool_id not in by_id:
                raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
        return [(by_id[pool_id], pool_id) for pool_id in only]

    def arn(self, pool: PoolRow) -> str:
        return ids.user_pool_arn(pool.region, self._account_id, pool.id)

    def _view(self, pool: PoolRow, *, users: int = 0) -> dict[str, Any]:
        """The UserPoolType members of a pool (internal settings are dropped on the wire)."""
        view: dict[str, Any] = dict(pool.settings)
        view.update(
            Id=pool.id,
            Name=pool.name,
            Arn=self.arn(pool),
            CreationDate=ms_to_seconds(pool.created_at),
            LastModifiedDate=ms_to_seconds(pool.updated_at),
            EstimatedNumberOfUsers=users,
            UserPoolTags=pool.tags,
            Domain=pool.prefix_domain,
            CustomDomain=pool.custom_domain,
        )
        return view

    def list_pools(
        self, region: str, max_results: int, next_token: str | None, request_id: str
    ) -> Page:
        scope = f"pools/{region}"
        after = self._tokens.decode(scope, next_token, request_id)

        def list_txn(conn: Connection) -> Page:
            rows = pools_repo.list_page(conn, region, after, max_results + 1)
            more = len(rows) > max_results
            rows = rows[:max_results]
            items = [
                {
                    "Id": row.id,
                    "Name": row.name,
                    "LambdaConfig": row.settings.get("LambdaConfig", {}),
                    "CreationDate": ms_to_seconds(row.created_at),
                    "LastModifiedDate": ms_to_seconds(row.updated_at),
                }
                for row in rows
            ]
            token = self._tokens.encode(scope, rows[-1].pk) if more else None
            return Page(items, token)

        return self._db.read("list_user_pools", list_txn)

    # ------------------------------------------------------------------ update / delete

    def update(self, region: str, request: dict[str, Any]) -> None:
        pool_id = request["UserPoolId"]
        tags = request.get("UserPoolTags")
        if tags is not None:
            check_tags(tags)

        def update_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id, for_update=True)
            settings = pool_settings.for_update(request, pool.settings)
            # Omitted tags are cleared, like every UpdateUserPool member without a kept value.
            pools_repo.update(
                conn,
                pool.pk,
                now=self._clock.now_ms(),
                name=request.get("PoolName", pool.name),
                settings=settings,
                tags=tags or {},
            )

        self._db.write("update_user_pool", update_txn)

    def unchanged_by(self, region: str, request: dict[str, Any]) -> bool:
        """Whether UpdateUserPool with `request` would leave the pool as it is (`cognate
        serve --seed` updates only what changed)."""

        def check_txn(conn: Connection) -> bool:
            pool = require_pool(conn, region, request["UserPoolId"])
            settings = pool_settings.for_update(request, pool.settings)
            return (
                settings == pool.settings
                and request.get("PoolName", pool.name) == pool.name
                and (request.get("UserPoolTags") or {}) == pool.tags
            )

        return self._db.read("compare_user_pool", check_txn)

    def delete(self, region: str, pool_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id, for_update=True)
            if pool.settings.get("DeletionProtection") == "ACTIVE":
                raise InvalidParameterException(messages.DELETION_PROTECTED)
            if domains_repo.of_pool(conn, pool.pk):
                raise InvalidParameterException(messages.POOL_HAS_DOMAIN_ON_DELETE)
            pools_repo.delete(conn, pool.pk)

        self._db.write("delete_user_pool", delete_txn)

    def add_custom_attributes(
        self, region: str, pool_id: str, attributes: list[dict[str, Any]]
    ) -> None:
        def add_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id, for_update=True)
            settings = dict(pool.settings)
            settings["SchemaAttributes"] = pool_schema.add_custom_attributes(
                settings.get("SchemaAttributes", []), attributes
            )
            pools_repo.update(conn, pool.pk, now=self._clock.now_ms(), settings=settings)

        self._db.write("add_custom_attributes", add_txn)


MAX_TAGS = 50
_FIXED_POOL_ID = re.compile(r"[0-9a-zA-Z]{1,22}")


def check_fixed_pool_id(region: str, pool_id: str) -> None:
    """A chosen pool id must look like Cognito's: `<region>_<letters and digits>`."""
    prefix, _, suffix = pool_id.rpartition("_")
    if prefix != region or not _FIXED_POOL_ID.fullmatch(suffix):
        raise InvalidParameterException(
            f"User pool id {pool_id!r} must be {region}_ followed by 1-22 letters and digits."
        )


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterException(f"A user pool can have at most {MAX_TAGS} tags.")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(
                f"Tag keys starting with 'aws:' are reserved for use by AWS: {key}"
            )
