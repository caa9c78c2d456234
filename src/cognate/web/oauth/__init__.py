"""The web side of a pool domain: OAuth 2.0 / OIDC endpoints and hosted pages."""
