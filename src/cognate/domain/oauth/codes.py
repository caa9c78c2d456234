"""Opaque tokens in URLs and cookies.

Session tokens (challenge_sessions.py) are standard base64, whose `+`, `/` and `=` need
escaping in a query string and quoting in a cookie; the OAuth side hands them out in the
URL-safe alphabet without padding, and turns them back before looking them up.
"""

from __future__ import annotations

import re

_URLSAFE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def to_url(token: str) -> str:
    return token.replace("+", "-").replace("/", "_").rstrip("=")


def from_url(value: str | None) -> str | None:
    """The session token behind a URL-safe value; None for anything malformed."""
    if not value or not _URLSAFE.fullmatch(value):
        return None
    token = value.replace("-", "+").replace("_", "/")
    return token + "=" * (-len(token) % 4)
