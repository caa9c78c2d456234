"""SetRiskConfiguration and DescribeRiskConfiguration: threat protection's settings.

A pool has one risk configuration (no ClientId) and each app client may have its own,
which then replaces the pool's entirely for that client (the API reference: "When you
include both ClientId and UserPoolId, Amazon Cognito maps the configuration to the app
client only"). A request with only UserPoolId resets the pool to the defaults (nothing
configured: no automatic actions); with UserPoolId and ClientId only, the client goes back
to inheriting the pool's. Describe with a ClientId that has no configuration of its own
answers the pool's (without ClientId, as the reference describes inheritance).

All five threat-protection operations need the pool's UserPoolAddOns AdvancedSecurityMode
to be AUDIT or ENFORCED (which in turn needs the PLUS tier, pool_settings.check_tier):
otherwise UserPoolAddOnNotEnabledException.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    UserPoolAddOnNotEnabledException,
)
from cognate.domain import messages
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import threat_protection as repo
from cognate.storage.repos.pools import PoolRow

OFF, AUDIT, ENFORCED = "OFF", "AUDIT", "ENFORCED"
ADD_ON_NOT_ENABLED = "Advanced security features are not enabled for this user pool."
MEMBERS = (
    "CompromisedCredentialsRiskConfiguration",
    "AccountTakeoverRiskConfiguration",
    "RiskExceptionConfiguration",
)


def security_mode(settings: dict[str, Any]) -> str:
    """The pool's AdvancedSecurityMode: OFF, AUDIT or ENFORCED."""
    return str((settings.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode") or OFF)


def require_add_on(pool: PoolRow) -> None:
    if security_mode(pool.settings) == OFF:
        raise UserPoolAddOnNotEnabledException(ADD_ON_NOT_ENABLED)


def effective(conn: Connection, pool_pk: int, client_pk: int) -> dict[str, Any]:
    """The configuration that applies to sign-ins through this client ({} = defaults)."""
    rows = repo.effective_configs(conn, pool_pk, client_pk)
    return rows[0].config if rows else {}


def networks(ranges: list[str] | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(r, strict=False) for r in ranges or []]


def _check(request: dict[str, Any]) -> None:
    exceptions = request.get("RiskExceptionConfiguration") or {}
    for member in ("BlockedIPRangeList", "SkippedIPRangeList"):
        for cidr in exceptions.get(member) or []:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise InvalidParameterException(
                    f"{cidr} in {member} is not a valid IP address range in CIDR notation."
                ) from None
    takeover = request.get("AccountTakeoverRiskConfiguration")
    if takeover is not None:
        actions = takeover.get("Actions") or {}
        notifies = any((actions.get(level) or {}).get("Notify") for level in actions)
        if notifies and not takeover.get("NotifyConfiguration"):
            raise InvalidParameterException(
                "NotifyConfiguration is required when an account takeover action notifies."
            )


class RiskConfigurationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def set(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        _check(request)
        config = {m: request[m] for m in MEMBERS if request.get(m) is not None}
        now = self._clock.now_ms()

        def set_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            require_add_on(pool)
            client_pk = self._client_pk(conn, pool, request.get("ClientId"))
            if config:
                repo.put_config(conn, pool.pk, client_pk, config, now)
            else:
                repo.delete_config(conn, pool.pk, client_pk)
            return self._describe(conn, pool, request.get("ClientId"), client_pk)

        return {"RiskConfiguration": self._db.write("set_risk_configuration", set_txn)}

    def describe(self, region: str, pool_id: str, client_id: str | None) -> dict[str, Any]:
        def read(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            require_add_on(pool)
            client_pk = self._client_pk(conn, pool, client_id)
            return self._describe(conn, pool, client_id, client_pk)

        return {"RiskConfiguration": self._db.read("describe_risk_configuration", read)}

    @staticmethod
    def _client_pk(conn: Connection, pool: PoolRow, client_id: str | None) -> int | None:
        if client_id is None:
            return None
        client = clients_repo.by_client_id(conn, client_id)
        if client is None or client.pool_pk != pool.pk:
            raise ResourceNotFoundException(messages.client_not_found(client_id))
        return client.pk

    @staticmethod
    def _describe(
        conn: Connection, pool: PoolRow, client_id: str | None, client_pk: int | None
    ) -> dict[str, Any]:
        row = repo.get_config(conn, pool.pk, client_pk) if client_pk is not None else None
        view: dict[str, Any] = {"UserPoolId": pool.id}
        if row is not None:
            view["ClientId"] = client_id
        else:
            row = repo.get_config(conn, pool.pk, None)
        if row is not None:
            view.update(row.config)
            view["LastModifiedDate"] = ms_to_seconds(row.updated_at)
        return view
