"""GetDerivedToken: OAuth 2.0 token exchange (domain/auth/derived_tokens.py)."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("GetDerivedToken")
def get_derived_token(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.derived_tokens.get_derived_token(p, signed=ctx.signed)
