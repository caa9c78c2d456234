"""Who is signing in, through which app client: loading and the client-level checks.

Every sign-in step starts here: the app client (by ClientId, or by UserPoolId + ClientId
for the admin operations), whether the client may use the flow (its ExplicitAuthFlows,
Cognito's defaults when it has none), its SECRET_HASH, and the user the USERNAME names
(a username or a verified alias).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.client_auth import ClientScope, check_secret_hash, load_client
from cognate.domain.client_settings import DEFAULT_AUTH_FLOWS
from cognate.domain.pools import require_pool
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import USER_NOT_FOUND, PoolScope, find_user
from cognate.storage.repos import groups as groups_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.clients import ClientRow
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


def load_admin(conn: Connection, region: str, pool_id: str, client_id: str) -> ClientScope:
    """The client of an admin operation: it must belong to the named pool."""
    pool = require_pool(conn, region, pool_id)
    scope = load_client(conn, client_id)
    if scope.pool.pool.pk != pool.pk:
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    return scope


def require_parameter(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameterException(messages.missing_auth_parameter(name))
    return value


def check_client_secret(
    conn: Connection, box: SecretBox, scope: ClientScope, username: str, given: str | None
) -> None:
    check_secret_hash(conn, box, scope.client, username, given)


def prevents_user_existence_errors(client: ClientRow) -> bool:
    return client.settings.get("PreventUserExistenceErrors") == "ENABLED"


def unknown_user(client: ClientRow) -> Exception:
    """What an unknown USERNAME gets: masked as a wrong password when the client
    prevents user-existence errors."""
    if prevents_user_existence_errors(client):
        return NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
    return UserNotFoundException(USER_NOT_FOUND)


def find_sign_in_user(conn: Connection, pool: PoolScope, username: str) -> SignInUser | None:
    user = find_user(conn, pool, username)
    if user is None:
        return None
    return SignInUser(user, users_repo.attributes(conn, user.pk))


def user_by_pk(conn: Connection, user_pk: int) -> SignInUser | None:
    user = users_repo.by_pk(conn, user_pk)
    if user is None:
        return None
    return SignInUser(user, users_repo.attributes(conn, user.pk))


def groups_of(conn: Connection, user_pk: int) -> list[Any]:
    return groups_repo.groups_of_user(conn, user_pk, 0, 100)
