"""Self-service user operations: sign-up and recovery (authorized by the app client) and a
signed-in user's own attributes and account (authorized by their access token)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("SignUp")
def sign_up(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.sign_up.sign_up(p)


@operation("ConfirmSignUp")
def confirm_sign_up(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account_codes.confirm_sign_up(p)


@operation("ResendConfirmationCode")
def resend_confirmation_code(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account_codes.resend_confirmation_code(p)


@operation("ForgotPassword")
def forgot_password(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account_codes.forgot_password(p)


@operation("ConfirmForgotPassword")
def confirm_forgot_password(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account_codes.confirm_forgot_password(p)


@operation("UpdateUserAttributes")
def update_user_attributes(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.self_attributes.update(
        p["AccessToken"], p["UserAttributes"], p.get("ClientMetadata")
    )


@operation("DeleteUserAttributes")
def delete_user_attributes(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.self_attributes.delete(p["AccessToken"], p["UserAttributeNames"])
    return {}


@operation("GetUserAttributeVerificationCode")
def get_user_attribute_verification_code(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.self_attributes.send_verification_code(
        p["AccessToken"], p["AttributeName"], p.get("ClientMetadata")
    )


@operation("VerifyUserAttribute")
def verify_user_attribute(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.self_attributes.verify(p["AccessToken"], p["AttributeName"], p["Code"])
    return {}


@operation("DeleteUser")
def delete_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.self_attributes.delete_user(p["AccessToken"])
    return {}
