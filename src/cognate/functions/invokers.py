"""The three ways a trigger function runs.

* `LambdaInvoker`: the AWS Lambda Invoke API through botocore (RequestResponse), against
  AWS or any compatible endpoint (`sam local start-lambda`, LocalStack). A reply with the
  X-Amz-Function-Error header is the function's error.
* `HttpInvoker`: POST the event as JSON to a URL; a 2xx reply is the returned event, any
  other status is the function's error (its JSON `errorMessage`, else the body's text).
* `PythonInvoker`: call `module:function(event, context)` in this process (embedded and
  test use); an exception it raises is the function's error.

Each is bounded by the trigger timeout (Cognito's 5 seconds); a connection that cannot be
made is retried twice more (Cognito's three attempts).
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from cognate.functions import FunctionError, InvokeFailure, function_name

log = logging.getLogger("cognate.triggers")

TIMEOUT_REASON = "Socket timeout while invoking Lambda function"
ATTEMPTS = 3
_RETRY_PAUSE = 0.05


def _reply_of(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        raise InvokeFailure("Unrecognizable lambda output") from None


def _error_message(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return json.dumps(parsed) if not isinstance(parsed, str) else parsed


class HttpInvoker:
    def __init__(self, url: str) -> None:
        self._url = url

    def invoke(self, arn: str, event: dict[str, Any], timeout: float) -> Any:
        url = self._url.replace("{function}", function_name(arn))
        data = json.dumps(event).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator configures the URL
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "X-Cognate-Function-Arn": arn},
        )
        for attempt in range(ATTEMPTS):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                    return _reply_of(response.read())
            except urllib.error.HTTPError as exc:
                raise FunctionError(_error_message(exc.read())) from None
            except TimeoutError:
                raise InvokeFailure(TIMEOUT_REASON) from None
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError | socket.timeout):
                    raise InvokeFailure(TIMEOUT_REASON) from None
                if attempt == ATTEMPTS - 1:
                    raise InvokeFailure(f"Connection to {url} failed: {exc.reason}") from None
                time.sleep(_RETRY_PAUSE)
        raise AssertionError("unreachable")


class PythonInvoker:
    """Calls `module:function`; the context object carries `function_name`,
    `invoked_function_arn` and `get_remaining_time_in_millis()` like Lambda's."""

    _pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="trigger")

    def __init__(self, target: str) -> None:
        self._target = target

    def _function(self, arn: str) -> Callable[[dict[str, Any], Any], Any]:
        spec = self._target.replace("{function}", function_name(arn))
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
            found = getattr(module, attribute)
        except (ImportError, AttributeError) as exc:
            log.warning("trigger function %s cannot be loaded: %s", spec, exc)
            raise InvokeFailure("ResourceNotFoundException") from None
        if not callable(found):
            log.warning("trigger function %s is not callable", spec)
            raise InvokeFailure("ResourceNotFoundException")
        function: Callable[[dict[str, Any], Any], Any] = found
        return function

    def invoke(self, arn: str, event: dict[str, Any], timeout: float) -> Any:
        function = self._function(arn)
        context = _Context(arn, time.monotonic() + timeout)
        # The function gets a copy, as Lambda would: it cannot change Cognate's objects.
        future = self._pool.submit(function, json.loads(json.dumps(event)), context)
        try:
            reply = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise InvokeFailure(TIMEOUT_REASON) from None
        except Exception as exc:  # noqa: BLE001 - whatever the function raised is its error
            raise FunctionError(str(exc)) from None
        try:
            return json.loads(json.dumps(reply))
        except (TypeError, ValueError):
            raise InvokeFailure("Unrecognizable lambda output") from None


class _Context:
    def __init__(self, arn: str, deadline: float) -> None:
        self.invoked_function_arn = arn
        self.function_name = function_name(arn)
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaInvoker:
    """Lambda's Invoke API; `endpoint` None means AWS itself (credentials from the usual
    places: environment, profile, instance role)."""

    def __init__(self, endpoint: str | None) -> None:
        self._endpoint = endpoint
        self._session = botocore.session.get_session()
        self._clients: dict[tuple[str, float], Any] = {}

    def _client(self, region: str, timeout: float) -> Any:
        key = (region, timeout)
        if key not in self._clients:
            credentials: dict[str, str] = {}
            if self._session.get_credentials() is None:  # a local emulator takes anything
                credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
            self._clients[key] = self._session.create_client(
                "lambda",
                region_name=region,
                endpoint_url=self._endpoint,
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"total_max_attempts": 1},
                ),
                **credentials,
            )
        return self._clients[key]

    def invoke(self, arn: str, event: dict[str, Any], timeout: float) -> Any:
        parts = arn.split(":")
        region = parts[3] if len(parts) > 3 and parts[3] else "us-east-1"
        for attempt in range(ATTEMPTS):
            try:
                response = self._client(region, timeout).invoke(
                    FunctionName=arn,
                    InvocationType="RequestResponse",
                    Payload=json.dumps(event).encode(),
                )
                break
            except ReadTimeoutError:
                raise InvokeFailure(TIMEOUT_REASON) from None
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "ClientError")
                raise InvokeFailure(str(code)) from None
            except (ConnectionError, BotoCoreError) as exc:
                if attempt == ATTEMPTS - 1:
                    raise InvokeFailure(
                        f"Connection to the Lambda endpoint failed: {exc}"
                    ) from None
                time.sleep(_RETRY_PAUSE)
        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise FunctionError(_error_message(body))
        return _reply_of(body)
