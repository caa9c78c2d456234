"""CSV user import: GetCSVHeader and the user import jobs (domain/user_imports.py)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("GetCSVHeader")
def get_csv_header(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.user_imports.csv_header(ctx.region, p["UserPoolId"])


@operation("CreateUserImportJob")
def create_user_import_job(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserImportJob": svc.user_imports.create(ctx.region, p)}


@operation("DescribeUserImportJob")
def describe_user_import_job(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserImportJob": svc.user_imports.describe(ctx.region, p["UserPoolId"], p["JobId"])}


@operation("ListUserImportJobs")
def list_user_import_jobs(svc: Services, ctx: RequestContext, p: Params) -> Params:
    page = svc.user_imports.list(
        ctx.region, p["UserPoolId"], p["MaxResults"], p.get("PaginationToken"), ctx.request_id
    )
    result: Params = {"UserImportJobs": page.items}
    if page.next_token:
        result["PaginationToken"] = page.next_token
    return result


@operation("StartUserImportJob")
def start_user_import_job(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserImportJob": svc.user_imports.start(ctx.region, p["UserPoolId"], p["JobId"])}


@operation("StopUserImportJob")
def stop_user_import_job(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"UserImportJob": svc.user_imports.stop(ctx.region, p["UserPoolId"], p["JobId"])}
