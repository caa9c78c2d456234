"""User pool replicas (multi-Region replication; the rules are in domain/replicas.py)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateUserPoolReplica")
def create_user_pool_replica(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPoolReplica": svc.replicas.create(ctx.region, p)}


@operation("UpdateUserPoolReplica")
def update_user_pool_replica(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPoolReplica": svc.replicas.update(ctx.region, p)}


@operation("DeleteUserPoolReplica")
def delete_user_pool_replica(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserPoolReplica": svc.replicas.delete(ctx.region, ctx.replica_region, p)}


@operation("ListUserPoolReplicas")
def list_user_pool_replicas(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.replicas.list(ctx.region, p["UserPoolId"], p.get("NextToken"), ctx.request_id)
