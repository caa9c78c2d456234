"""Client ID Metadata Document (CIMD) policies and their cached documents."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.domain.pools import Page
from cognate.services import Services

Params = dict[str, Any]


def _paged(key: str, page: Page) -> Params:
    result: Params = {key: page.items}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@operation("CreateCIMDPolicy")
def create_cimd_policy(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"CIMDPolicy": svc.cimd.create(ctx.region, p)}


@operation("DescribeCIMDPolicy")
def describe_cimd_policy(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"CIMDPolicy": svc.cimd.describe(ctx.region, p["UserPoolId"], p["CIMDPolicyId"])}


@operation("UpdateCIMDPolicy")
def update_cimd_policy(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"CIMDPolicy": svc.cimd.update(ctx.region, p)}


@operation("DeleteCIMDPolicy")
def delete_cimd_policy(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.cimd.delete(ctx.region, p["UserPoolId"], p["CIMDPolicyId"])
    return {}


@operation("ListCIMDPolicies")
def list_cimd_policies(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.cimd.list(
        ctx.region, p["UserPoolId"], p.get("MaxResults") or 60, p.get("NextToken"), ctx.request_id
    )
    return _paged("CIMDPolicies", page)


@operation("ListClientMetadataURLs")
def list_client_metadata_urls(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.cimd.list_urls(
        ctx.region,
        p["UserPoolId"],
        p["CIMDPolicyId"],
        p.get("MaxResults") or 60,
        p.get("NextToken"),
        ctx.request_id,
    )
    return _paged("ClientMetadataURLs", page)


@operation("UpdateClientMetadataURLState")
def update_client_metadata_url_state(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.cimd.update_url_state(ctx.region, p)
    return {}
