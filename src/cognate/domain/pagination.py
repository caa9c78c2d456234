"""Opaque, tamper-evident pagination tokens that survive restarts and work on any process.

A token carries the position after which the next page starts (a surrogate key) and is
authenticated with a key derived from the master key, bound to the listing it came from
(e.g. the clients of one pool), so it cannot be forged or replayed against another list.
Nothing is kept server-side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cognate.api.exceptions import InvalidParameterException
from cognate.domain import messages


class PageTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, scope: str, body: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\x00" + body, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, position: int) -> str:
        body = str(position).encode()
        raw = body + b"." + self._mac(scope, body)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, scope: str, token: str | None, request_id: str) -> int:
        """The position a token stands for; 0 (the start) when there is no token."""
        if token is None:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body, mac = raw.split(b".", 1)
            if not hmac.compare_digest(mac, self._mac(scope, body)):
                raise ValueError("bad mac")
            return int(body.decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidParameterException(
                messages.paging_marker_invalid(token, request_id)
            ) from None
