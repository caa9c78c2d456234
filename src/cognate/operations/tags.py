"""Tagging operations (user pools are the only taggable resource)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("TagResource")
def tag_resource(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.tags.tag(ctx.region, p["ResourceArn"], p["Tags"])


@operation("UntagResource")
def untag_resource(svc: Services, ctx: RequestContext, p: Params) -> None:
    svc.tags.untag(ctx.region, p["ResourceArn"], p["TagKeys"])


@operation("ListTagsForResource")
def list_tags_for_resource(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"Tags": svc.tags.list_tags(ctx.region, p["ResourceArn"])}
