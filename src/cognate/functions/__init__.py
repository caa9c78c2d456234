"""Where Lambda trigger functions run: the invokers (AWS Lambda Invoke API, HTTP, an
in-process Python callable) and the routing of function ARNs to them (router.py).

An invoker takes a function ARN and an event and returns the function's reply (the
event it gives back), or raises `FunctionError` (the function ran and failed) or
`InvokeFailure` (it could not be run: unreachable, timed out, not mapped).
"""

from __future__ import annotations

from typing import Any, Protocol


class FunctionError(Exception):
    """The function ran and raised: its error message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvokeFailure(Exception):
    """The function could not be run; `reason` is what Cognito's message names (e.g.
    "Socket timeout while invoking Lambda function")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Invoker(Protocol):
    def invoke(self, arn: str, event: dict[str, Any], timeout: float) -> Any: ...


def function_name(arn: str) -> str:
    """`arn:aws:lambda:us-east-1:123:function:name[:qualifier]` -> `name`."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[5] == "function":
        return parts[6]
    return arn.rsplit(":", 1)[-1]
