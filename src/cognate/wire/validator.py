"""Check a decoded JSON request against its input shape, the way Cognito's front end does.

One walk does two jobs, in Coral's order of precedence:

1. **Types.** A member of the wrong JSON type cannot be deserialized: the whole request
   fails at once with `SerializationException` (Coral's wording).
2. **Constraints.** `required`, `min`/`max` (length or value), `pattern` and `enum` are all
   checked and *every* violation is collected, then reported as one
   `InvalidParameterException`::

       2 validation errors detected: Value 'x' at 'userPoolId' failed to satisfy
       constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+;
       Value null at 'clientName' failed to satisfy constraint: Member must not be null

Paths are the wire names with the first letter lower-cased; list elements that are
structures appear as `schema.1.member.name` (1-based); constraints on scalar list
elements and on map keys/values are reported once for the container, listing every
constraint of the element shape (`Member must satisfy constraint: [...]`), as Coral
does. Values of sensitive shapes are left out (`Value at 'password' ...`).

Blobs arrive base64-encoded and leave this module as bytes; timestamps as epoch numbers.
Beyond the model, a number must fit Java's int (long) and no string may contain U+0000.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from cognate.api.errors import SerializationException
from cognate.api.exceptions import InvalidParameterException
from cognate.wire.model import Spec


def validate_request(spec: Spec, body: dict[str, Any]) -> dict[str, Any]:
    """Return the request parameters, converted; raise the AWS error for bad input."""
    errors: list[str] = []
    params = _check_structure(spec, body, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise InvalidParameterException(f"{count} validation {noun} detected: " + "; ".join(errors))
    return params


def java_str(value: Any) -> str:
    """Render a value the way Java's `toString` would inside a Coral message."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e7:
            return f"{value:.1f}"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    return str(value)


def _violation(spec: Spec, value: Any, path: str, constraint: str) -> str:
    shown = "Value" if spec.sensitive else f"Value {_quoted(value)}"
    return f"{shown} at '{path}' failed to satisfy constraint: {constraint}"


