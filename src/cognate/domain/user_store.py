"""What every user operation shares: finding users, writing attributes, sealed passwords.

`PoolScope` bundles a pool with its sign-in rules and attribute schema. `find_user`
resolves a `Username` parameter the way Cognito does (the username, or a sign-in alias).
`write_attributes` stores attribute changes and keeps the unique sign-in identifiers in
step, with Cognito's answers to conflicts. `PasswordVault` seals password records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    AliasExistsException,
    ResourceNotFoundException,
    UsernameExistsException,
    UserNotFoundException,
)
from cognate.domain import attributes as attrs
from cognate.domain import messages, mfa_preferences
from cognate.domain.attributes import AttributeSchema
from cognate.domain.clock import ms_to_seconds
from cognate.domain.passwords import PasswordRecord
from cognate.domain.pools import require_pool
from cognate.domain.secretbox import SecretBox
from cognate.domain.usernames import EMAIL, PREFERRED_USERNAME, VERIFIED_FLAG, SignIn
from cognate.storage.db import Fetch
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

USER_NOT_FOUND = "User does not exist."  # observed


class UserStatus(StrEnum):
    """UserStatusType values Cognito still uses."""

    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"
    FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"
    RESET_REQUIRED = "RESET_REQUIRED"
    EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"


_FOLDED_ATTRIBUTES = frozenset({EMAIL, PREFERRED_USERNAME})


@dataclass(frozen=True, slots=True)
class PoolScope:
    pool: PoolRow
    sign_in: SignIn
    schema: AttributeSchema

    @property
    def settings(self) -> dict[str, Any]:
        return self.pool.settings


def scope_of(pool: PoolRow) -> PoolScope:
    return PoolScope(
        pool,
        SignIn.of(pool.id, pool.settings),
        AttributeSchema(pool.settings.get("SchemaAttributes", [])),
    )


def load_scope(conn: Connection, region: str, pool_id: str, *, lock: bool = False) -> PoolScope:
    return scope_of(require_pool(conn, region, pool_id, for_update=lock))


def fetch_scope(fetch: Fetch, region: str, pool_id: str) -> PoolScope:
    """`load_scope` outside a transaction, by `Database.fetch`."""
    pool = pools_repo.fetch_get(fetch, pool_id, region)
    if pool is None:
        raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
    return scope_of(pool)


def find_user(
    conn: Connection, scope: PoolScope, username: str, *, for_update: bool = False
) -> UserRow | None:
    """The user a `Username` parameter names: by username, else by a sign-in alias."""
    sign_in = scope.sign_in
    user = users_repo.by_username(
        conn, scope.pool.pk, sign_in.username_key(username), for_update=for_update
    )
    if user is not None:
        return user
    for kind in sign_in.lookup_kinds():
        owner = users_repo.owner_of(
            conn, scope.pool.pk, kind, sign_in.identifier_hash(kind, username)
        )
        if owner is not None:
            return users_repo.by_pk(conn, owner, for_update=for_update)
    return None


def require_user(
    conn: Connection, scope: PoolScope, username: str, *, for_update: bool = False
) -> UserRow:
    user = find_user(conn, scope, username, for_update=for_update)
    if user is None:
        raise UserNotFoundException(USER_NOT_FOUND)
    return user


def search_key(scope: PoolScope, name: str, value: str) -> str:
    fold = name in _FOLDED_ATTRIBUTES and not scope.sign_in.case_sensitive
    return attrs.search_key(value, fold=fold)


def write_attributes(
    conn: Connection,
    scope: PoolScope,
    user_pk: int,
    old: dict[str, str],
    new: dict[str, str],
    *,
    creating: bool,
    force_alias: bool,
) -> None:
    """Store `new` as the user's attributes (given `old`), keeping identifiers unique."""
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    removed = [k for k in old if k not in new]
    _move_identifiers(conn, scope, user_pk, old, new, creating=creating, force_alias=force_alias)
    if removed:
        users_repo.delete_attributes(conn, user_pk, removed)
    if changed:
        users_repo.put_attributes(
            conn,
            scope.pool.pk,
            user_pk,
            {k: (v, search_key(scope, k, v)) for k, v in changed.items()},
            new_user=creating,
        )


