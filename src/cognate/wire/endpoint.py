"""The AWS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Op>`.

This is the only place that catches arbitrary exceptions. For each request it:

1. resolves the operation from X-Amz-Target (`UnknownOperationException` otherwise);
2. reads the body (capped), parses it as a JSON object (`SerializationException`), checks
   it against the input shape (`SerializationException` / `InvalidParameterException`);
3. works out the request's region (SigV4 credential scope, else the pool id, else the
   configured default);
4. runs the handler in a worker thread — everything below is synchronous;
5. serializes the result by the output shape, or the error as AWS does.

Steps 2-5 run in one worker thread, so the event loop only moves bytes. A crash inside a
handler is logged with the request id and answered as a generic InternalErrorException;
nothing about it reaches the client.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from cognate.api import dispatch
from cognate.api.errors import SerializationException, ServiceError, UnknownOperationException
from cognate.api.exceptions import InternalErrorException, InvalidParameterException
from cognate.context import RequestContext
from cognate.domain.ids import region_of_pool_id
from cognate.wire import model
from cognate.wire.serializer import CONTENT_TYPE, error_body, error_headers, serialize_output
from cognate.wire.validator import validate_request

if TYPE_CHECKING:
    from cognate.services import Services

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([A-Za-z0-9-]+)/[^/,\s]+/aws4_request")
_INTERNAL_MESSAGE = "An internal error occurred. The request id is in x-amzn-RequestId."


class ApiEndpoint:
    def __init__(self, services: Services, *, default_region: str, threads: int) -> None:
        self._services = services
        self._default_region = default_region
        self._limiter = anyio.CapacityLimiter(threads)
        self._prefix = model.target_prefix() + "."

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            if request.method != "POST":
                raise UnknownOperationException("Only POST is supported by this endpoint.")
            operation = self._operation(request.headers.get("x-amz-target"))
            body = await _read_body(request)
            authorization = request.headers.get("authorization")
            source_ip = request.client.host if request.client else None
            payload = await anyio.to_thread.run_sync(
                self._handle,
                request_id,
                operation,
                body,
                authorization,
                source_ip,
                limiter=self._limiter,
            )
        except ServiceError as error:
            return _error_response(error, request_id)
        except Exception:
            log.exception("request %s failed outside its handler", request_id)
            return _error_response(InternalErrorException(_INTERNAL_MESSAGE), request_id)
        return Response(
            payload,
            media_type=CONTENT_TYPE,
            headers={"x-amzn-RequestId": request_id},
        )

    def _operation(self, target: str | None) -> str:
        if not target or not target.startswith(self._prefix):
            raise UnknownOperationException(
                "The X-Amz-Target header must name an operation of "
                f"{self._prefix[:-1]}, e.g. {self._prefix}DescribeUserPool."
            )
        name = target[len(self._prefix) :]
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
    ) -> bytes:
        try:
            params = _parse(operation, body)
            ctx = RequestContext(
                request_id=request_id,
                operation=operation,
                region=self._region(authorization, params),
                signed=authorization is not None,
                source_ip=source_ip,
            )
            handler = dispatch.handler_for(operation)
            if handler is None:
                raise dispatch.not_implemented(operation)
            result = handler(self._services, ctx, params)
            return serialize_output(model.output_spec(operation), result)
        except ServiceError as error:
            if (
                error.code not in model.error_names(operation)
                and not isinstance(error, (SerializationException, UnknownOperationException))
                and error.code not in ("InvalidParameterException", "UnsupportedOperationException")
            ):
                log.warning(
                    "request %s: %s raised %s, which the model does not declare for it",
                    request_id,
                    operation,
                    error.code,
                )
            raise
        except Exception:
            log.exception("request %s: %s failed", request_id, operation)
            raise InternalErrorException(_INTERNAL_MESSAGE) from None

    def _region(self, authorization: str | None, params: dict[str, Any]) -> str:
        if authorization:
            match = _CREDENTIAL_SCOPE.search(authorization)
            if match:
                return match.group(1)
        pool_id = params.get("UserPoolId")
        if isinstance(pool_id, str):
            region = region_of_pool_id(pool_id)
            if region:
                return region
        return self._default_region


def _parse(operation: str, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object.")
    spec = model.input_spec(operation)
    if spec is None:
        return {}
    return validate_request(spec, document)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InvalidParameterException(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidParameterException(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_response(error: ServiceError, request_id: str) -> Response:
    return Response(
        error_body(error),
        status_code=error.status,
        headers=error_headers(error, request_id),
    )
