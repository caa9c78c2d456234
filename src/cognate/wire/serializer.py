"""Shape handler results into the JSON body an AWS SDK expects, and shape errors.

A handler returns a plain dict. `serialize_output` walks the operation's output shape:
members are emitted in the model's order (which is also the order Cognito emits them),
absent or None members are dropped, members the shape does not declare never leave the
server, timestamps become epoch seconds and blobs base64. Errors become
`{"__type": ..., "message": ...}` with the `x-amzn-ErrorType` header.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cognate.api.errors import ServiceError
from cognate.wire.model import Spec

CONTENT_TYPE = "application/x-amz-json-1.1"


def serialize_output(spec: Spec | None, result: dict[str, Any] | None) -> bytes:
    if spec is None or not result:
        return b"{}"
    return _dumps(_structure(spec, result))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _value(spec: Spec, value: Any) -> Any:
    kind = spec.type
    if kind == "structure":
        return value if spec.document else _structure(spec, value)
    if kind == "list":
        member = spec.member
        assert member is not None
        if not member.needs_conversion and member.type not in ("structure", "list", "map"):
            return list(value)
        return [_value(member, item) for item in value if item is not None]
    if kind == "map":
        value_spec = spec.value
        assert value_spec is not None
        if not value_spec.needs_conversion and value_spec.type not in ("structure", "list", "map"):
            return dict(value)
        return {k: _value(value_spec, v) for k, v in value.items() if v is not None}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return round(value.timestamp(), 3)
        return value
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else value
        return base64.b64encode(raw).decode()
    return value


def _structure(spec: Spec, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for wire_name, (_camel, member_spec) in spec.members.items():
        item = value.get(wire_name)
        if item is not None:
            out[wire_name] = _value(member_spec, item)
    return out


def error_body(error: ServiceError) -> bytes:
    return _dumps(error.body())


def error_headers(error: ServiceError, request_id: str) -> dict[str, str]:
    # Cognito's header carries a trailing colon (the stripped Coral namespace).
    return {
        "x-amzn-ErrorType": f"{error.code}:",
        "x-amzn-RequestId": request_id,
        "Content-Type": CONTENT_TYPE,
    }
