"""App client operations, including client secret rotation."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.domain.clock import ms_to_seconds
from cognate.services import Services

Params = dict[str, Any]
DEFAULT_PAGE_SIZE = 60


@operation("CreateUserPoolClient")
def create_user_pool_client(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPoolClient": svc.clients.create(ctx.region, p)}


@operation("DescribeUserPoolClient")
def describe_user_pool_client(svc: Services, ctx: RequestContext, p: Params) -> Params:
    client = svc.clients.describe(ctx.region, p["UserPoolId"], p["ClientId"])
    return {"UserPoolClient": client}


@operation("UpdateUserPoolClient")
def update_user_pool_client(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPoolClient": svc.clients.update(ctx.region, p)}


@operation("DeleteUserPoolClient")
def delete_user_pool_client(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.clients.delete(ctx.region, p["UserPoolId"], p["ClientId"])


@operation("ListUserPoolClients")
def list_user_pool_clients(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.clients.list_clients(
        ctx.region,
        p["UserPoolId"],
        p.get("MaxResults", DEFAULT_PAGE_SIZE),
        p.get("NextToken"),
        p.get("ClientType"),
        ctx.request_id,
    )
    return {"UserPoolClients": page.items, "NextToken": page.next_token}


@operation("AddUserPoolClientSecret")
def add_user_pool_client_secret(svc: Services, ctx: RequestContext, p: Params) -> Params:
    secret = svc.clients.add_secret(
        ctx.region, p["UserPoolId"], p["ClientId"], p.get("ClientSecret")
    )
    descriptor: Params = {
        "ClientSecretId": secret.secret_id,
        "ClientSecretCreateDate": ms_to_seconds(secret.created_at),
    }
    if secret.generated:  # only a secret Cognito generated is returned
        descriptor["ClientSecretValue"] = secret.value
    return {"ClientSecretDescriptor": descriptor}


@operation("DeleteUserPoolClientSecret")
def delete_user_pool_client_secret(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.clients.delete_secret(ctx.region, p["UserPoolId"], p["ClientId"], p["ClientSecretId"])


@operation("ListUserPoolClientSecrets")
def list_user_pool_client_secrets(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"ClientSecrets": svc.clients.list_secrets(ctx.region, p["UserPoolId"], p["ClientId"])}