def _move_identifiers(
    conn: Connection,
    scope: PoolScope,
    user_pk: int,
    old: dict[str, str],
    new: dict[str, str],
    *,
    creating: bool,
    force_alias: bool,
) -> None:
    sign_in = scope.sign_in
    pool_pk = scope.pool.pk
    held = sign_in.claimed_identifiers(old)
    wanted = sign_in.claimed_identifiers(new)
    for kind, value in held.items():
        if wanted.get(kind) != value:
            users_repo.release_identifier(conn, pool_pk, kind, sign_in.identifier_hash(kind, value))
    for kind, value in wanted.items():
        if held.get(kind) == value:
            continue
        digest = sign_in.identifier_hash(kind, value)
        owner = users_repo.owner_of(conn, pool_pk, kind, digest)
        if owner is not None and owner != user_pk:
            _conflict(conn, scope, kind, owner, creating=creating, force_alias=force_alias)
            users_repo.release_identifier(conn, pool_pk, kind, digest)
        users_repo.claim_identifier(conn, pool_pk, kind, digest, user_pk)


def _conflict(
    conn: Connection,
    scope: PoolScope,
    kind: str,
    owner: int,
    *,
    creating: bool,
    force_alias: bool,
) -> None:
    """Another user holds the identifier: fail as Cognito does, or take the alias over.

    Creating a user, the conflict is a UsernameExistsException naming the attribute (the
    only one the model declares for AdminCreateUser, and what Cognito was seen to answer);
    updating one, an AliasExistsException.
    """
    if creating and not (
        force_alias and kind in VERIFIED_FLAG and kind in scope.sign_in.alias_attributes
    ):
        raise UsernameExistsException(f"An account with the given {kind} already exists.")
    if kind in scope.sign_in.username_attributes or kind == PREFERRED_USERNAME or not force_alias:
        raise AliasExistsException(f"An account with the {kind} already exists.")
    # ForceAliasCreation: the alias moves, and the previous holder's value is unverified.
    users_repo.put_attributes(
        conn,
        scope.pool.pk,
        owner,
        {VERIFIED_FLAG[kind]: ("false", "false")},
    )


class PasswordVault:
    """Seals a user's password record and history with the master key."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, sub: str, record: PasswordRecord) -> str:
        return self._box.seal(dumps(record.to_json()), f"password/{sub}")

    def open(self, user: UserRow) -> PasswordRecord | None:
        if user.password_enc is None:
            return None
        return PasswordRecord.from_json(
            loads(self._box.open(user.password_enc, f"password/{user.sub}"))
        )

    def seal_history(self, sub: str, history: list[PasswordRecord]) -> str | None:
        if not history:
            return None
        return self._box.seal(dumps([r.to_json() for r in history]), f"password-history/{sub}")

    def open_history(self, user: UserRow) -> list[PasswordRecord]:
        if user.password_history_enc is None:
            return []
        raw = loads(self._box.open(user.password_history_enc, f"password-history/{user.sub}"))
        return [PasswordRecord.from_json(item) for item in raw]


def user_summary(user: UserRow, values: dict[str, str]) -> dict[str, Any]:
    """UserType: what AdminCreateUser and ListUsers return for a user."""
    return {
        "Username": user.username,
        "Attributes": attrs.as_pairs({attrs.SUB: user.sub, **values}),
        "UserCreateDate": ms_to_seconds(user.created_at),
        "UserLastModifiedDate": ms_to_seconds(user.updated_at),
        "Enabled": user.enabled,
        "UserStatus": user.status,
    }


def user_details(user: UserRow, values: dict[str, str]) -> dict[str, Any]:
    """AdminGetUser's response members (GetUser's are a subset)."""
    summary = user_summary(user, values)
    summary["UserAttributes"] = summary.pop("Attributes")
    summary.update(mfa_preferences.user_fields(user))
    return summary
