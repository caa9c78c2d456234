"""Hypothesis strategies for cognito-idp request bodies, derived from botocore's shapes.

Three kinds of body, for any operation of the service model:

* `valid_body(op, hints)`: every constraint of the input shape respected (required
  members, string length/pattern/enum, integer ranges, list/map sizes), so the request
  passes validation and reaches the handler. Members named in `hints` (UserPoolId,
  ClientId, Username...) take one of the real values given there, so that the handler
  finds what it looks up and goes deeper than "not found" (pass no hints for bodies of
  generated names only).
* `mutated_body(op, hints)`: a valid body with one member, at any depth, replaced by a
  bad value for its shape: the wrong JSON type, null, a string past its maximum length, a
  list past its maximum size, a number out of range (of the shape, or of a Java int/long),
  a fraction, a value outside its enum or pattern.
* `MALFORMED_BODIES`: bytes that are not a JSON object at all.

Patterns are the model's Java regexes. Values are generated with `st.from_regex` from an
ASCII approximation of the `\\p{..}` classes (Python's `re` has none) and then checked
against the real pattern as the server compiles it (cognate.wire.javaregex).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

from cognate.wire import model
from cognate.wire.javaregex import compile_java_pattern

# Sizes are capped so that examples stay small; the oversized mutations go past `max`.
_MAX_TEXT = 40
_MAX_ITEMS = 3
_MAX_DEPTH = 4
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

# ASCII stand-ins for the Unicode property classes of the model's patterns.
_PROPERTY_CLASSES = {
    "L": "a-zA-Z\u00e9",
    "M": "\u0301",
    "S": "$+<=>^`|~",
    "N": "0-9",
    "P": "!#%&'()*,./:;?@_{}\\-",
    "Z": " ",
}


def input_shape(operation: str) -> Shape | None:
    op = model.service_model().operation_model(operation)
    return op.input_shape


@functools.cache
def _java_pattern(pattern: str) -> Any:
    return compile_java_pattern(pattern)


@functools.cache
def _python_pattern(pattern: str) -> str | None:
    """The pattern for `re`: `\\p{X}` replaced by ASCII classes, `\\w`, `\\s`, `\\d` made
    ASCII as Java's are; None if `re` still refuses it."""

    def swap(match: re.Match[str]) -> str:
        escape = match.group(0)
        if escape.startswith("\\p"):
            inner = _PROPERTY_CLASSES.get(escape[3])
            if inner is None:
                raise ValueError(escape)
        elif escape in _ASCII_ESCAPES:
            inner = _ASCII_ESCAPES[escape]
        else:
            return escape
        return inner if _inside_class(match.string, match.start()) else f"[{inner}]"

    try:
        text = re.sub(r"\\p\{\w\}|\\.", swap, pattern)
        re.compile(text)
    except (ValueError, re.error):
        return None
    return text


_ASCII_ESCAPES = {"\\w": "a-zA-Z0-9_", "\\s": " \\t\\n", "\\d": "0-9"}
# A pattern that is one character class repeated: generated as text of that alphabet, so
# that long minimum lengths are met.
_REPEATED_CLASS = re.compile(r"\^?(\[(?:\\.|[^\]\\])*\])[+*]\$?")


def _inside_class(text: str, index: int) -> bool:
    depth = 0
    i = 0
    while i < index:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "[":
            depth += 1
        elif text[i] == "]" and depth:
            depth -= 1
        i += 1
    return depth > 0


def _length_ok(shape: Shape, value: str) -> bool:
    length = len(value.encode("utf-16-le")) // 2
    md = shape.metadata
    return md.get("min", 0) <= length <= md.get("max", 1 << 30)


# --------------------------------------------------------------------------- valid


