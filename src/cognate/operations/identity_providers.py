"""Identity providers of a user pool (SAML, OIDC, social) and the links of federated
identities to the pool's users."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("CreateIdentityProvider")
def create_identity_provider(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"IdentityProvider": svc.identity_providers.create(ctx.region, p)}


@operation("DescribeIdentityProvider")
def describe_identity_provider(svc: Services, ctx: RequestContext, p: Params) -> Params:
    provider = svc.identity_providers.describe(ctx.region, p["UserPoolId"], p["ProviderName"])
    return {"IdentityProvider": provider}


@operation("GetIdentityProviderByIdentifier")
def get_identity_provider_by_identifier(svc: Services, ctx: RequestContext, p: Params) -> Params:
    provider = svc.identity_providers.by_identifier(ctx.region, p["UserPoolId"], p["IdpIdentifier"])
    return {"IdentityProvider": provider}


@operation("UpdateIdentityProvider")
def update_identity_provider(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"IdentityProvider": svc.identity_providers.update(ctx.region, p)}


@operation("DeleteIdentityProvider")
def delete_identity_provider(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.identity_providers.delete(ctx.region, p["UserPoolId"], p["ProviderName"])
    return {}


@operation("ListIdentityProviders")
def list_identity_providers(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.identity_providers.list(
        ctx.region, p["UserPoolId"], p.get("MaxResults") or 60, p.get("NextToken"), ctx.request_id
    )
    result: Params = {"Providers": page.items}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@operation("AdminLinkProviderForUser")
def admin_link_provider_for_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.provider_links.link(ctx.region, p)
    return {}


@operation("AdminDisableProviderForUser")
def admin_disable_provider_for_user(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.provider_links.disable(ctx.region, p)
    return {}
