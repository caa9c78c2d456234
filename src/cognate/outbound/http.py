"""Outbound HTTP: how Cognate reaches identity providers (discovery documents, JWKS,
token endpoints, SAML metadata) and client metadata documents.

One `Outbound` per process, over one httpx client: a timeout on every call (Cognito
gives up on identity providers after a few seconds), a cap on the size of what is read
(a hostile URL cannot exhaust memory), at most three redirects, and TLS verified against
the system's certificate authorities plus, when configured (`outbound_ca_bundle`), the
authorities in that PEM file (a private PKI, or a test CA). Failures are `OutboundError`
with a message fit for an error description; nothing here logs a body or a secret.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from cognate.outbound.origins import OriginMap

DEFAULT_TIMEOUT_S = 5.0
MAX_BYTES = 1_000_000
USER_AGENT = "Cognate"


class OutboundError(Exception):
    """The other server could not be reached, answered too much, or not at all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON; OutboundError when it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise OutboundError("The response is not JSON.") from None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Outbound:
    def __init__(
        self,
        ca_bundle: str = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
        origins: OriginMap | None = None,
    ) -> None:
        context = ssl.create_default_context()
        if ca_bundle:
            context.load_verify_locations(cafile=ca_bundle)
        self._max_bytes = max_bytes
        self.origins = origins or OriginMap()  # stand-ins (setting federation_endpoints)
        self._client = httpx.Client(
            verify=context,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
            max_redirects=3,
            headers={"User-Agent": USER_AGENT},
        )

    def get(self, url: str, headers: dict[str, str] | None = None) -> Reply:
        return self._send("GET", url, headers=headers)

    def post_form(
        self,
        url: str,
        data: dict[str, str],
        headers: dict[str, str] | None = None,
        basic: tuple[str, str] | None = None,
    ) -> Reply:
        """POST application/x-www-form-urlencoded (OAuth token endpoints)."""
        return self._send("POST", url, headers=headers, data=data, auth=basic)

    def _send(self, method: str, url: str, **options: Any) -> Reply:
        url = self.origins.apply(url)
        try:
            with self._client.stream(method, url, **options) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise OutboundError(f"The response of {_origin(url)} is too large.")
                return Reply(response.status_code, bytes(body), dict(response.headers))
        except httpx.TimeoutException:
            raise OutboundError(f"Timeout occurred in calling {_origin(url)}") from None
        except httpx.HTTPError as exc:
            raise OutboundError(f"Error calling {_origin(url)}: {type(exc).__name__}") from None

    def close(self) -> None:
        self._client.close()


def _origin(url: str) -> str:
    """Scheme and host of a URL, for messages (never its query, which may hold secrets)."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
