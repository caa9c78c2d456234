"""Hosted UI (classic) customization, managed login branding styles and terms documents."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.domain.terms import DEFAULT_MAX_RESULTS
from cognate.services import Services

Params = dict[str, Any]


@operation("SetUICustomization")
def set_ui_customization(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UICustomization": svc.ui_customization.set(ctx.region, p)}


@operation("GetUICustomization")
def get_ui_customization(svc: Services, ctx: RequestContext, p: Params) -> Params:
    customization = svc.ui_customization.get(ctx.region, p["UserPoolId"], p.get("ClientId"))
    return {"UICustomization": customization}


@operation("CreateManagedLoginBranding")
def create_managed_login_branding(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"ManagedLoginBranding": svc.branding.create(ctx.region, p)}


@operation("DescribeManagedLoginBranding")
def describe_managed_login_branding(svc: Services, ctx: RequestContext, p: Params) -> Params:
    branding = svc.branding.describe(
        ctx.region,
        p["UserPoolId"],
        p["ManagedLoginBrandingId"],
        bool(p.get("ReturnMergedResources")),
    )
    return {"ManagedLoginBranding": branding}


@operation("DescribeManagedLoginBrandingByClient")
def describe_managed_login_branding_by_client(
    svc: Services, ctx: RequestContext, p: Params
) -> Params:
    branding = svc.branding.describe_by_client(
        ctx.region, p["UserPoolId"], p["ClientId"], bool(p.get("ReturnMergedResources"))
    )
    return {"ManagedLoginBranding": branding}


@operation("UpdateManagedLoginBranding")
def update_managed_login_branding(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"ManagedLoginBranding": svc.branding.update(ctx.region, p)}


@operation("DeleteManagedLoginBranding")
def delete_managed_login_branding(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.branding.delete(ctx.region, p["UserPoolId"], p["ManagedLoginBrandingId"])
    return {}


@operation("CreateTerms")
def create_terms(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Terms": svc.terms.create(ctx.region, p)}


@operation("DescribeTerms")
def describe_terms(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Terms": svc.terms.describe(ctx.region, p["UserPoolId"], p["TermsId"])}


@operation("DescribeTermsByClient")
def describe_terms_by_client(svc: Services, ctx: RequestContext, p: Params) -> Params:
    terms = svc.terms.describe_by_client(ctx.region, p["UserPoolId"], p["ClientId"], p["TermsName"])
    return {"Terms": terms}


@operation("UpdateTerms")
def update_terms(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Terms": svc.terms.update(ctx.region, p)}


@operation("DeleteTerms")
def delete_terms(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.terms.delete(ctx.region, p["UserPoolId"], p["TermsId"])
    return {}


@operation("ListTerms")
def list_terms(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.terms.list(
        ctx.region,
        p["UserPoolId"],
        p.get("MaxResults") or DEFAULT_MAX_RESULTS,
        p.get("NextToken"),
        ctx.request_id,
    )
    result: Params = {"Terms": page.items}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
