"""User pool domain operations."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateUserPoolDomain")
def create_user_pool_domain(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.domains.create(ctx.region, p)


@operation("DescribeUserPoolDomain")
def describe_user_pool_domain(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"DomainDescription": svc.domains.describe(ctx.region, p["Domain"])}


@operation("UpdateUserPoolDomain")
def update_user_pool_domain(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.domains.update(ctx.region, p)


@operation("DeleteUserPoolDomain")
def delete_user_pool_domain(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.domains.delete(ctx.region, p["UserPoolId"], p["Domain"])
