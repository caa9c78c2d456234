"""Self-service user operations (public: authorized by the app client, not IAM)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("SignUp")
def sign_up(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.sign_up.sign_up(p)
