"""User pool replicas (multi-Region replication): Create/Delete/List/UpdateUserPoolReplica,
and the routing of requests made in a replica's region.

Model: a replica is not a copy. The pool keeps its id (Cognito's replicas share the user
pool id) and one row per secondary region (`user_pool_replicas`) says that the pool is also
served under that region name, by this deployment or by another one sharing the database.
A request whose region (SigV4 scope, or a `cognito-idp.<region>.` Host) is a replica's is
answered from the pool's own rows, so primary and secondary are in sync by construction.
`route()` runs before every handler and finds the pool from the UserPoolId, else (when the
request named its region) from the ClientId or the access token's `iss`; it costs nothing
when the request's region is the pool's own (or unnamed), and one indexed read otherwise.

Lifecycle (UserPoolReplicaType.Status): CreateUserPoolReplica answers CREATING; the replica
reads as CREATING for CREATE_DELAY_MS, then INACTIVE ("New secondary user pools start in the
INACTIVE state", developer guide, Multi-Region replication). UpdateUserPoolReplica sets
ACTIVE or INACTIVE, from either region. DeleteUserPoolReplica needs INACTIVE and the primary
region; it answers DELETING and the row is gone at once, so the region is unknown again.
ListUserPoolReplicas lists the primary (Role PRIMARY, Status ACTIVE) then the secondary, as
its documentation says it includes "both primary and secondary replicas".

Limits (developer guide): at most one secondary per pool (LimitExceededException); not on the
LITE feature plan (FeatureUnavailableInTierException); the primary's own region or a region
that already has the replica is an InvalidParameterException.

What a replica region serves (OperationNotEnabledException, documented for "operations that
are not supported in secondary replica regions"):
- CREATING: nothing (the pool does not exist there yet: ResourceNotFoundException).
- INACTIVE: administrator operations only; end-user operations (the model's unsigned ones)
  and the admin sign-in operations are refused.
- SECONDARY role (any status): reads, sign-in and token operations, sign-out, and the
  replica operations; anything that creates users or changes users or configuration
  (SignUp, AdminCreateUser, password resets, attribute updates, TOTP setup, pool and client
  changes) is refused: the primary is the authority for writes. The few writes whose model
  lists no OperationNotEnabledException (client secrets, identity providers) get
  InvalidParameterException; SetLogDeliveryConfiguration (log export is one of the
  documented per-replica settings) is allowed, and sets the pool's one configuration.
Tokens issued through a replica carry the pool's issuer (the same in every region, as the
multi-Region issuer Cognito requires for replication) and verify with the same JWKS.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidParameterException,
    LimitExceededException,
    OperationNotEnabledException,
    ResourceNotFoundException,
)
from cognate.domain import ids, messages
from cognate.domain.clock import Clock
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import replicas as replicas_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.replicas import ReplicaRow, Route

CREATE_DELAY_MS = 500
MAX_SECONDARIES = 1
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d{1,2}")
_REPLICA_OPS = frozenset(
    {"CreateUserPoolReplica", "DeleteUserPoolReplica", "ListUserPoolReplicas"}
    | {"UpdateUserPoolReplica"}
)
_ADMIN_SIGN_IN = frozenset({"AdminInitiateAuth", "AdminRespondToAuthChallenge"})
_SECONDARY_OPS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetTokensFromRefreshToken",
        "RevokeToken",
        "GlobalSignOut",
        "AdminUserGlobalSignOut",
        "ConfirmDevice",
        "UpdateUserPoolReplica",
        "ListUserPoolReplicas",
        "SetLogDeliveryConfiguration",
    }
    | _ADMIN_SIGN_IN
)
# Writes whose model lists no OperationNotEnabledException: refused as invalid instead.
_UNDECLARED = frozenset(
    {
        "AddUserPoolClientSecret",
        "DeleteUserPoolClientSecret",
        "CreateIdentityProvider",
        "UpdateIdentityProvider",
        "DeleteIdentityProvider",
    }
)
_READ_PREFIXES = ("Describe", "List", "Get", "AdminGet", "AdminList")
_NOT_READS = frozenset({"GetUserAttributeVerificationCode"})
_CLIENT_OPS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "SignUp",
        "ConfirmSignUp",
        "ResendConfirmationCode",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "GetTokensFromRefreshToken",
        "RevokeToken",
    }
)


def _status(row_status: str, ready_at: int, now: int) -> str:
    return "CREATING" if now < ready_at else row_status


def _pool_of_token(token: str) -> str | None:
    """The pool id an access token names (its `iss` ends with it), unverified: only
    used to route; the handler verifies the token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        return None
    return issuer.rstrip("/").rpartition("/")[2] or None


