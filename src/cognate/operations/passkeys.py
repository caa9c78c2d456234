"""Passkey registration and management: StartWebAuthnRegistration,
CompleteWebAuthnRegistration, ListWebAuthnCredentials, DeleteWebAuthnCredential."""

from __future__ import annotations

from typing import Any

from cognate.api.dispatch import operation
from cognate.context import RequestContext
from cognate.services import Services

Params = dict[str, Any]


@operation("StartWebAuthnRegistration")
def start_web_authn_registration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.passkeys.start_registration(p["AccessToken"])


@operation("CompleteWebAuthnRegistration")
def complete_web_authn_registration(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.passkeys.complete_registration(p["AccessToken"], p["Credential"])
    return {}


@operation("ListWebAuthnCredentials")
def list_web_authn_credentials(svc: Services, ctx: RequestContext, p: Params) -> Params:
    return svc.passkeys.list_credentials(
        p["AccessToken"], p.get("NextToken"), p.get("MaxResults"), ctx.request_id
    )


@operation("DeleteWebAuthnCredential")
def delete_web_authn_credential(svc: Services, ctx: RequestContext, p: Params) -> Params:
    svc.passkeys.delete_credential(p["AccessToken"], p["CredentialId"])
    return {}
