"""What an identity provider tells about a user who signed in there, in one shape for
every provider type (OIDC, social, SAML), before it becomes a user of the pool.

The provider-specific code (oidc.py, saml.py) builds a `FederatedIdentity`; users.py turns
it into the pool's user (`<ProviderName>_<subject>`, or the user it is linked to) and the
hosted session that ends the sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    provider_name: str  # the identity provider's ProviderName in the pool
    provider_type: str  # OIDC, SAML, Google, Facebook, LoginWithAmazon, SignInWithApple
    subject: str  # the provider's user id: `sub`, Facebook/Amazon `id`/`user_id`, SAML NameID
    claims: dict[str, str] = field(default_factory=dict)  # the provider's attributes, flat
    issuer: str | None = None  # OIDC issuer / SAML entity id, for the `identities` attribute
