"""Sign-in, tokens, sign-out and the signed-in user's own account."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.domain.auth.token_sessions import Activity
from cognate.services import Services

Params = dict[str, Any]


def _activity(ctx: RequestContext, p: Params | None = None) -> Activity:
    """Where the request came from. The admin operations are called by a server for its
    user: their ContextData (IpAddress, the user's User-Agent among HttpHeaders) describes
    the user, as Cognito's threat protection reads it."""
    p = p or {}
    metadata = p.get("ClientMetadata") or {}
    ip, agent = ctx.source_ip, ctx.user_agent
    context = p.get("ContextData")
    if context:
        ip = context.get("IpAddress") or ip
        headers = {
            str(h.get("headerName", "")).lower(): str(h.get("headerValue", ""))
            for h in context.get("HttpHeaders") or []
        }
        agent = headers.get("user-agent", agent)
    claimed = (p.get("UserContextData") or {}).get("IpAddress")
    return Activity(ip=ip, device_type=agent, client_metadata=metadata, claimed_ip=claimed)


@operation("InitiateAuth")
def initiate_auth(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.initiate_auth.initiate(ctx.region, p, admin=False, activity=_activity(ctx, p))


@operation("AdminInitiateAuth")
def admin_initiate_auth(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.initiate_auth.initiate(ctx.region, p, admin=True, activity=_activity(ctx, p))


@operation("RespondToAuthChallenge")
def respond_to_auth_challenge(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.respond_to_auth.respond(ctx.region, p, admin=False, activity=_activity(ctx, p))


@operation("AdminRespondToAuthChallenge")
def admin_respond_to_auth_challenge(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.respond_to_auth.respond(ctx.region, p, admin=True, activity=_activity(ctx, p))


@operation("GetTokensFromRefreshToken")
def get_tokens_from_refresh_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    scope = svc.refresh.client_scope(p["ClientId"])
    return svc.refresh.get_tokens(scope, p, _activity(ctx, p))


@operation("GetUser")
def get_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account.get_user(p["AccessToken"])


@operation("ChangePassword")
def change_password(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.account.change_password(p["AccessToken"], p.get("PreviousPassword"), p["ProposedPassword"])
    return {}


@operation("GlobalSignOut")
def global_sign_out(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.account.global_sign_out(p["AccessToken"])
    return {}


@operation("AdminUserGlobalSignOut")
def admin_user_global_sign_out(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.account.admin_global_sign_out(ctx.region, p["UserPoolId"], p["Username"])
    return {}


@operation("RevokeToken")
def revoke_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.account.revoke_token(p["ClientId"], p["Token"], p.get("ClientSecret"))
    return {}


@operation("GetUserAuthFactors")
def get_user_auth_factors(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account.get_auth_factors(p["AccessToken"])


@operation("AdminGetUserAuthFactors")
def admin_get_user_auth_factors(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.account.admin_get_auth_factors(ctx.region, p["UserPoolId"], p["Username"])


@operation("ListUserSessions")
def list_user_sessions(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.user_sessions.list_own(p["AccessToken"])


@operation("RevokeUserSession")
def revoke_user_session(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.user_sessions.revoke_own(p["AccessToken"], p["SessionId"])
    return {}


@operation("AdminListUserSessions")
def admin_list_user_sessions(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.user_sessions.admin_list(ctx.region, p["UserPoolId"], p["Username"])


@operation("AdminRevokeUserSession")
def admin_revoke_user_session(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.user_sessions.admin_revoke(ctx.region, p["UserPoolId"], p["Username"], p["SessionId"])
    return {}


@operation("GetUserPoolSessionConfiguration")
def get_user_pool_session_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.user_sessions.get_pool_configuration(ctx.region, p["UserPoolId"])


@operation("SetUserPoolSessionConfiguration")
def set_user_pool_session_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.user_sessions.set_pool_configuration(ctx.region, p)


@operation("GetUserPoolClientSessionConfiguration")
def get_user_pool_client_session_configuration(
    svc: Services, ctx: RequestContext, p: Params
) -> Params:
    return svc.user_sessions.get_client_configuration(ctx.region, p["UserPoolId"], p["ClientId"])


@operation("SetUserPoolClientSessionConfiguration")
def set_user_pool_client_session_configuration(
    svc: Services, ctx: RequestContext, p: Params
) -> Params:
    return svc.user_sessions.set_client_configuration(ctx.region, p)


@operation("GetClientToken")
def get_client_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.client_tokens.get_client_token(p)
