"""Trigger functions for tests, served to a live Cognate from the test process.

`FunctionHost` is a small threaded HTTP server on 127.0.0.1 that plays two roles:

* the HTTP invoker's target: `POST /fn/<function>` with the event; the reply is the event
  the handler returns (status 200), or `{"errorMessage": …}` with status 500 when the
  handler raises `Fail`;
* a Lambda Invoke API endpoint: `POST /2015-03-31/functions/<name or ARN>/invocations`,
  answering as Lambda does (the `X-Amz-Function-Error: Unhandled` header and an
  `{"errorMessage", "errorType"}` payload for a failure).

A test registers a handler per function name (`host.on("http-pre-sign-up", handler)`); a
handler takes the event and returns the event to give back (usually the same dict with
`response` filled in). Every event is recorded (`host.events(name)`). Functions nobody
registered answer with the event unchanged.

`trigger_rules(host)` is the `--triggers` value that maps function names to the three
invokers: `http_*` → HTTP, `lambda_*` → the Lambda API, `py_*` → in-process Python
(tests/support/python_functions.py).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[dict[str, Any]], Any]


class Fail(Exception):
    """Raised by a handler: the function fails with this message."""


def arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:123456789012:function:{name}"


class FunctionHost:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        host = self

        class _Request(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                event = json.loads(self.rfile.read(length) or b"null")
                path = urllib.parse.unquote(self.path)
                if path.startswith("/fn/"):
                    name, lambda_api = path[len("/fn/") :], False
                elif path.startswith("/2015-03-31/functions/"):
                    name = path[len("/2015-03-31/functions/") :].split("/invocations")[0]
                    name, lambda_api = name.rsplit(":function:", 1)[-1].split(":")[0], True
                else:
                    self.send_error(404)
                    return
                status, headers, body = host._call(name, event, lambda_api)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server gave up waiting (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --------------------------------------------------------------------------- use

    def on(self, name: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[name] = handler

    def respond(self, name: str, **response: Any) -> None:
        """A handler that fills `response` with these fields."""

        def handler(event: dict[str, Any]) -> dict[str, Any]:
            event["response"] = {**(event.get("response") or {}), **response}
            return event

        self.on(name, handler)

    def events(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events.get(name, []))

    def clear(self) -> None:
        with self._lock:
            self._handlers.clear()
            self._events.clear()

    # --------------------------------------------------------------------------- serving

    def _call(self, name: str, event: Any, lambda_api: bool) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._events.setdefault(name, []).append(copy.deepcopy(event))
            handler = self._handlers.get(name)
        try:
            reply = handler(event) if handler is not None else event
        except Fail as exc:
            payload = json.dumps({"errorMessage": str(exc), "errorType": "Error"}).encode()
            if lambda_api:
                return 200, {"X-Amz-Function-Error": "Unhandled"}, payload
            return 500, {}, payload
        return 200, {}, json.dumps(reply).encode()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def function_host() -> Iterator[FunctionHost]:
    host = FunctionHost()
    host.start()
    try:
        yield host
    finally:
        host.stop()


def trigger_rules(host: FunctionHost) -> str:
    base = f"http://127.0.0.1:{host.port}"
    return " ".join(
        [
            f"arn:aws:lambda:*:*:function:http_*={base}/fn/{{function}}",
            f"arn:aws:lambda:*:*:function:lambda_*=lambda:{base}",
            "arn:aws:lambda:*:*:function:py_*=python:tests.support.python_functions:{function}",
        ]
    )


def slow(seconds: float) -> Handler:
    """A handler that takes too long (the server gives up after its trigger timeout)."""

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        time.sleep(seconds)
        return event

    return handler
