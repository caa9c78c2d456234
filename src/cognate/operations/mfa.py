"""MFA set-up: TOTP authenticators and users' factor preferences."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("AssociateSoftwareToken")
def associate_software_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.mfa_settings.associate(p.get("AccessToken"), p.get("Session"))


@operation("VerifySoftwareToken")
def verify_software_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.mfa_settings.verify(
        p.get("AccessToken"), p.get("Session"), p["UserCode"], p.get("FriendlyDeviceName")
    )


@operation("AdminDeleteSoftwareToken")
def admin_delete_software_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.mfa_settings.admin_delete_token(ctx.region, p["UserPoolId"], p["Username"])
    return {}


@operation("SetUserMFAPreference")
def set_user_mfa_preference(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.mfa_settings.set_preference(p["AccessToken"], p)
    return {}


@operation("AdminSetUserMFAPreference")
def admin_set_user_mfa_preference(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.mfa_settings.admin_set_preference(ctx.region, p)
    return {}


@operation("SetUserSettings")
def set_user_settings(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.mfa_settings.set_settings(p["AccessToken"], p["MFAOptions"])
    return {}


@operation("AdminSetUserSettings")
def admin_set_user_settings(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.mfa_settings.admin_set_settings(ctx.region, p["UserPoolId"], p["Username"], p["MFAOptions"])
    return {}