def _quoted(value: Any) -> str:
    return "null" if value is None else f"'{java_str(value)}'"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def java_length(text: str) -> int:
    """String length as Java counts it (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- types

# No string may hold U+0000: PostgreSQL's text columns cannot store it, and no Cognito
# value needs it (the model's patterns, where there are any, refuse control characters).
_NO_NUL = "Member must not contain the null character"


def _type_error(found: Any, expected: str) -> SerializationException:
    if isinstance(found, dict):
        return SerializationException("Start of structure or map found where not expected.")
    if isinstance(found, list):
        return SerializationException("Start of list found where not expected.")
    if isinstance(found, bool):
        kind = "TRUE_VALUE" if found else "FALSE_VALUE"
    elif isinstance(found, (int, float)):
        kind = "NUMBER_VALUE"
    else:
        kind = "STRING_VALUE"
    return SerializationException(f"{kind} cannot be converted to {expected}")


def _check(spec: Spec, value: Any, path: str, errors: list[str]) -> Any:
    kind = spec.type
    if kind == "string":
        if not isinstance(value, str):
            raise _type_error(value, "String")
        if spec.has_constraints:
            _string_constraints(spec, value, path, errors)
        if "\x00" in value:
            errors.append(_violation(spec, value, path, _NO_NUL))
        return value
    if kind == "structure":
        if spec.document:
            return value
        if not isinstance(value, dict):
            raise SerializationException("Expected map or null")
        return _check_structure(spec, value, path, errors)
    if kind in ("integer", "long"):
        number = _as_integer(value, "Integer" if kind == "integer" else "Long")
        _range_constraints(spec, number, path, errors)
        return number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(value, "Boolean")
        return value
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationException("Expected list or null")
        return _check_list(spec, value, path, errors)
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationException("Expected map or null")
        return _check_map(spec, value, path, errors)
    if kind == "blob":
        if not isinstance(value, str):
            raise _type_error(value, "ByteBuffer")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException("Base64 encoded value is not valid.") from None
        _length_constraints(spec, data, len(data), path, errors)
        return data
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(value, "Date")
        return float(value)
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(value, "Double")
        return float(value)
    return value


# Java's int and long: a number outside them cannot be deserialized (and would not fit
# the database's integer columns either).
_INTEGER_RANGE = {"Integer": (-(2**31), 2**31 - 1), "Long": (-(2**63), 2**63 - 1)}


def _as_integer(value: Any, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(value, expected)
    number: int
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _type_error("x", expected)
        number = int(value)  # Coral truncates fractional numbers
    else:
        number = value
    low, high = _INTEGER_RANGE[expected]
    if not low <= number <= high:
        raise _type_error(number, expected)
    return number


# --------------------------------------------------------------------------- containers


def _check_structure(
    spec: Spec, value: dict[str, Any], path: str, errors: list[str]
) -> dict[str, Any]:
    # Members are checked in the model's order, so messages do not depend on the order in
    # which a client serialized them; unknown members are ignored and null is absence.
    out: dict[str, Any] = {}
    required = spec.required
    for wire_name, (camel, member_spec) in spec.members.items():
        raw = value.get(wire_name)
        if raw is None:
            if wire_name in required:
                errors.append(
                    f"Value null at '{_join(path, camel)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            continue
        out[wire_name] = _check(member_spec, raw, _join(path, camel), errors)
    return out


def _check_list(spec: Spec, value: list[Any], path: str, errors: list[str]) -> list[Any]:
    _length_constraints(spec, value, len(value), path, errors)
    member = spec.member
    assert member is not None
    if member.type in ("structure", "list", "map") and not member.document:
        return [
            _check(member, item, f"{path}.{index}.member", errors)
            for index, item in enumerate(value, start=1)
            if item is not None
        ]
    out: list[Any] = []
    element_errors: list[str] = []
    for item in value:
        if item is None:
            continue
        out.append(_check(member, item, path, element_errors))
    if element_errors:
        errors.append(
            _violation(spec, value, path, f"Member must satisfy constraint: [{_all_rules(member)}]")
        )
    return out


def _check_map(spec: Spec, value: dict[str, Any], path: str, errors: list[str]) -> dict[str, Any]:
    _length_constraints(spec, value, len(value), path, errors)
    key_spec, value_spec = spec.key, spec.value
    assert key_spec is not None
    assert value_spec is not None
    key_errors: list[str] = []
    value_errors: list[str] = []
    out: dict[str, Any] = {}
    nested = value_spec.type in ("structure", "list", "map") and not value_spec.document
    for key, item in value.items():
        _check(key_spec, key, path, key_errors)
        if item is None:
            continue
        if nested:
            out[key] = _check(value_spec, item, f"{path}.{key}.member", errors)
        else:
            out[key] = _check(value_spec, item, path, value_errors)
    if key_errors:
        errors.append(
            _violation(
                spec, value, path, f"Map keys must satisfy constraint: [{_all_rules(key_spec)}]"
            )
        )
    if value_errors:
        errors.append(
            _violation(
                spec, value, path, f"Map value must satisfy constraint: [{_all_rules(value_spec)}]"
            )
        )
    return out


# --------------------------------------------------------------------------- constraints


def _string_constraints(spec: Spec, value: str, path: str, errors: list[str]) -> None:
    if spec.min is not None or spec.max is not None:
        _length_constraints(spec, value, java_length(value), path, errors)
    if spec.pattern is not None and spec.pattern.fullmatch(value) is None:
        errors.append(
            _violation(
                spec,
                value,
                path,
                f"Member must satisfy regular expression pattern: {spec.pattern_text}",
            )
        )
    if spec.enum is not None and value not in spec.enum:
        errors.append(
            _violation(spec, value, path, f"Member must satisfy enum value set: {spec.enum_text}")
        )


def _bounds(spec: Spec, value: Any, measure: int, path: str, errors: list[str], unit: str) -> None:
    """min/max of a shape: on a length (strings, lists, maps, blobs) or a value (numbers)."""
    if spec.min is not None and measure < spec.min:
        rule = f"Member must have {unit} greater than or equal to {spec.min}"
        errors.append(_violation(spec, value, path, rule))
    if spec.max is not None and measure > spec.max:
        rule = f"Member must have {unit} less than or equal to {spec.max}"
        errors.append(_violation(spec, value, path, rule))


def _length_constraints(spec: Spec, value: Any, length: int, path: str, errors: list[str]) -> None:
    _bounds(spec, value, length, path, errors, "length")


def _range_constraints(spec: Spec, value: int, path: str, errors: list[str]) -> None:
    _bounds(spec, value, value, path, errors, "value")


def _all_rules(spec: Spec) -> str:
    """Every constraint of an element shape, in Coral's order (max before min)."""
    rules: list[str] = []
    numeric = spec.type in ("integer", "long")
    unit = "value" if numeric else "length"
    if spec.max is not None:
        rules.append(f"Member must have {unit} less than or equal to {spec.max}")
    if spec.min is not None:
        rules.append(f"Member must have {unit} greater than or equal to {spec.min}")
    if spec.pattern_text is not None:
        rules.append(f"Member must satisfy regular expression pattern: {spec.pattern_text}")
    if spec.enum_text is not None:
        rules.append(f"Member must satisfy enum value set: {spec.enum_text}")
    return ", ".join(rules)
