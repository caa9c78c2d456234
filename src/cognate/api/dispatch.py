"""The operation registry: which function serves which cognito-idp operation.

Operation modules register their handlers with `@operation("CreateUserPool")`. A
handler receives the services, the request context and the validated parameters, and
returns the response members as a dict (or None for an empty response). Registering a
name the model does not have is an error at import time, so the registry cannot drift
from the model. Operations nobody has registered yet are answered honestly by the
endpoint with an error naming them (`not_implemented`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from cognate.api.exceptions import UnsupportedOperationException
from cognate.wire.model import operation_names

if TYPE_CHECKING:
    from cognate.context import RequestContext
    from cognate.services import Services

Handler: TypeAlias = "Callable[[Services, RequestContext, dict[str, Any]], dict[str, Any] | None]"

_HANDLERS: dict[str, Any] = {}


def operation(name: str) -> Callable[[Any], Any]:
    if name not in operation_names():
        raise ValueError(f"{name} is not an operation of the cognito-idp model")

    def register(fn: Any) -> Any:
        if name in _HANDLERS:
            raise ValueError(f"{name} is registered twice")
        _HANDLERS[name] = fn
        return fn

    return register


def handler_for(name: str) -> Any:
    return _HANDLERS.get(name)


def implemented() -> frozenset[str]:
    return frozenset(_HANDLERS)


def not_implemented(name: str) -> UnsupportedOperationException:
    return UnsupportedOperationException(
        f"Cognate does not implement {name} yet. "
        "See the operation table in Cognate's README for what is supported."
    )