def _string(shape: Shape) -> st.SearchStrategy[str]:
    md = shape.metadata
    if md.get("enum"):
        return st.sampled_from(list(md["enum"]))
    low = int(md.get("min", 0))
    high = max(low, min(int(md.get("max", _MAX_TEXT)), _MAX_TEXT))
    pattern = md.get("pattern")
    if pattern is None:
        alphabet = st.characters(codec="utf-8", exclude_categories=("Cs",))
        return st.text(alphabet, min_size=low, max_size=high)
    java = _java_pattern(pattern)
    translated = _python_pattern(pattern)
    repeated = _REPEATED_CLASS.fullmatch(translated or "")
    if repeated is not None:
        alphabet = st.from_regex(repeated.group(1), fullmatch=True)
        base = st.text(alphabet, min_size=max(low, 1), max_size=max(high, 1))
    elif translated is not None:
        base = st.from_regex(translated, fullmatch=True)
    else:
        base = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=high)
    return base.filter(lambda v: _length_ok(shape, v) and java.fullmatch(v) is not None)


def _integer(shape: Shape) -> st.SearchStrategy[int]:
    bounds = _INT32 if shape.type_name == "integer" else _INT64
    md = shape.metadata
    return st.integers(md.get("min", bounds[0]), md.get("max", bounds[1]))


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=10))
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def valid_value(
    shape: Shape, hints: Mapping[str, Sequence[Any]], depth: int = 0
) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return _JSON
        return _structure(shape, hints, depth)
    if kind == "list":
        md = shape.metadata
        low = int(md.get("min", 0))
        high = max(low, min(int(md.get("max", _MAX_ITEMS)), _MAX_ITEMS))
        if depth >= _MAX_DEPTH:
            high = low
        return st.lists(valid_value(shape.member, hints, depth + 1), min_size=low, max_size=high)
    if kind == "map":
        md = shape.metadata
        low = int(md.get("min", 0))
        high = max(low, min(int(md.get("max", _MAX_ITEMS)), _MAX_ITEMS))
        return st.dictionaries(
            _string(shape.key),
            valid_value(shape.value, hints, depth + 1),
            min_size=low,
            max_size=high,
        )
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        return _integer(shape)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(0, 4_102_444_800)
    if kind == "blob":
        md = shape.metadata
        low = int(md.get("min", 0))
        high = max(low, min(int(md.get("max", 64)), 64))
        return st.binary(min_size=low, max_size=high).map(lambda b: base64.b64encode(b).decode())
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    raise AssertionError(f"unexpected shape type {kind}")


def _member(
    name: str, shape: Shape, hints: Mapping[str, Sequence[Any]], depth: int
) -> st.SearchStrategy[Any]:
    real = hints.get(name) if not shape.metadata.get("enum") else None
    if real:
        return st.sampled_from(list(real))
    return valid_value(shape, hints, depth + 1)


