"""AWS Signature Version 4 verification of API requests (secure mode).

Pure: `verify` gets the request as the server received it (method, raw path, query string,
headers, body), the Authorization header, a lookup from access key id to secret and the
time, and either returns who signed it or raises the error AWS's JSON services (Coral)
answer, checked in Coral's order:

1. no `AWS4-...` Authorization header -> MissingAuthenticationTokenException;
2. a missing Credential / SignedHeaders / Signature parameter, or neither X-Amz-Date nor
   Date -> IncompleteSignatureException (all problems in one message, then
   `Authorization=<header>`); a date not in ISO-8601 basic format -> the same;
3. a date more than 5 minutes from the server's clock -> InvalidSignatureException
   "Signature expired: ..." / "Signature not yet current: ..." (so a captured request can be
   replayed only within that window, as at AWS);
4. `host` not signed -> InvalidSignatureException; an algorithm other than AWS4-HMAC-SHA256,
   or a credential without 5 elements -> IncompleteSignatureException; a scope naming an
   invalid region, another service, another terminator or another day ->
   InvalidSignatureException;
5. an unknown access key id, or a session token (Cognate has only long-term keys) ->
   UnrecognizedClientException;
6. a signature that differs from the one computed -> InvalidSignatureException with the
   canonical request and string to sign, as AWS words it (neither holds a secret).

The canonical request is AWS's: method, URI-encoded normalized path, sorted encoded query,
the signed headers (lower-case names, trimmed values, repeated headers joined by commas),
the signed header list and the SHA-256 of the body actually received (so a body changed
after signing fails). Signatures are compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from cognate.api.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

SERVICE = "cognito-idp"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=5)
_TIMESTAMP = re.compile(r"\d{8}T\d{6}Z")
_REGION = re.compile(r"[a-z0-9-]{1,32}")
_ISO_BASIC = "%Y%m%dT%H%M%SZ"
_INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True, slots=True)
class RequestParts:
    """What the signature covers, as the server received it."""

    method: str
    path: str
    """The path as sent (percent-encoded), e.g. `/`."""
    query: str
    """The query string as sent, without `?`."""
    headers: Sequence[tuple[bytes, bytes]]
    """ASGI headers: lower-case names, in order, repeats kept."""


@dataclass(frozen=True, slots=True)
class Verified:
    access_key_id: str
    region: str


def verify(
    parts: RequestParts,
    body: bytes,
    authorization: str | None,
    secret_for: Callable[[str], str | None],
    now: dt.datetime,
) -> Verified:
    """Who signed the request (see the module docstring), or the error AWS answers."""
    auth = (authorization or "").strip()
    if not auth.startswith("AWS4-"):
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    headers = _header_map(parts.headers)
    algorithm, _, rest = auth.partition(" ")
    params = _auth_params(rest)
    date_header = _first(headers, "x-amz-date") or _first(headers, "date")
    missing = "".join(
        f"Authorization header requires '{name}' parameter. "
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    )
    if not date_header:
        missing += (
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        )
    if missing:
        raise IncompleteSignatureException(f"{missing}Authorization={auth}")
    stamp = _timestamp(headers)
    _check_time(stamp, now)
    signed_headers = params["SignedHeaders"].lower()
    if "host" not in signed_headers.split(";"):
        raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )
    credential = params["Credential"]
    elements = credential.rstrip("/").split("/")
    if len(elements) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'"
        )
    key_id, day, region, service, terminator = elements
    _check_scope(stamp, day, region, service, terminator)
    secret = secret_for(key_id)
    if secret is None or _first(headers, "x-amz-security-token") is not None:
        raise UnrecognizedClientException(_INVALID_TOKEN)
    canonical = canonical_request(parts, body, signed_headers, headers)
    scope = f"{day}/{region}/{service}/{terminator}"
    to_sign = string_to_sign(stamp, scope, canonical)
    expected = signature(secret, day, region, service, to_sign)
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.\n\nThe Canonical String for this request should have "
            f"been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
        )
    return Verified(key_id, region)


def canonical_request(
    parts: RequestParts,
    body: bytes,
    signed_headers: str,
    headers: dict[str, list[str]] | None = None,
) -> str:
    """AWS's canonical request for `parts` over the headers named in `signed_headers`."""
    headers = _header_map(parts.headers) if headers is None else headers
    names = signed_headers.split(";")
    lines = "".join(f"{name}:{_header_value(headers.get(name, []))}\n" for name in names)
    return "\n".join(
        (
            parts.method.upper(),
            _canonical_uri(parts.path),
            _canonical_query(parts.query),
            lines,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        )
    )


def string_to_sign(stamp: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"


def signature(secret: str, day: str, region: str, service: str, to_sign: str) -> str:
    key = _signing_key(secret, day, region, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _header_map(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in raw:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _header_value(values: list[str]) -> str:
    return ",".join(" ".join(value.split()) for value in values)


def _auth_params(rest: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            params[name.strip()] = value.strip()
    return params


def _timestamp(headers: dict[str, list[str]]) -> str:
    """The request's time as ISO-8601 basic format (X-Amz-Date, else the HTTP Date)."""
    amz = _first(headers, "x-amz-date")
    if amz is not None:
        if _TIMESTAMP.fullmatch(amz) and _parse_basic(amz) is not None:
            return amz
        raise IncompleteSignatureException(_bad_date(amz))
    http_date = _first(headers, "date") or ""
    try:
        parsed = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        raise IncompleteSignatureException(_bad_date(http_date)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime(_ISO_BASIC)


def _bad_date(value: str) -> str:
    return (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _parse_basic(stamp: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(stamp, _ISO_BASIC).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _check_time(stamp: str, now: dt.datetime) -> None:
    when = _parse_basic(stamp)
    assert when is not None  # _timestamp returns only valid stamps
    minutes = int(MAX_SKEW.total_seconds() // 60)
    now_text = now.strftime(_ISO_BASIC)
    if when < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(_ISO_BASIC)
        raise InvalidSignatureException(
            f"Signature expired: {stamp} is now earlier than {earliest} "
            f"({now_text} - {minutes} min.)"
        )
    if when > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(_ISO_BASIC)
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than {latest} "
            f"({now_text} + {minutes} min.)"
        )


def _check_scope(stamp: str, day: str, region: str, service: str, terminator: str) -> None:
    problems = []
    if not _REGION.fullmatch(region):
        problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
    if service != SERVICE:
        problems.append(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if terminator != "aws4_request":
        problems.append(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not "
            f"'{terminator}'."
        )
    if day != stamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{day}' != '{stamp[:8]}', from '{stamp}'."
        )
    if problems:
        raise InvalidSignatureException(" ".join(problems))


def _canonical_uri(path: str) -> str:
    """The path with dot segments removed, URI-encoded (as botocore signs it)."""
    if not path:
        return "/"
    normalized = posixpath.normpath(path)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):  # normpath keeps a leading double slash
        normalized = "/" + normalized.lstrip("/")
    return quote(normalized, safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append(
            (
                quote(unquote(name), safe="-_.~"),
                quote(unquote(value), safe="-_.~"),
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))
