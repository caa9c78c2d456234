"""Tags on user pools, addressed by ARN (TagResource, UntagResource, ListTagsForResource).

Writes lock the pool row first, so concurrent tag changes serialize and the 50-tag limit
holds under concurrency on every database.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cognate.api.exceptions import InvalidParameterException, ResourceNotFoundException
from cognate.domain import messages
from cognate.domain.pools import MAX_TAGS, check_tags, require_pool
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.pools import PoolRow


class TagService:
    def __init__(self, db: Database, account_id: str) -> None:
        self._db = db
        self._account_id = account_id

    def _pool_of(self, conn: Connection, region: str, arn: str, *, lock: bool) -> PoolRow:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "cognito-idp":
            raise InvalidParameterException(f"Invalid ARN: {arn}")
        _, _partition, _service, arn_region, account, resource = parts
        kind, _, pool_id = resource.partition("/")
        if kind != "userpool" or not pool_id:
            raise InvalidParameterException(f"Invalid ARN: {arn}")
        if arn_region != region or account != self._account_id:
            raise ResourceNotFoundException(messages.resource_not_found(arn))
        try:
            return require_pool(conn, region, pool_id, for_update=lock)
        except ResourceNotFoundException:
            raise ResourceNotFoundException(messages.resource_not_found(arn)) from None

    def tag(self, region: str, arn: str, tags: dict[str, str]) -> None:
        check_tags(tags)

        def tag_txn(conn: Connection) -> None:
            pool = self._pool_of(conn, region, arn, lock=True)
            merged = {**pool.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise InvalidParameterException(f"A user pool can have at most {MAX_TAGS} tags.")
            pools_repo.set_tags(conn, pool.pk, merged)

        self._db.write("tag_resource", tag_txn)

    def untag(self, region: str, arn: str, keys: list[str]) -> None:
        def untag_txn(conn: Connection) -> None:
            pool = self._pool_of(conn, region, arn, lock=True)
            remaining = {k: v for k, v in pool.tags.items() if k not in set(keys)}
            pools_repo.set_tags(conn, pool.pk, remaining)

        self._db.write("untag_resource", untag_txn)

    def list_tags(self, region: str, arn: str) -> dict[str, str]:
        def list_txn(conn: Connection) -> dict[str, str]:
            return self._pool_of(conn, region, arn, lock=False).tags

        return self._db.read("list_tags_for_resource", list_txn)