def _structure(
    shape: Shape, hints: Mapping[str, Sequence[Any]], depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    required = set(shape.required_members)
    members = shape.members
    return st.fixed_dictionaries(
        {n: _member(n, s, hints, depth) for n, s in members.items() if n in required},
        optional=(
            {}
            if depth >= _MAX_DEPTH
            else {n: _member(n, s, hints, depth) for n, s in members.items() if n not in required}
        ),
    )


def valid_body(
    operation: str, hints: Mapping[str, Sequence[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    shape = input_shape(operation)
    if shape is None:
        return st.just({})
    return _structure(shape, hints, 0)


# --------------------------------------------------------------------------- invalid


def _wrong_types(kind: str) -> list[Any]:
    """JSON values of every type a member of `kind` is not."""
    every = {
        "string": "text",
        "integer": 7,
        "boolean": True,
        "list": ["a", 1],
        "structure": {"Unexpected": 1},
        "float": 1.5,
    }
    same = {
        "string": ("string", "blob"),
        "integer": ("integer", "long", "timestamp", "float", "double"),
        "float": ("integer", "long", "timestamp", "float", "double"),
        "boolean": ("boolean",),
        "list": ("list",),
        "structure": ("structure", "map"),
    }
    return [value for name, value in every.items() if kind not in same[name]]


def invalid_value(shape: Shape) -> st.SearchStrategy[Any]:
    """A value the validator must refuse (or, for a few, accept) without failing."""
    return st.sampled_from(invalid_values(shape))


def invalid_values(shape: Shape) -> list[Any]:
    """Every bad value tried for a member of this shape."""
    kind = shape.type_name
    md = shape.metadata
    options: list[Any] = [*_wrong_types(kind), None]
    if kind == "string":
        high = md.get("max")
        if high is not None and high < 200_000:
            options.append("x" * (int(high) + 1))
        options.append("y" * 70_000)
        options += ["\x00", "\ud7ff\ue000", "' OR 1=1 --", "../../etc/passwd", "%s%n", "é" * 3]
        if md.get("enum"):
            options.append("NOT_IN_ENUM")
    elif kind in ("integer", "long"):
        low, high = md.get("min"), md.get("max")
        if low is not None:
            options.append(int(low) - 1)
        if high is not None:
            options.append(int(high) + 1)
        options += [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, 1e300, -1e300, 2.5, -1]
    elif kind == "list":
        options.append(["z"] * 5000)
        options.append([None, None])
        high = md.get("max")
        if high is not None and high < 5000:
            options.append(["z"] * (int(high) + 1))
    elif kind == "map":
        options.append({f"k{i}": "v" for i in range(2000)})
        options.append({"": "v"})
    elif kind == "blob":
        options += ["not base64!", "QUJD", "=" * 5]
    elif kind == "timestamp":
        options += [-1e300, 1e300, 2**63, "2024-01-01T00:00:00Z"]
    elif kind == "structure":
        options += [{}, {"x" * 1000: "y"}]
    return options


def _mutated_structure(
    shape: Shape, hints: Mapping[str, Sequence[Any]], depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    members = list(shape.members.items())
    valid = _structure(shape, hints, depth)
    if not members or depth >= _MAX_DEPTH:
        return valid

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body = draw(valid)
        name, member = draw(st.sampled_from(members))
        body[name] = draw(_mutated(member, hints, depth + 1))
        return body

    return build()


def _mutated(
    shape: Shape, hints: Mapping[str, Sequence[Any]], depth: int
) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    bad = invalid_value(shape)
    if kind == "structure" and not shape.metadata.get("document"):
        return st.one_of(bad, _mutated_structure(shape, hints, depth))
    if kind == "list" and shape.member.type_name == "structure" and depth < _MAX_DEPTH:
        return st.one_of(
            bad, st.lists(_mutated(shape.member, hints, depth + 1), min_size=1, max_size=2)
        )
    if kind == "map" and depth < _MAX_DEPTH:
        return st.one_of(
            bad,
            st.dictionaries(
                _string(shape.key), _mutated(shape.value, hints, depth + 1), min_size=1, max_size=2
            ),
        )
    return bad


def mutated_body(
    operation: str, hints: Mapping[str, Sequence[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    shape = input_shape(operation)
    if shape is None:
        return st.fixed_dictionaries({}, optional={"Unexpected": _JSON})
    return _mutated_structure(shape, hints, 0)


# --------------------------------------------------------------------------- malformed


MALFORMED_BODIES: tuple[bytes, ...] = (
    b"{",  # truncated
    b'{"UserPoolId": "us-east-1_abc", "Limit": 1',  # truncated
    b"not json",
    b"[]",
    b'"a string"',
    b"42",
    b"null",
    b"true",
    b"\xff\xfe\x00{",  # not UTF-8
    b'{"Username": "\xc3\x28"}',  # invalid UTF-8 inside a string
    b'{"Username": "\\ud800"}',  # lone surrogate escape
    b"[" * 100_000 + b"]" * 100_000,  # huge nesting
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"UserPoolId": 1e400}',  # number beyond a double
    b'{"UserPoolId": NaN}',
    b"\x00" * 64,
    b'{"a": 1}garbage',
)
