"""The AWS JSON 1.1 wire protocol as Cognito speaks it: framing, errors, validation, regions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client

TARGET = "AWSCognitoIdentityProviderService."


def post(
    endpoint: str, target: str | None, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, Any]]:
    """POST raw bytes; returns (status, case-insensitive headers, JSON body)."""
    request = urllib.request.Request(endpoint + "/", data=body, method="POST")
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    if target is not None:
        request.add_header("X-Amz-Target", target)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_success_carries_request_id_and_content_type(server: Any) -> None:
    status, headers, body = post(server.endpoint, TARGET + "ListUserPools", b'{"MaxResults": 5}')
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-RequestId"]) == 36
    assert body == {"UserPools": []} or "UserPools" in body


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "DescribeUserPool",
        "AWSCognitoIdentityProviderService.NoSuchOperation",
        "AWSCognitoIdentityService.DescribeUserPool",
    ],
)
def test_unknown_or_missing_target_is_unknown_operation(server: Any, target: str | None) -> None:
    status, headers, body = post(server.endpoint, target, b"{}")
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert body["message"]
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException:"
    assert headers["x-amzn-RequestId"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"", b'{"a":'])
def test_body_that_is_not_a_json_object_is_a_serialization_error(server: Any, body: bytes) -> None:
    status, headers, payload = post(server.endpoint, TARGET + "ListUserPools", body)
    assert status == 400
    assert payload["__type"] == "SerializationException"
    assert headers["x-amzn-ErrorType"] == "SerializationException:"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"MaxResults": "10"}, "STRING_VALUE cannot be converted to Integer"),
        ({"MaxResults": True}, "TRUE_VALUE cannot be converted to Integer"),
        ({"MaxResults": 10, "NextToken": 5}, "NUMBER_VALUE cannot be converted to String"),
        (
            {"MaxResults": 10, "NextToken": {"a": 1}},
            "Start of structure or map found where not expected.",
        ),
        ({"MaxResults": 10, "NextToken": ["a"]}, "Start of list found where not expected."),
    ],
)
def test_member_of_the_wrong_type_is_a_serialization_error(
    server: Any, body: dict[str, Any], message: str
) -> None:
    status, _headers, payload = post(
        server.endpoint, TARGET + "ListUserPools", json.dumps(body).encode()
    )
    assert (status, payload) == (400, {"__type": "SerializationException", "message": message})


def test_structure_expected_but_scalar_given(server: Any) -> None:
    status, _h, payload = post(
        server.endpoint, TARGET + "CreateUserPool", b'{"PoolName": "p", "Policies": "strict"}'
    )
    assert (status, payload["__type"], payload["message"]) == (
        400,
        "SerializationException",
        "Expected map or null",
    )


def test_missing_required_member(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.describe_user_pool()
    assert error_of(exc) == (
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: "
        "Member must not be null",
    )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_pattern_violation_message_prints_value_and_pattern(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.describe_user_pool(UserPoolId="my pool")
    assert error_of(exc) == (
        "InvalidParameterException",
        "1 validation error detected: Value 'my pool' at 'userPoolId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
    )


def test_several_violations_are_counted_and_joined(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.list_user_pools(MaxResults=0, NextToken="has space")
    code, message = error_of(exc)
    assert code == "InvalidParameterException"
    assert message == (
        "2 validation errors detected: "
        "Value 'has space' at 'nextToken' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [\\S]+; "
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater "
        "than or equal to 1"
    )


def test_sensitive_values_are_left_out(raw: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c", ClientSecret="short")
    assert error_of(exc) == (
        "InvalidParameterException",
        "1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: "
        "Member must have length greater than or equal to 24",
    )


def test_enum_in_a_list_is_reported_for_the_whole_list(raw: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool_client(
            UserPoolId=pool["Id"], ClientName="c", ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"]
        )
    code, message = error_of(exc)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "1 validation error detected: Value '[ADMIN_USER_PASSWORD_AUTH]' at 'explicitAuthFlows' "
        "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
        "value set: [ALLOW_CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, "
        "ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH, "
        "ALLOW_ADMIN_USER_PASSWORD_AUTH, "
    )
    assert message.endswith("]]")


def test_scalar_enum_uses_cognitos_order(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool(PoolName="p", MfaConfiguration="false")
    assert error_of(exc)[1] == (
        "1 validation error detected: Value 'false' at 'mfaConfiguration' failed to satisfy "
        "constraint: Member must satisfy enum value set: [OPTIONAL, OFF, ON]"
    )


def test_nested_members_use_camel_paths_with_member_indexes(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool(
            PoolName="p",
            Policies={"PasswordPolicy": {"MinimumLength": 4}},
            Schema=[{"Name": "fine"}, {"Name": "phone_number_verified"}],
        )
    assert error_of(exc)[1] == (
        "2 validation errors detected: "
        "Value '4' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: "
        "Member must have value greater than or equal to 6; "
        "Value 'phone_number_verified' at 'schema.2.member.name' failed to satisfy constraint: "
        "Member must have length less than or equal to 20"
    )


def test_map_value_constraints(raw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool(PoolName="p", UserPoolTags={"k": "v" * 300})
    assert error_of(exc)[1] == (
        "1 validation error detected: Value '{k=" + "v" * 300 + "}' at 'userPoolTags' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have length less "
        "than or equal to 256, Member must have length greater than or equal to 0]"
    )


def test_unicode_classes_in_patterns(raw: Any, pool: dict[str, Any]) -> None:
    # ClientNameType is [\w\s+=,.@-]+ with Java's ASCII \w: accented letters are refused...
    with pytest.raises(ClientError) as exc:
        raw.create_user_pool_client(UserPoolId=pool["Id"], ClientName="café")
    assert "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+" in error_of(exc)[1]
    # ...while CallbackURLs use \p{L} classes, which accept them.
    client = raw.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="cafe", CallbackURLs=["https://café.example/cb"]
    )["UserPoolClient"]
    assert client["CallbackURLs"] == ["https://café.example/cb"]


def test_every_operation_has_a_handler(cognito: Any) -> None:
    # This used an unimplemented operation (ListUserPoolReplicas) to show the honest
    # UnsupportedOperationException; every operation of the model is implemented now, so
    # there is no example left (tests/protocol/test_every_operation.py would check that
    # answer for any operation without a handler). The former example answers for real.
    import cognate.operations  # noqa: F401  (registers the handlers)
    from cognate.api import dispatch
    from cognate.wire import model

    assert set(dispatch.implemented()) == set(model.operation_names())
    with pytest.raises(ClientError) as exc:
        cognito.list_user_pool_replicas(UserPoolId="us-east-1_abcdefghi")
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "User pool us-east-1_abcdefghi does not exist.",
    )


def test_region_comes_from_the_signature(server: Any, region: str) -> None:
    east = make_client(server.endpoint, region)
    west = make_client(server.endpoint, region.replace("zz-", "yy-"))
    created = east.create_user_pool(PoolName="regional")["UserPool"]
    assert created["Id"].startswith(region + "_")
    assert created["Arn"] == f"arn:aws:cognito-idp:{region}:000000000000:userpool/{created['Id']}"
    assert [p["Id"] for p in east.list_user_pools(MaxResults=60)["UserPools"]] == [created["Id"]]
    assert west.list_user_pools(MaxResults=60)["UserPools"] == []
    with pytest.raises(west.exceptions.ResourceNotFoundException) as exc:
        west.describe_user_pool(UserPoolId=created["Id"])
    assert exc.value.response["Error"]["Message"] == f"User pool {created['Id']} does not exist."


def test_unsigned_request_takes_the_region_of_the_pool_id(
    server: Any, cognito: Any, region: str
) -> None:
    created = cognito.create_user_pool(PoolName="unsigned")["UserPool"]
    status, _h, body = post(
        server.endpoint,
        TARGET + "DescribeUserPool",
        json.dumps({"UserPoolId": created["Id"]}).encode(),
    )
    assert status == 200
    assert body["UserPool"]["Id"] == created["Id"]
