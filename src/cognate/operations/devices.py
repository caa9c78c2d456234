"""Remembered devices: confirmation, listing, status and forgetting."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.domain.pools import Page
from cognate.services import Services

Params = dict[str, Any]


def _devices(page: Page) -> Params:
    result: Params = {"Devices": page.items}
    if page.next_token:
        result["PaginationToken"] = page.next_token
    return result


@operation("ConfirmDevice")
def confirm_device(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.devices.confirm(p["AccessToken"], p)


@operation("GetDevice")
def get_device(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.devices.get(p.get("AccessToken"), p["DeviceKey"])


@operation("AdminGetDevice")
def admin_get_device(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.devices.admin_get(ctx.region, p["UserPoolId"], p["Username"], p["DeviceKey"])


@operation("ListDevices")
def list_devices(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.devices.list(
        p["AccessToken"], p.get("Limit"), p.get("PaginationToken"), ctx.request_id
    )
    return _devices(page)


@operation("AdminListDevices")
def admin_list_devices(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.devices.admin_list(
        ctx.region,
        p["UserPoolId"],
        p["Username"],
        p.get("Limit"),
        p.get("PaginationToken"),
        ctx.request_id,
    )
    return _devices(page)


@operation("ForgetDevice")
def forget_device(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.devices.forget(p.get("AccessToken"), p["DeviceKey"])
    return {}


@operation("AdminForgetDevice")
def admin_forget_device(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.devices.admin_forget(ctx.region, p["UserPoolId"], p["Username"], p["DeviceKey"])
    return {}


@operation("UpdateDeviceStatus")
def update_device_status(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.devices.update_status(p["AccessToken"], p["DeviceKey"], p.get("DeviceRememberedStatus"))
    return {}


@operation("AdminUpdateDeviceStatus")
def admin_update_device_status(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.devices.admin_update_status(
        ctx.region,
        p["UserPoolId"],
        p["Username"],
        p["DeviceKey"],
        p.get("DeviceRememberedStatus"),
    )
    return {}
