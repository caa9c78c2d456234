"""Stand-in origins for identity providers at fixed endpoints (setting
`federation_endpoints`).

Social providers (Google, Facebook, Login with Amazon, Sign in with Apple) live at fixed
URLs (federation/details.py `SOCIAL_ENDPOINTS`). To sign in through a local stand-in of
one (a test double, a mock server), the setting maps a fixed origin to another:
whitespace-separated rules `FROM=TO`, each an origin (scheme://host[:port], no path),
e.g. `https://accounts.google.com=http://127.0.0.1:8081`. A URL whose origin is a
rule's FROM is reached at TO instead, path and query unchanged. The rules apply to every
outbound call (token and attributes endpoints, JWKS, discovery documents, metadata) and
to the browser's redirect to a provider's sign-in page. Nothing is rewritten by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_ORIGIN = re.compile(r"https?://[^/\s?#=]+")


class OriginRuleError(ValueError):
    """A `federation_endpoints` rule is not `ORIGIN=ORIGIN`."""


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True, slots=True)
class OriginMap:
    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> OriginMap:
        rules: list[tuple[str, str]] = []
        for rule in text.split():
            source, sep, target = rule.partition("=")
            source, target = source.rstrip("/"), target.rstrip("/")
            if not sep or not _ORIGIN.fullmatch(source) or not _ORIGIN.fullmatch(target):
                raise OriginRuleError(
                    f"federation endpoint rule {rule!r} is not ORIGIN=ORIGIN "
                    "(like https://accounts.google.com=http://127.0.0.1:8081)"
                )
            rules.append((_origin_of(source), target))
        return cls(tuple(rules))

    def apply(self, url: str) -> str:
        """`url` with its origin replaced when a rule names it."""
        if not self.rules:
            return url
        origin = _origin_of(url)
        for source, target in self.rules:
            if origin == source:
                parts = urlsplit(url)
                new = urlsplit(target)
                return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))
        return url
