"""Who is signing in, through which app client: loading and the client-level checks.

Every sign-in step starts here: the app client (by ClientId, or by UserPoolId + ClientId
for the admin operations), whether the client may use the flow (its ExplicitAuthFlows,
Cognito's defaults when it has none), its SECRET_HASH, and the user the USERNAME names
(a username or a verified alias).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.client_auth import (
    ClientScope,
    check_secret_hash,
    fetch_client,
    load_client,
)
from cognate.domain.client_settings import DEFAULT_AUTH_FLOWS
from cognate.domain.pools import require_pool
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import USER_NOT_FOUND, PoolScope, find_user
from cognate.storage.db import Database
from cognate.storage.repos import groups as groups_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.groups import GroupRow
from cognate.storage.repos.users import UserRow

# Flow -> the ExplicitAuthFlows values that allow it (modern, legacy).
_ALLOWED_BY = {
    "USER_SRP_AUTH": ("ALLOW_USER_SRP_AUTH", None),
    "USER_PASSWORD_AUTH": ("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"),
    "ADMIN_USER_PASSWORD_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
    "ADMIN_NO_SRP_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
    "REFRESH_TOKEN_AUTH": ("ALLOW_REFRESH_TOKEN_AUTH", None),
    "REFRESH_TOKEN": ("ALLOW_REFRESH_TOKEN_AUTH", None),
    "CUSTOM_AUTH": ("ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"),
    "USER_AUTH": ("ALLOW_USER_AUTH", None),
}
_ALWAYS_WITH_LEGACY = frozenset({"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})


@dataclass(frozen=True, slots=True)
class SignInUser:
    """A user being signed in, with what their tokens will say about them."""

    row: UserRow
    attributes: dict[str, str]


def client_flows(client: ClientRow) -> list[str]:
    return list(client.settings.get("ExplicitAuthFlows") or DEFAULT_AUTH_FLOWS)


def flow_allowed(client: ClientRow, flow: str) -> bool:
    flows = client_flows(client)
    modern, legacy = _ALLOWED_BY[flow]
    if modern in flows:
        return True
    uses_legacy = not any(f.startswith("ALLOW_") for f in flows)
    if not uses_legacy:
        return False
    if legacy is not None and legacy in flows:
        return True
    if "CUSTOM_AUTH_FLOW_ONLY" in flows:
        return flow == "CUSTOM_AUTH"
    return flow in _ALWAYS_WITH_LEGACY


def require_flow(client: ClientRow, flow: str) -> None:
    if not flow_allowed(client, flow):
        raise InvalidParameterException(messages.flow_not_enabled(flow))


def load_public(conn: Connection, client_id: str) -> ClientScope:
    """The client of a public (ClientId-only) operation."""
    return load_client(conn, client_id)


def client_of(db: Database, client_id: str) -> ClientScope:
    """The client of a public operation, in one statement."""
    return fetch_client(db.fetch, client_id)


def admin_client_of(db: Database, region: str, pool_id: str, client_id: str) -> ClientScope:
    """The client of an admin operation: it must belong to the named pool."""
    try:
        scope: ClientScope | None = fetch_client(db.fetch, client_id)
    except ResourceNotFoundException:
        scope = None
    if scope is None or scope.pool.pool.id != pool_id or scope.pool.pool.region != region:
        # Which one is missing: the pool (Cognito names it first) or the client.
        db.read("admin_client_pool", lambda c: require_pool(c, region, pool_id))
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    return scope


def check_client_secret_hash(
    db: Database, box: SecretBox, scope: ClientScope, username: str, given: str | None
) -> None:
    """SECRET_HASH of the request; no query when the client has no secret and none came."""
    if not scope.has_secret and given is None:
        return
    db.read("secret_hash", lambda c: check_secret_hash(c, box, scope.client, username, given))


def require_parameter(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameterException(messages.missing_auth_parameter(name))
    return value


def prevents_user_existence_errors(client: ClientRow) -> bool:
    return client.settings.get("PreventUserExistenceErrors") == "ENABLED"


def unknown_user(client: ClientRow) -> Exception:
    """What an unknown USERNAME gets: masked as a wrong password when the client
    prevents user-existence errors."""
    if prevents_user_existence_errors(client):
        return NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
    return UserNotFoundException(USER_NOT_FOUND)


def find_sign_in_user(db: Database, pool: PoolScope, username: str) -> SignInUser | None:
    """The user a USERNAME names: by username in one statement, else (alias pools) by a
    verified alias."""
    wanted = pool.sign_in.username_key(username)
    for found in users_repo.fetch_by_keys(db.fetch, pool.pool.pk, (username, wanted)):
        if found.key == wanted:
            return SignInUser(found.user, found.attributes)
    if not pool.sign_in.lookup_kinds():
        return None

    def by_alias(conn: Connection) -> SignInUser | None:
        user = find_user(conn, pool, username)
        if user is None:
            return None
        return SignInUser(user, users_repo.attributes(conn, user.pk))

    return db.read("sign_in_user", by_alias)


def user_by_pk(db: Database, user_pk: int) -> SignInUser | None:
    found = users_repo.fetch_with_attributes(db.fetch, user_pk)
    if found is None:
        return None
    return SignInUser(found.user, found.attributes)


def groups_of(db: Database, user_pk: int) -> list[GroupRow]:
    return groups_repo.fetch_of_user(db.fetch, user_pk)
