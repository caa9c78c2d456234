"""User pool operations: CRUD, listing, custom attributes, MFA config, signing certificate."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateUserPool")
def create_user_pool(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPool": svc.pools.create(ctx.region, p)}


@operation("DescribeUserPool")
def describe_user_pool(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPool": svc.pools.describe(ctx.region, p["UserPoolId"])}


@operation("UpdateUserPool")
def update_user_pool(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.pools.update(ctx.region, p)


@operation("DeleteUserPool")
def delete_user_pool(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.pools.delete(ctx.region, p["UserPoolId"])


@operation("ListUserPools")
def list_user_pools(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.pools.list_pools(ctx.region, p["MaxResults"], p.get("NextToken"), ctx.request_id)
    return {"UserPools": page.items, "NextToken": page.next_token}


@operation("AddCustomAttributes")
def add_custom_attributes(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.pools.add_custom_attributes(ctx.region, p["UserPoolId"], p["CustomAttributes"])


@operation("GetUserPoolMfaConfig")
def get_user_pool_mfa_config(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.pool_mfa.get(ctx.region, p["UserPoolId"])


@operation("SetUserPoolMfaConfig")
def set_user_pool_mfa_config(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.pool_mfa.set(ctx.region, p)


@operation("GetSigningCertificate")
def get_signing_certificate(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Certificate": svc.keys.signing_certificate(ctx.region, p["UserPoolId"])}
