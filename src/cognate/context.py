"""RequestContext: what every operation knows about the request it is serving."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    """The id answered in `x-amzn-RequestId` and written in every log line of the request."""
    operation: str
    """The operation name from X-Amz-Target, e.g. `CreateUserPool`."""
    region: str
    """The region the request addresses: the SigV4 credential scope's region when signed,
    else the region named by the UserPoolId, else the configured default."""
    signed: bool
    """IAM-authorized: in secure mode, signed by a configured key whose policy allows the
    call (verified); in open mode, merely carrying an Authorization header."""
    source_ip: str | None
    """The client's address as the server saw it."""
    user_agent: str | None = None
    """The User-Agent header, if any (session listings report it as the device)."""
    replica_region: str | None = None
    """The secondary replica region the request was made in, when `region` is the pool's
    own (primary) region it was routed to (domain/replicas.py)."""
