"""Log delivery configuration (GetLogDeliveryConfiguration, SetLogDeliveryConfiguration);
the logs themselves are written by domain/log_delivery.py."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("GetLogDeliveryConfiguration")
def get_log_delivery_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return {"LogDeliveryConfiguration": svc.log_delivery.get(ctx.region, p["UserPoolId"])}


@operation("SetLogDeliveryConfiguration")
def set_log_delivery_configuration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    configuration = svc.log_delivery.set(ctx.region, p["UserPoolId"], p["LogConfigurations"])
    return {"LogDeliveryConfiguration": configuration}
