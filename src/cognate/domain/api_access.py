"""Who may call the administrative API: open mode, or secure mode's keys and their policies.

In open mode (`auth = open`, the default) `secure` is False and nothing here runs: the
endpoint accepts any credentials and checks no signature. In secure mode the endpoint
verifies each signed request (wire/sigv4.py, with `secret_for` and `now`), then asks
`authorize` whether the signing key's policy (domain/access_policy.py) allows the operation
on its resource, which is:

* the user pool's ARN, `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>` (region
  from the pool id), for every operation that names a UserPoolId;
* the ResourceArn itself for TagResource, UntagResource and ListTagsForResource;
* the ARN of the app client's pool for GetClientToken and GetDerivedToken (which name only
  a ClientId); `*` if no such client exists;
* `*` for the operations that act on no pool: CreateUserPool, ListUserPools,
  DescribeUserPoolDomain, GetProvisionedLimit and UpdateProvisionedLimit. As in IAM, only a
  policy whose resources include `*` allows them.

A denial is AccessDeniedException worded as IAM words it for an identity-based policy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cognate.api.exceptions import AccessDeniedException
from cognate.domain.access_policy import AccessKey
from cognate.domain.clock import Clock
from cognate.domain.ids import region_of_pool_id
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo

_BY_CLIENT = frozenset({"GetClientToken", "GetDerivedToken"})


class ApiAccess:
    def __init__(
        self, db: Database, clock: Clock, keys: tuple[AccessKey, ...] | None, account_id: str
    ) -> None:
        self._db = db
        self._clock = clock
        self._account_id = account_id
        self._keys = {key.access_key_id: key for key in keys or ()}
        self.secure = keys is not None
        """Secure mode: signatures are required and verified, policies enforced."""

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock.now_ms() / 1000, dt.UTC)

    def secret_for(self, access_key_id: str) -> str | None:
        key = self._keys.get(access_key_id)
        return key.secret_access_key if key is not None else None

    def authorize(
        self, access_key_id: str, operation: str, params: dict[str, Any], region: str
    ) -> None:
        """Raise AccessDeniedException unless the key's policy allows the call."""
        key = self._keys[access_key_id]
        resource = self.resource(operation, params, region)
        if not key.allows(operation, resource):
            action = f"cognito-idp:{operation}"
            raise AccessDeniedException(
                f"User: {key.user_arn(self._account_id)} is not authorized to perform: "
                f"{action} on resource: {resource} because no identity-based policy allows "
                f"the {action} action"
            )

    def resource(self, operation: str, params: dict[str, Any], region: str) -> str:
        """The resource an operation acts on, as its IAM authorization names it."""
        pool_id = params.get("UserPoolId")
        if isinstance(pool_id, str):
            return self._pool_arn(pool_id, region_of_pool_id(pool_id) or region)
        arn = params.get("ResourceArn")
        if isinstance(arn, str):
            return arn
        client_id = params.get("ClientId")
        if operation in _BY_CLIENT and isinstance(client_id, str):
            found = clients_repo.fetch_with_pool(self._db.fetch, client_id)
            if found is not None:
                return self._pool_arn(found.pool.id, found.pool.region)
        return "*"

    def _pool_arn(self, pool_id: str, region: str) -> str:
        return f"arn:aws:cognito-idp:{region}:{self._account_id}:userpool/{pool_id}"
