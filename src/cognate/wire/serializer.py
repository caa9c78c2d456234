"""Shape handler results into the JSON body an AWS SDK expects, and shape errors.

A handler returns a plain dict. `serialize_output` walks the operation's output shape:
members are emitted in the model's order (which is also the order Cognito emits them),
absent or None members are dropped, members the shape does not declare never leave the
server (stored settings may carry internal members), timestamps become epoch seconds and
blobs base64. Below the first two structure levels, a subtree whose shape holds no
timestamp or blob is emitted as the handler built it: those values come from validated
input, and copying them is most of the cost of a response. Errors become
`{"__type": ..., "message": ...}` with the `x-amzn-ErrorType` header.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson

from cognate.api.errors import ServiceError
from cognate.wire.model import Spec

CONTENT_TYPE = "application/x-amz-json-1.1"


# Members of the response and of the resource it holds (UserPool, UserPoolClient...) are
# always filtered; what lies deeper is walked only where something needs converting.
_FILTERED_DEPTH = 2


def serialize_output(spec: Spec | None, result: dict[str, Any] | None) -> bytes:
    if spec is None or not result:
        return b"{}"
    return orjson.dumps(_structure(spec, result, 1))


def _value(spec: Spec, value: Any, depth: int) -> Any:
    kind = spec.type
    if depth >= _FILTERED_DEPTH and not spec.needs_conversion:
        return value
    if kind == "structure":
        return value if spec.document else _structure(spec, value, depth + 1)
    if kind == "list":
        member = spec.member
        assert member is not None
        if not member.needs_conversion and member.type not in ("structure", "list", "map"):
            return list(value)
        return [_value(member, item, depth) for item in value if item is not None]
    if kind == "map":
        value_spec = spec.value
        assert value_spec is not None
        if not value_spec.needs_conversion and value_spec.type not in ("structure", "list", "map"):
            return dict(value)
        return {k: _value(value_spec, v, depth) for k, v in value.items() if v is not None}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return round(value.timestamp(), 3)
        return value
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else value
        return base64.b64encode(raw).decode()
    return value


def _structure(spec: Spec, value: dict[str, Any], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for wire_name, (_camel, member_spec) in spec.members.items():
        item = value.get(wire_name)
        if item is not None:
            out[wire_name] = _value(member_spec, item, depth)
    return out


def error_body(error: ServiceError) -> bytes:
    return orjson.dumps(error.body())


def error_headers(error: ServiceError, request_id: str) -> dict[str, str]:
    # Cognito's header carries a trailing colon (the stripped Coral namespace).
    return {
        "x-amzn-ErrorType": f"{error.code}:",
        "x-amzn-RequestId": request_id,
        "Content-Type": CONTENT_TYPE,
    }
