"""The two ways an OAuth request fails.

`OAuthError` is RFC 6749's: sent back to the client (a redirect with `error=` once the
client and its redirect_uri are known to be good, or the token endpoint's JSON).
`PageError` is for the user: a bad client or redirect_uri must never be redirected to, so
the browser gets an error page, as Cognito's hosted pages show one.
"""

from __future__ import annotations


class OAuthError(Exception):
    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status = status


class PageError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
