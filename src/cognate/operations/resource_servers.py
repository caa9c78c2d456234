"""OAuth 2.0 resource servers (their custom scopes are granted to app clients)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateResourceServer")
def create_resource_server(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"ResourceServer": svc.resource_servers.create(ctx.region, p)}


@operation("DescribeResourceServer")
def describe_resource_server(svc: Services, ctx: RequestContext, p: Params) -> Params:
    server = svc.resource_servers.describe(ctx.region, p["UserPoolId"], p["Identifier"])
    return {"ResourceServer": server}


@operation("UpdateResourceServer")
def update_resource_server(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"ResourceServer": svc.resource_servers.update(ctx.region, p)}


@operation("DeleteResourceServer")
def delete_resource_server(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.resource_servers.delete(ctx.region, p["UserPoolId"], p["Identifier"])
    return {}


@operation("ListResourceServers")
def list_resource_servers(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.resource_servers.list(
        ctx.region, p["UserPoolId"], p.get("MaxResults") or 50, p.get("NextToken"), ctx.request_id
    )
    result: Params = {"ResourceServers": page.items}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
