"""The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Op>`.

A pure ASGI application (no framework in the request path: it is the hottest code in the
server). For each request it:

1. resolves the operation from X-Amz-Target (`UnknownOperationException` otherwise);
2. reads the body (capped); in secure mode (`auth = secure`) checks the SigV4 signature of
   every operation Cognito authorizes with IAM (wire/sigv4.py: MissingAuthenticationToken,
   IncompleteSignature, InvalidSignature, UnrecognizedClient) before anything else; parses
   the body as a JSON object (`SerializationException`), checks it against the input shape
   (`SerializationException` / `InvalidParameterException`);
3. works out the request's region (SigV4 credential scope, else a `cognito-idp.<region>.`
   Host as AWS's regional endpoints are named, else the pool id, else the configured
   default); in secure mode asks whether the signing key's policy allows the operation on
   its resource (domain/api_access.py: AccessDeniedException); routes a request made in a
   pool's replica region to the pool (domain/replicas.py);
4. runs the handler in a worker thread: everything below the wire is synchronous;
5. serializes the result by the output shape, or the error as AWS does.

Steps 2-5 run in one worker thread, so the event loop only moves bytes. This is the only
place that catches arbitrary exceptions: a crash inside a handler is logged with the
request id and answered as a generic InternalErrorException, and nothing about it
reaches the client.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import orjson

from cognate import logs, metrics
from cognate.api import dispatch
from cognate.api.errors import (
    AUTH_ERRORS,
    MissingAuthenticationTokenException,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)
from cognate.api.exceptions import InternalErrorException, InvalidParameterException
from cognate.context import RequestContext
from cognate.domain.ids import region_of_pool_id
from cognate.wire import model, sigv4
from cognate.wire.serializer import CONTENT_TYPE, error_body, error_headers, serialize_output
from cognate.wire.validator import validate_request

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from cognate.domain.faults import FaultInjector
    from cognate.services import Services

    Receive = Callable[[], Awaitable[dict[str, Any]]]
    Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([A-Za-z0-9-]+)/[^/,\s]+/aws4_request")
_REGIONAL_HOST = re.compile(r"cognito-idp\.([a-z0-9-]+)\.")
_INTERNAL_MESSAGE = "An internal error occurred. The request id is in x-amzn-RequestId."
# Errors any operation may answer (a few operations' models omit TooManyRequestsException).
_PROTOCOL_ERRORS = (
    "InvalidParameterException",
    "UnsupportedOperationException",
    "TooManyRequestsException",
)
_CONTENT_TYPE = CONTENT_TYPE.encode()
# IAM-authorized operations that may also be called unsigned (their own credentials then):
# GetDerivedToken takes "IAM credentials, or ... ClientId and ... ClientSecret" (API reference).
_SIGNATURE_OPTIONAL = frozenset({"GetDerivedToken"})

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


class ApiApp:
    """ASGI app answering the cognito-idp API on `/`."""

    def __init__(
        self,
        services: Services,
        *,
        default_region: str,
        executor: ThreadPoolExecutor,
        faults: FaultInjector | None = None,
    ) -> None:
        self._services = services
        self._faults = faults  # the test controls' injected faults (test_controls setting)
        self._default_region = default_region
        self._executor = executor
        self._prefix = model.target_prefix() + "."
        self._limits = services.rate_limits
        self._access = services.api_access

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        headers = dict(scope["headers"])
        operation = "unknown"
        try:
            if scope["method"] != "POST":
                raise UnknownOperationException("Only POST is supported by this endpoint.")
            operation = self._operation(headers.get(b"x-amz-target"))
            body = await _read_body(headers, receive)
        except ServiceError as error:
            reply = _error_reply(error, request_id)
        else:
            authorization = headers.get(b"authorization")
            user_agent = headers.get(b"user-agent")
            host = headers.get(b"host")
            client = scope.get("client")
            parts = (  # secure mode only: what the signature covers
                sigv4.RequestParts(
                    "POST",
                    (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
                    scope.get("query_string", b"").decode("latin-1"),
                    scope["headers"],
                )
                if self._access.secure
                else None
            )
            reply = await asyncio.get_running_loop().run_in_executor(
                self._executor,
                self._handle,
                request_id,
                operation,
                body,
                authorization.decode("latin-1") if authorization else None,
                client[0] if client else None,
                user_agent.decode("latin-1")[:1024] if user_agent else None,
                host.decode("latin-1") if host else None,
                parts,
            )
        status, reply_headers, payload = reply
        metrics.api_request(operation, _error_type(reply), time.perf_counter() - started)
        reply_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": reply_headers})
        await send({"type": "http.response.body", "body": payload})

    def _operation(self, target: bytes | None) -> str:
        name = target.decode("latin-1") if target else ""
        if not name.startswith(self._prefix):
            raise UnknownOperationException(
                "The X-Amz-Target header must name an operation of "
                f"{self._prefix[:-1]}, e.g. {self._prefix}DescribeUserPool."
            )
        name = name[len(self._prefix) :]
        if model.operation_model(name) is None:
            raise UnknownOperationException(f"Unknown operation {name}.")
        return name

    def _handle(
        self,
        request_id: str,
        operation: str,
        body: bytes,
        authorization: str | None,
        source_ip: str | None,
        user_agent: str | None = None,
        host: str | None = None,
        parts: sigv4.RequestParts | None = None,
    ) -> Reply:
        # This thread serves API requests only: its log lines carry this request's id.
        logs.request_id.set(request_id)
        try:
            caller = (
                None if parts is None else self._authenticate(operation, body, authorization, parts)
            )
            params = _parse(operation, body)
            region, explicit = self._region(authorization, host, params)
            if caller is not None:
                self._access.authorize(caller, operation, params, region)
            region, replica_region = self._services.replicas.route(
                region, explicit, operation, params, public=model.is_public(operation)
            )
            ctx = RequestContext(
                request_id=request_id,
                operation=operation,
                region=region,
                signed=authorization is not None if parts is None else caller is not None,
                source_ip=source_ip,
                user_agent=user_agent,
                replica_region=replica_region,
            )
            handler = dispatch.handler_for(operation)
            if handler is None:
                raise dispatch.not_implemented(operation)
            if self._limits.enabled:  # Cognito's request-rate quotas (rate_limits setting)
                self._limits.check(ctx.region, operation, params)
            if self._faults is not None and self._faults.armed(operation):
                self._faults.strike(operation)  # waits and/or raises (domain/faults.py)
            result = handler(self._services, ctx, params)
            payload = serialize_output(model.output_spec(operation), result)
        except ServiceError as error:
            if _undeclared(error, operation):
                log.warning(
                    "request %s: %s raised %s, which the model does not declare for it",
                    request_id,
                    operation,
                    error.code,
                )
            return _error_reply(error, request_id)
        except Exception:
            log.exception("request %s: %s failed", request_id, operation)
            return _error_reply(InternalErrorException(_INTERNAL_MESSAGE), request_id)
        return (
            200,
            [(b"content-type", _CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())],
            payload,
        )

    def _authenticate(
        self, operation: str, body: bytes, authorization: str | None, parts: sigv4.RequestParts
    ) -> str | None:
        """Secure mode: the access key id that signed the request, None for a public
        operation (its signature, if any, is not looked at); raises AWS's errors."""
        if model.is_public(operation):
            return None
        if authorization is None:
            if operation in _SIGNATURE_OPTIONAL:
                return None
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        access = self._access
        return sigv4.verify(
            parts, body, authorization, access.secret_for, access.now()
        ).access_key_id

    def _region(
        self, authorization: str | None, host: str | None, params: dict[str, Any]
    ) -> tuple[str, bool]:
        """The request's region, and whether the request named it (signature or Host)."""
        if authorization:
            match = _CREDENTIAL_SCOPE.search(authorization)
            if match:
                return match.group(1), True
        if host and host.startswith("cognito-idp."):
            match = _REGIONAL_HOST.match(host)
            if match:
                return match.group(1), True
        pool_id = params.get("UserPoolId")
        if isinstance(pool_id, str):
            region = region_of_pool_id(pool_id)
            if region:
                return region, False
        return self._default_region, False


def _error_type(reply: Reply) -> str | None:
    """The error type of an error reply (its x-amzn-ErrorType), None for a success."""
    if reply[0] == 200:
        return None
    for name, value in reply[1]:
        if name == b"x-amzn-errortype":
            return value.decode().rstrip(":")
    return "UnknownError"


def _undeclared(error: ServiceError, operation: str) -> bool:
    """An error the model does not list for the operation (a bug worth a log line)."""
    if isinstance(error, (SerializationException, UnknownOperationException)):
        return False
    return (
        error.code not in model.error_names(operation)
        and error.code not in _PROTOCOL_ERRORS
        and error.code not in AUTH_ERRORS
    )


def _parse(operation: str, body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object.")
    spec = model.input_spec(operation)
    if spec is None:
        return {}
    return validate_request(spec, document)


async def _read_body(headers: dict[bytes, bytes], receive: Receive) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InvalidParameterException(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidParameterException(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _error_reply(error: ServiceError, request_id: str) -> Reply:
    headers = [
        (k.lower().encode(), v.encode()) for k, v in error_headers(error, request_id).items()
    ]
    return error.status, headers, error_body(error)
