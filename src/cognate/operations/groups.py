"""Group operations and group membership."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateGroup")
def create_group(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Group": svc.groups.create(ctx.region, p)}


@operation("GetGroup")
def get_group(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Group": svc.groups.get(ctx.region, p["UserPoolId"], p["GroupName"])}


@operation("UpdateGroup")
def update_group(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Group": svc.groups.update(ctx.region, p)}


@operation("DeleteGroup")
def delete_group(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.groups.delete(ctx.region, p["UserPoolId"], p["GroupName"])


@operation("ListGroups")
def list_groups(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.groups.list_groups(
        ctx.region, p["UserPoolId"], p.get("Limit"), p.get("NextToken"), ctx.request_id
    )
    return {"Groups": page.items, "NextToken": page.next_token}


@operation("AdminAddUserToGroup")
def admin_add_user_to_group(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.groups.add_member(ctx.region, p["UserPoolId"], p["Username"], p["GroupName"])


@operation("AdminRemoveUserFromGroup")
def admin_remove_user_from_group(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.groups.remove_member(ctx.region, p["UserPoolId"], p["Username"], p["GroupName"])


@operation("AdminListGroupsForUser")
def admin_list_groups_for_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.groups.groups_of_user(
        ctx.region,
        p["UserPoolId"],
        p["Username"],
        p.get("Limit"),
        p.get("NextToken"),
        ctx.request_id,
    )
    return {"Groups": page.items, "NextToken": page.next_token}


@operation("ListUsersInGroup")
def list_users_in_group(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.groups.users_in_group(
        ctx.region,
        p["UserPoolId"],
        p["GroupName"],
        p.get("Limit"),
        p.get("NextToken"),
        ctx.request_id,
    )
    return {"Users": page.items, "NextToken": page.next_token}
