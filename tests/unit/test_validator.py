"""The validator's messages, checked directly against model shapes (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from cognate.api.errors import SerializationException
from cognate.api.exceptions import InvalidParameterException
from cognate.wire.model import input_spec
from cognate.wire.validator import java_length, java_str, validate_request


def message(operation: str, body: dict[str, Any]) -> str:
    spec = input_spec(operation)
    assert spec is not None
    with pytest.raises(InvalidParameterException) as exc:
        validate_request(spec, body)
    return exc.value.message


def test_valid_request_passes_through_unchanged() -> None:
    spec = input_spec("CreateUserPool")
    assert spec is not None
    body = {"PoolName": "p", "UserPoolTags": {"a": "b"}, "Unknown": 1}
    assert validate_request(spec, body) == {"PoolName": "p", "UserPoolTags": {"a": "b"}}


def test_null_members_count_as_absent() -> None:
    assert message("DescribeUserPool", {"UserPoolId": None}) == (
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_password_is_masked_and_checks_are_ordered() -> None:
    text = message("SignUp", {"ClientId": "abc", "Username": "a b", "Password": " "})
    assert text == (
        "2 validation errors detected: "
        "Value at 'username' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+; "
        "Value at 'password' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\S]+"
    )


def test_list_of_structures_reports_each_element() -> None:
    text = message(
        "AdminCreateUser",
        {"UserPoolId": "us-east-1_abc", "Username": "u", "UserAttributes": [{"Value": "x"}]},
    )
    assert text == (
        "1 validation error detected: Value null at 'userAttributes.1.member.name' failed to "
        "satisfy constraint: Member must not be null"
    )


def test_list_length_prints_structures_java_style() -> None:
    text = message("AddCustomAttributes", {"UserPoolId": "us-east-1_abc", "CustomAttributes": []})
    assert text == (
        "1 validation error detected: Value '[]' at 'customAttributes' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )


def test_lengths_count_utf16_units_like_java() -> None:
    assert java_length("abc") == 3
    assert java_length("😀") == 2
    assert java_str(["a", True, {"k": 1}]) == "[a, true, {k=1}]"


def test_type_errors_abort_with_serialization_exception() -> None:
    spec = input_spec("ListUserPools")
    assert spec is not None
    with pytest.raises(SerializationException) as exc:
        validate_request(spec, {"MaxResults": [1]})
    assert exc.value.message == "Start of list found where not expected."


def test_blobs_are_decoded() -> None:
    spec = input_spec("SetUICustomization")
    assert spec is not None
    params = validate_request(spec, {"UserPoolId": "us-east-1_abc", "ImageFile": "aGk="})
    assert params["ImageFile"] == b"hi"
    with pytest.raises(SerializationException):
        validate_request(spec, {"UserPoolId": "us-east-1_abc", "ImageFile": "not base64!"})
