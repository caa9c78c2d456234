"""Operation handlers, one module per area; importing this package registers them all.

Handlers are thin: they map the validated request onto a domain service call and the
result onto the response members. Cognito's rules live in `cognate.domain`.
"""

from cognate.operations import (
    auth,
    branding,
    cimd,
    clients,
    derived_tokens,
    devices,
    domains,
    groups,
    identity_providers,
    log_delivery,
    mfa,
    passkeys,
    point_in_time,
    provisioned_limits,
    replicas,
    resource_servers,
    tags,
    threat_protection,
    user_imports,
    user_pools,
    users_admin,
    users_self,
)

__all__ = [
    "auth",
    "branding",
    "cimd",
    "clients",
    "derived_tokens",
    "devices",
    "domains",
    "groups",
    "identity_providers",
    "log_delivery",
    "mfa",
    "passkeys",
    "point_in_time",
    "provisioned_limits",
    "replicas",
    "resource_servers",
    "tags",
    "threat_protection",
    "user_imports",
    "user_pools",
    "users_admin",
    "users_self",
]
