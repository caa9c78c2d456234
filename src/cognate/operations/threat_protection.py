"""Threat protection: risk configuration and the user event history with its feedback."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("SetRiskConfiguration")
def set_risk_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.risk_configuration.set(ctx.region, p)


@operation("DescribeRiskConfiguration")
def describe_risk_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.risk_configuration.describe(ctx.region, p["UserPoolId"], p.get("ClientId"))


@operation("AdminListUserAuthEvents")
def admin_list_user_auth_events(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.auth_event_history.list(ctx.region, p, ctx.request_id)


@operation("AdminUpdateAuthEventFeedback")
def admin_update_auth_event_feedback(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.auth_event_history.admin_feedback(ctx.region, p)
    return {}


@operation("UpdateAuthEventFeedback")
def update_auth_event_feedback(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.auth_event_history.user_feedback(ctx.region, p)
    return {}
