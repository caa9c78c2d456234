"""Operation handlers, one module per area; importing this package registers them all.

Handlers are thin: they map the validated request onto a domain service call and the
result onto the response members. Cognito's rules live in `cognate.domain`.
"""

from cognate.operations import (
    auth,
    branding,
    clients,
    devices,
    domains,
    groups,
    mfa,
    passkeys,
    resource_servers,
    tags,
    user_pools,
    users_admin,
    users_self,
)

__all__ = [
    "auth",
    "branding",
    "clients",
    "devices",
    "domains",
    "groups",
    "mfa",
    "passkeys",
    "resource_servers",
    "tags",
    "user_pools",
    "users_admin",
    "users_self",
]
