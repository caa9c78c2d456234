"""OAuth 2.0 / OpenID Connect for pool domains: authorization requests, codes, hosted
sign-in sessions and the token endpoint's grants (the web side is web/oauth)."""
