"""The administrator's user operations (Admin*) and ListUsers."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("AdminCreateUser")
def admin_create_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"User": svc.users.admin_create_user(ctx.region, p)}


@operation("AdminGetUser")
def admin_get_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.users.admin_get_user(ctx.region, p["UserPoolId"], p["Username"])


@operation("AdminDeleteUser")
def admin_delete_user(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.users.admin_delete_user(ctx.region, p["UserPoolId"], p["Username"])


@operation("AdminUpdateUserAttributes")
def admin_update_user_attributes(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.users.admin_update_user_attributes(ctx.region, p)


@operation("AdminDeleteUserAttributes")
def admin_delete_user_attributes(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.users.admin_delete_user_attributes(
        ctx.region, p["UserPoolId"], p["Username"], p["UserAttributeNames"]
    )


@operation("AdminDisableUser")
def admin_disable_user(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.users.set_enabled(ctx.region, p["UserPoolId"], p["Username"], enabled=False)


@operation("AdminEnableUser")
def admin_enable_user(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.users.set_enabled(ctx.region, p["UserPoolId"], p["Username"], enabled=True)


@operation("AdminResetUserPassword")
def admin_reset_user_password(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.user_passwords.admin_reset_user_password(
        ctx.region, p["UserPoolId"], p["Username"], p.get("ClientMetadata")
    )


@operation("AdminSetUserPassword")
def admin_set_user_password(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.user_passwords.admin_set_user_password(ctx.region, p)


@operation("AdminConfirmSignUp")
def admin_confirm_sign_up(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.user_passwords.admin_confirm_sign_up(
        ctx.region, p["UserPoolId"], p["Username"], p.get("ClientMetadata")
    )


@operation("ListUsers")
def list_users(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.user_search.list_users(ctx.region, p, ctx.request_id)
    return {"Users": page.items, "PaginationToken": page.next_token}
