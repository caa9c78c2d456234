"""Point-in-time recovery of a pool's user data (see domain/point_in_time.py)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("InitiatePointInTimeRecovery")
def initiate_point_in_time_recovery(svc: Services, ctx: RequestContext, p: Params) -> Params:
    restoration = svc.point_in_time.initiate(ctx.region, p["UserPoolId"], p["RestoreTimestamp"])
    return {"Restoration": restoration}


@operation("DescribePointInTimeRecovery")
def describe_point_in_time_recovery(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Restoration": svc.point_in_time.describe(ctx.region, p["UserPoolId"], p["RestoreId"])}


@operation("ListPointInTimeRecoveries")
def list_point_in_time_recoveries(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.point_in_time.list(
        ctx.region, p["UserPoolId"], p.get("MaxResults") or 60, p.get("NextToken"), ctx.request_id
    )
    result: Params = {"Restorations": page.items}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@operation("StartPointInTimeRecovery")
def start_point_in_time_recovery(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Restoration": svc.point_in_time.start(ctx.region, p["UserPoolId"], p["RestoreId"])}


@operation("CancelPointInTimeRecovery")
def cancel_point_in_time_recovery(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Restoration": svc.point_in_time.cancel(ctx.region, p["UserPoolId"], p["RestoreId"])}
