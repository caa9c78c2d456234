"""Provisioned limits: the request rate of an API category (GetProvisionedLimit,
UpdateProvisionedLimit). Enforcement is in domain/rate_limits.py, called by the endpoint."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("GetProvisionedLimit")
def get_provisioned_limit(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Limit": svc.rate_limits.get(ctx.region, p["LimitDefinition"])}


@operation("UpdateProvisionedLimit")
def update_provisioned_limit(svc: Services, ctx: RequestContext, p: Params) -> Params:
    limit = svc.rate_limits.update(ctx.region, p["LimitDefinition"], p["RequestedLimitValue"])
    return {"Limit": limit}
