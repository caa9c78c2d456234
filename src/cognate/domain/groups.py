"""User pool groups and their members.

Group names are unique in a pool regardless of case. UpdateGroup changes only the
properties it is given. Deleting a group or a user removes their memberships (foreign
keys cascade), so no membership outlives either side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import GroupExistsException, ResourceNotFoundException
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page
from cognate.domain.user_store import PoolScope, load_scope, require_user, user_summary
from cognate.storage.db import Database
from cognate.storage.repos import groups as groups_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.groups import GroupRow

GROUP_NOT_FOUND = "Group not found."  # observed
DEFAULT_LIMIT = 60


def group_view(pool_id: str, group: GroupRow) -> dict[str, Any]:
    return {
        "GroupName": group.name,
        "UserPoolId": pool_id,
        "Description": group.description,
        "RoleArn": group.role_arn,
        "Precedence": group.precedence,
        "LastModifiedDate": ms_to_seconds(group.updated_at),
        "CreationDate": ms_to_seconds(group.created_at),
    }


def require_group(conn: Connection, scope: PoolScope, name: str) -> GroupRow:
    group = groups_repo.get(conn, scope.pool.pk, name)
    if group is None:
        raise ResourceNotFoundException(GROUP_NOT_FOUND)
    return group


class GroupService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        name = request["GroupName"]

        def create_txn(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, request["UserPoolId"], lock=True)
            if groups_repo.get(conn, scope.pool.pk, name) is not None:
                raise GroupExistsException(f"A group with the name {name} already exists.")
            now = self._clock.now_ms()
            groups_repo.insert(
                conn,
                pool_pk=scope.pool.pk,
                name=name,
                name_key=groups_repo.name_key(name),
                description=request.get("Description"),
                role_arn=request.get("RoleArn"),
                precedence=request.get("Precedence"),
                created_at=now,
                updated_at=now,
            )
            return group_view(scope.pool.id, require_group(conn, scope, name))

        return self._db.write("create_group", create_txn, conflicts=1)

    def get(self, region: str, pool_id: str, name: str) -> dict[str, Any]:
        def get_txn(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, pool_id)
            return group_view(scope.pool.id, require_group(conn, scope, name))

        return self._db.read("get_group", get_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        def update_txn(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, request["UserPoolId"])
            group = require_group(conn, scope, request["GroupName"])
            changes: dict[str, Any] = {"updated_at": self._clock.now_ms()}
            for member, column in (
                ("Description", "description"),
                ("RoleArn", "role_arn"),
                ("Precedence", "precedence"),
            ):
                if member in request:
                    changes[column] = request[member]
            groups_repo.update(conn, group.pk, **changes)
            return group_view(scope.pool.id, require_group(conn, scope, request["GroupName"]))

        return self._db.write("update_group", update_txn)

    def delete(self, region: str, pool_id: str, name: str) -> None:
        def delete_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            groups_repo.delete(conn, require_group(conn, scope, name).pk)

        self._db.write("delete_group", delete_txn)

    def list_groups(
        self, region: str, pool_id: str, limit: int | None, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"groups/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)
        size = limit or DEFAULT_LIMIT

        def list_txn(conn: Connection) -> Page:
            scope = load_scope(conn, region, pool_id)
            rows = groups_repo.list_page(conn, scope.pool.pk, after, size + 1)
            return self._page(scope_name, rows, size, lambda g: group_view(scope.pool.id, g))

        return self._db.read("list_groups", list_txn)

    def _page(self, scope_name: str, rows: list[Any], size: int, view: Any) -> Page:
        more = len(rows) > size
        rows = rows[:size]
        token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
        return Page([view(row) for row in rows], token)

    # ------------------------------------------------------------------ membership

    def add_member(self, region: str, pool_id: str, username: str, group_name: str) -> None:
        def add_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username, for_update=True)
            group = require_group(conn, scope, group_name)
            groups_repo.add_member(conn, group.pk, user.pk)

        self._db.write("admin_add_user_to_group", add_txn, conflicts=1)

    def remove_member(self, region: str, pool_id: str, username: str, group_name: str) -> None:
        def remove_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            group = require_group(conn, scope, group_name)
            groups_repo.remove_member(conn, group.pk, user.pk)

        self._db.write("admin_remove_user_from_group", remove_txn)

    def groups_of_user(
        self,
        region: str,
        pool_id: str,
        username: str,
        limit: int | None,
        token: str | None,
        request_id: str,
    ) -> Page:
        size = limit or DEFAULT_LIMIT

        def list_txn(conn: Connection) -> Page:
            scope = load_scope(conn, region, pool_id)
            user = require_user(conn, scope, username)
            scope_name = f"user-groups/{pool_id}/{user.sub}"
            after = self._tokens.decode(scope_name, token, request_id)
            rows = groups_repo.groups_of_user(conn, user.pk, after, size + 1)
            return self._page(scope_name, rows, size, lambda g: group_view(scope.pool.id, g))

        return self._db.read("admin_list_groups_for_user", list_txn)

    def users_in_group(
        self,
        region: str,
        pool_id: str,
        group_name: str,
        limit: int | None,
        token: str | None,
        request_id: str,
    ) -> Page:
        size = limit or DEFAULT_LIMIT

        def list_txn(conn: Connection) -> Page:
            scope = load_scope(conn, region, pool_id)
            group = require_group(conn, scope, group_name)
            scope_name = f"group-users/{pool_id}/{group.pk}"
            after = self._tokens.decode(scope_name, token, request_id)
            rows = groups_repo.users_of_group(conn, group.pk, after, size + 1)
            more = len(rows) > size
            rows = rows[:size]
            values = users_repo.attributes_of(conn, [u.pk for u in rows])
            items = [user_summary(u, values[u.pk]) for u in rows]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page(items, next_token)

        return self._db.read("list_users_in_group", list_txn)
