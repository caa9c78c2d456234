"""Every operation of the model, derived from the model itself.

For each of the model's operations a minimal valid request is synthesized from its input
shape (required members only, values that satisfy every constraint) and sent with boto3.
An implemented operation must answer with something botocore parses: success, or one of
the errors the model declares for it (never a 500). An operation no issue has implemented
must say so: `UnsupportedOperationException` naming it. The set of implemented operations
is exactly what the README's table claims.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape

from cognate.operation_table import markdown
from cognate.wire.javaregex import compile_java_pattern

MODEL = botocore.session.get_session().get_service_model("cognito-idp")
README = Path(__file__).resolve().parents[2] / "README.md"

_CANDIDATES = [
    "abc",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "us-east-1_abcdefghi",
    "us-east-1_6b1a0a3c-1a2b-4c3d-8e4f-1234567890ab",
    "import-abc123",
    "https://example.com/path",
    "a@b",
    "Your code is {####}",
    "Your link {##Click##}",
    "Level1",
    "terms-of-use",
    "cognito:default",
    "tkn" + "a" * 25,
    "0123456789abcdef",
    "123456789012",
    "123456",
    "6b1a0a3c-1a2b-4c3d-8e4f-1234567890ab",
    "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abcdefghi",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret/name",
]


def _string_for(shape: Shape, known: dict[str, str]) -> str:
    if shape.name in known:
        return known[shape.name]
    if shape.enum:
        return str(shape.enum[0])
    low = shape.metadata.get("min", 0)
    high = shape.metadata.get("max", 10**6)
    pattern = shape.metadata.get("pattern")
    candidates = [*_CANDIDATES, "a" * max(low, 1), "A1" * max(low, 1)]
    for value in candidates:
        if not low <= len(value) <= high:
            continue
        if pattern is None or compile_java_pattern(pattern).fullmatch(value):
            return value
    raise AssertionError(f"no candidate value satisfies {shape.name} ({pattern}, {low}-{high})")


def synthesize(shape: Shape, known: dict[str, str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return {}
        return {name: synthesize(shape.members[name], known) for name in shape.required_members}
    if kind == "list":
        count = shape.metadata.get("min", 0)
        return [synthesize(shape.member, known) for _ in range(count)]
    if kind == "map":
        return {}
    if kind == "string":
        return _string_for(shape, known)
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return 0
    if kind == "blob":
        return b"x"
    raise AssertionError(f"unexpected shape type {kind}")


@pytest.fixture
def known_ids(cognito: Any, pool: dict[str, Any]) -> dict[str, str]:
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="every")
    return {
        "UserPoolIdType": pool["Id"],
        "ClientIdType": client["UserPoolClient"]["ClientId"],
        "ArnType": pool["Arn"],
        "DomainType": f"every-{uuid.uuid4().hex[:10]}",
    }


def implemented_operations() -> set[str]:
    from cognate.api import dispatch

    return set(dispatch.implemented())


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_operation_answers_as_the_model_says(
    raw: Any, known_ids: dict[str, str], operation: str
) -> None:
    op = MODEL.operation_model(operation)
    params = synthesize(op.input_shape, known_ids) if op.input_shape else {}
    method = getattr(raw, botocore.xform_name(operation))
    declared = {shape.name for shape in op.error_shapes}
    try:
        method(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status != 500, error
        if operation in implemented_operations():
            assert error["Code"] in declared | {"InvalidParameterException"}, error
        else:
            assert error["Code"] == "UnsupportedOperationException"
            assert operation in error["Message"]
            assert status == 400
    else:
        assert operation in implemented_operations()


def test_the_model_has_153_operations() -> None:
    assert len(MODEL.operation_names) == 153


def test_readme_operation_table_is_current() -> None:
    assert markdown() in README.read_text(), "regenerate it with `cognate operations`"