def _allowed_in_secondary(operation: str) -> bool:
    if operation in _SECONDARY_OPS:
        return True
    return operation.startswith(_READ_PREFIXES) and operation not in _NOT_READS


class ReplicaService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, account_id: str) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._account_id = account_id

    # ------------------------------------------------------------------ routing

    def route(
        self, region: str, explicit: bool, operation: str, params: dict[str, Any], *, public: bool
    ) -> tuple[str, str | None]:
        """(the region to run the request in, the replica region serving it or None).

        A request naming a pool by UserPoolId in another region than the pool id's, or an
        app client (ClientId-only operations) or an access token's pool in an explicitly
        given region, is checked
        against the replica there; when it may be served it runs in the pool's region.
        `public`: the operation is an end-user one (unsigned in the model)."""
        pool_id = params.get("UserPoolId")
        if isinstance(pool_id, str):
            home = ids.region_of_pool_id(pool_id)
            if home is None or home == region:
                return region, None
            route = replicas_repo.route_by_pool(self._db.fetch, pool_id, region)
            if route is None:
                return region, None  # the handler answers ResourceNotFoundException
            self._check(route, operation, public, lambda: messages.user_pool_not_found(pool_id))
            return route.pool_region, region
        token = params.get("AccessToken")
        if explicit and public and isinstance(token, str):
            pool_id = _pool_of_token(token)
            home = ids.region_of_pool_id(pool_id) if pool_id else None
            if pool_id is None or home is None or home == region:
                return region, None
            route = replicas_repo.route_by_pool(self._db.fetch, pool_id, region)
            if route is None:
                return region, None  # the handler judges the token
            self._check(route, operation, public, lambda: messages.user_pool_not_found(pool_id))
            return route.pool_region, region
        client_id = params.get("ClientId")
        if not explicit or operation not in _CLIENT_OPS or not isinstance(client_id, str):
            return region, None
        route = replicas_repo.route_by_client(self._db.fetch, client_id, region)
        if route is None or route.pool_region == region:
            return region, None
        if route.status is None:
            raise ResourceNotFoundException(messages.client_not_found(client_id))
        self._check(route, operation, public, lambda: messages.client_not_found(client_id))
        return route.pool_region, region

    def _check(self, route: Route, operation: str, public: bool, not_found: Any) -> None:
        assert route.status is not None
        status = _status(route.status, route.ready_at, self._clock.now_ms())
        if status == "CREATING":
            raise ResourceNotFoundException(not_found())
        if operation in _REPLICA_OPS:
            return
        end_user = public or operation in _ADMIN_SIGN_IN
        if status != "ACTIVE" and end_user:
            raise OperationNotEnabledException(
                f"The replica of user pool {route.pool_id} in this region is {status}: "
                "it does not accept end-user requests."
            )
        if not _allowed_in_secondary(operation):
            refused = (
                InvalidParameterException
                if operation in _UNDECLARED
                else OperationNotEnabledException
            )
            raise refused(
                f"{operation} is not supported in a secondary replica region of user pool "
                f"{route.pool_id}; make the request in its primary region {route.pool_region}."
            )

    # -------------------------------------------------------------- operations

    def _view(self, pool: PoolRow, replica: ReplicaRow, now: int) -> dict[str, Any]:
        return {
            "RegionName": replica.region,
            "Status": _status(replica.status, replica.ready_at, now),
            "Role": "SECONDARY",
            "UserPoolArn": ids.user_pool_arn(replica.region, self._account_id, pool.id),
        }

    def _primary_view(self, pool: PoolRow) -> dict[str, Any]:
        return {
            "RegionName": pool.region,
            "Status": "ACTIVE",
            "Role": "PRIMARY",
            "UserPoolArn": ids.user_pool_arn(pool.region, self._account_id, pool.id),
        }

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        target = request["RegionName"]
        if not _REGION.fullmatch(target):
            raise InvalidParameterException(f"{target} is not a valid AWS Region name.")
        tags: dict[str, str] = dict(request.get("UserPoolTags") or {})

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            if pool.settings.get("UserPoolTier") == "LITE":
                raise FeatureUnavailableInTierException(
                    "Multi-Region replication is not available in the LITE tier."
                )
            if target == pool.region:
                raise InvalidParameterException(
                    f"User pool {pool.id} is already in {target}: it is the primary Region."
                )
            existing = replicas_repo.of_pool(conn, pool.pk)
            if any(r.region == target for r in existing):
                raise InvalidParameterException(
                    f"User pool {pool.id} already has a replica in {target}."
                )
            if len(existing) >= MAX_SECONDARIES:
                raise LimitExceededException(
                    f"User pool {pool.id} already has {len(existing)} secondary replica; "
                    f"a user pool can have at most {MAX_SECONDARIES}."
                )
            now = self._clock.now_ms()
            ready_at = now + CREATE_DELAY_MS
            try:
                replicas_repo.insert(
                    conn,
                    pool_pk=pool.pk,
                    region=target,
                    status="INACTIVE",
                    tags=tags,
                    ready_at=ready_at,
                    now=now,
                )
            except IntegrityError:
                raise InvalidParameterException(
                    f"User pool {pool.id} already has a replica in {target}."
                ) from None
            row = ReplicaRow(0, target, "INACTIVE", tags, ready_at)
            return self._view(pool, row, now)

        return self._db.write("create_user_pool_replica", create_txn)

    def _require(self, conn: Connection, pool: PoolRow, target: str) -> ReplicaRow:
        replica = replicas_repo.get(conn, pool.pk, target)
        if replica is None:
            raise ResourceNotFoundException(f"User pool {pool.id} has no replica in {target}.")
        return replica

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        target, status = request["RegionName"], request["Status"]

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            if target == pool.region:
                raise InvalidParameterException(
                    f"{target} is the primary Region of user pool {pool.id}; only a "
                    "secondary replica's status can be set."
                )
            replica = self._require(conn, pool, target)
            now = self._clock.now_ms()
            if _status(replica.status, replica.ready_at, now) == "CREATING":
                raise InvalidParameterException(
                    f"The replica of user pool {pool.id} in {target} is still being created."
                )
            replicas_repo.set_status(conn, replica.pk, status, now)
            updated = ReplicaRow(replica.pk, target, status, replica.tags, replica.ready_at)
            return self._view(pool, updated, now)

        return self._db.write("update_user_pool_replica", update_txn)

    def delete(self, region: str, served: str | None, request: dict[str, Any]) -> dict[str, Any]:
        target = request["RegionName"]

        def delete_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            if served is not None:
                raise OperationNotEnabledException(
                    f"DeleteUserPoolReplica must be called from the primary Region {pool.region}."
                )
            if target == pool.region:
                raise InvalidParameterException(
                    f"{target} is the primary Region of user pool {pool.id}; delete the "
                    "user pool instead."
                )
            replica = self._require(conn, pool, target)
            now = self._clock.now_ms()
            current = _status(replica.status, replica.ready_at, now)
            if current != "INACTIVE":
                raise InvalidParameterException(
                    f"The replica of user pool {pool.id} in {target} is {current}: only an "
                    "INACTIVE replica can be deleted."
                )
            replicas_repo.delete(conn, replica.pk)
            gone = ReplicaRow(replica.pk, target, "DELETING", replica.tags, 0)
            return self._view(pool, gone, now)

        return self._db.write("delete_user_pool_replica", delete_txn)

    def list(
        self, region: str, pool_id: str, next_token: str | None, request_id: str
    ) -> dict[str, Any]:
        scope = f"replicas/{pool_id}"
        self._tokens.decode(scope, next_token, request_id)  # an invalid token is refused

        def list_txn(conn: Connection) -> tuple[PoolRow, list[ReplicaRow]]:
            pool = require_pool(conn, region, pool_id)
            return pool, replicas_repo.of_pool(conn, pool.pk)

        pool, rows = self._db.read("list_user_pool_replicas", list_txn)
        now = self._clock.now_ms()
        return {
            "UserPoolReplicas": [self._primary_view(pool)]
            + [self._view(pool, r, now) for r in rows]
        }
