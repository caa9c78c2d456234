"""Client ID Metadata Document (CIMD) policies with boto3: create, describe, update,
delete, list (paginated), the cache operations on a policy with nothing cached, and the
errors (unknown pool, client, policy; bad patterns; the LITE feature plan)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import new_client

PATTERN = "https://clients.example.com/*"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _policy(cognito: Any, pool_id: str, client_id: str, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "UserPoolId": pool_id,
        "ClientId": client_id,
        "PolicyName": "partners",
        "URLPatterns": [PATTERN],
        **extra,
    }
    created: dict[str, Any] = cognito.create_cimd_policy(**request)["CIMDPolicy"]
    return created


def test_policy_lifecycle(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    client_id = new_client(cognito, pool_id)["ClientId"]
    created = _policy(cognito, pool_id, client_id)
    policy_id = created["CIMDPolicyId"]
    assert re.fullmatch(r"[a-z0-9]+", policy_id)
    assert len(policy_id) <= 64
    assert created["UserPoolId"] == pool_id
    assert created["ClientId"] == client_id
    assert created["PolicyName"] == "partners"
    assert created["CacheDuration"] == 86400  # the documented default
    assert created["URLPatterns"] == [PATTERN]
    assert isinstance(created["CreationDate"], datetime.datetime)
    assert created["LastModifiedDate"] == created["CreationDate"]

    described = cognito.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    assert described["CIMDPolicy"] == created

    other = new_client(cognito, pool_id)["ClientId"]
    updated = cognito.update_cimd_policy(
        UserPoolId=pool_id,
        CIMDPolicyId=policy_id,
        ClientId=other,
        CacheDuration=31556952,
        URLPatterns=["https://a.example.com/c/*", "https://*.example.org/client.json"],
    )["CIMDPolicy"]
    assert updated["ClientId"] == other
    assert updated["PolicyName"] == "partners"  # kept when not given
    assert updated["CacheDuration"] == 31556952
    assert updated["URLPatterns"] == [
        "https://a.example.com/c/*",
        "https://*.example.org/client.json",
    ]
    assert updated["CreationDate"] == created["CreationDate"]
    renamed = cognito.update_cimd_policy(
        UserPoolId=pool_id,
        CIMDPolicyId=policy_id,
        ClientId=other,
        PolicyName="renamed",
        URLPatterns=[PATTERN],
    )["CIMDPolicy"]
    assert renamed["PolicyName"] == "renamed"
    assert renamed["CacheDuration"] == 31556952  # kept when not given

    listed = cognito.list_cimd_policies(UserPoolId=pool_id)["CIMDPolicies"]
    assert listed == [
        {
            "CIMDPolicyId": policy_id,
            "ClientId": other,
            "PolicyName": "renamed",
            "CacheDuration": 31556952,
            "CreationDate": created["CreationDate"],
            "LastModifiedDate": renamed["LastModifiedDate"],
        }
    ]
    urls = cognito.list_client_metadata_urls(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    assert urls["ClientMetadataURLs"] == []
    assert "NextToken" not in urls

    cognito.delete_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        cognito.delete_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    assert cognito.list_cimd_policies(UserPoolId=pool_id)["CIMDPolicies"] == []


def test_pagination(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    client_id = new_client(cognito, pool_id)["ClientId"]
    made = [_policy(cognito, pool_id, client_id)["CIMDPolicyId"] for _ in range(5)]
    first = cognito.list_cimd_policies(UserPoolId=pool_id, MaxResults=2)
    assert len(first["CIMDPolicies"]) == 2
    seen = [p["CIMDPolicyId"] for p in first["CIMDPolicies"]]
    token = first["NextToken"]
    while token:
        page = cognito.list_cimd_policies(UserPoolId=pool_id, MaxResults=2, NextToken=token)
        seen += [p["CIMDPolicyId"] for p in page["CIMDPolicies"]]
        token = page.get("NextToken")
    assert seen == made
    paginator = (
        cognito.get_paginator("list_cimd_policies")
        if cognito.can_paginate("list_cimd_policies")
        else None
    )
    if paginator is not None:
        pages = paginator.paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 3})
        assert [p["CIMDPolicyId"] for page in pages for p in page["CIMDPolicies"]] == made
    with pytest.raises(ClientError) as excinfo:
        cognito.list_cimd_policies(UserPoolId=pool_id, NextToken="bogus")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_errors(cognito: Any, raw: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    client_id = new_client(cognito, pool_id)["ClientId"]

    missing_pool = pool_id.split("_")[0] + "_missing0"
    with pytest.raises(ClientError) as excinfo:
        _policy(cognito, missing_pool, client_id)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"

    with pytest.raises(ClientError) as excinfo:
        _policy(cognito, pool_id, "nosuchclient123")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "User pool client nosuchclient123 does not exist.",
    )
    other_pool = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    foreign = new_client(cognito, other_pool)["ClientId"]
    with pytest.raises(ClientError) as excinfo:
        _policy(cognito, pool_id, foreign)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"

    # The model's constraints, checked by the server (boto3's own checks are off here).
    for patterns in (["http://clients.example.com/x"], ["https://a b.example.com/x"], []):
        with pytest.raises(ClientError) as excinfo:
            raw.create_cimd_policy(
                UserPoolId=pool_id, ClientId=client_id, PolicyName="p", URLPatterns=patterns
            )
        assert error_of(excinfo)[0] == "InvalidParameterException", patterns
    with pytest.raises(ClientError) as excinfo:
        raw.create_cimd_policy(
            UserPoolId=pool_id,
            ClientId=client_id,
            PolicyName="p",
            URLPatterns=[f"https://e{n}.example.com/c" for n in range(6)],
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    for duration in (86399, 31556953):
        with pytest.raises(ClientError) as excinfo:
            raw.create_cimd_policy(
                UserPoolId=pool_id,
                ClientId=client_id,
                PolicyName="p",
                URLPatterns=[PATTERN],
                CacheDuration=duration,
            )
        code, message = error_of(excinfo)
        assert code == "InvalidParameterException"
        assert "cacheDuration" in message

    # Cognate's pattern rules: a path, and a domain named without a wildcard.
    for pattern in (
        "https://clients.example.com",
        "https://clients.*/x.json",
        "https://*/client.json",
    ):
        with pytest.raises(ClientError) as excinfo:
            _policy(cognito, pool_id, client_id, URLPatterns=[pattern])
        assert error_of(excinfo)[0] == "InvalidParameterException", pattern

    with pytest.raises(ClientError) as excinfo:
        raw.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId="Not-Valid")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    for call in (
        lambda: cognito.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId="abc123"),
        lambda: cognito.update_cimd_policy(
            UserPoolId=pool_id, CIMDPolicyId="abc123", ClientId=client_id, URLPatterns=[PATTERN]
        ),
        lambda: cognito.list_client_metadata_urls(UserPoolId=pool_id, CIMDPolicyId="abc123"),
        lambda: cognito.update_client_metadata_url_state(
            UserPoolId=pool_id,
            CIMDPolicyId="abc123",
            URL="https://clients.example.com/a.json",
            Action="INVALIDATE",
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            "ResourceNotFoundException",
            "CIMD policy abc123 does not exist.",
        )

    policy_id = _policy(cognito, pool_id, client_id)["CIMDPolicyId"]
    for action in ("REFRESH", "INVALIDATE"):
        with pytest.raises(ClientError) as excinfo:
            cognito.update_client_metadata_url_state(
                UserPoolId=pool_id,
                CIMDPolicyId=policy_id,
                URL="https://clients.example.com/a.json",
                Action=action,
            )
        assert error_of(excinfo)[0] == "CachedCIMDURLDoesNotExistException"
    with pytest.raises(ClientError) as excinfo:
        raw.update_client_metadata_url_state(
            UserPoolId=pool_id,
            CIMDPolicyId=policy_id,
            URL="https://clients.example.com/a.json",
            Action="PURGE",
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_client_deleted(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    client_id = new_client(cognito, pool_id)["ClientId"]
    policy_id = _policy(cognito, pool_id, client_id)["CIMDPolicyId"]
    cognito.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    described = cognito.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    assert "ClientId" not in described["CIMDPolicy"]
    assert "ClientId" not in cognito.list_cimd_policies(UserPoolId=pool_id)["CIMDPolicies"][0]


def test_lite_feature_plan(cognito: Any) -> None:
    pool_id = cognito.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as excinfo:
        _policy(cognito, pool_id, client_id)
    assert error_of(excinfo)[0] == "FeatureUnavailableInTierException"
    assert cognito.list_cimd_policies(UserPoolId=pool_id)["CIMDPolicies"] == []

    cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier="ESSENTIALS")
    policy_id = _policy(cognito, pool_id, client_id)["CIMDPolicyId"]
    cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier="LITE")
    with pytest.raises(ClientError) as excinfo:
        cognito.update_cimd_policy(
            UserPoolId=pool_id, CIMDPolicyId=policy_id, ClientId=client_id, URLPatterns=[PATTERN]
        )
    assert error_of(excinfo)[0] == "FeatureUnavailableInTierException"
    # Reading and deleting need no feature plan.
    cognito.describe_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
    cognito.delete_cimd_policy(UserPoolId=pool_id, CIMDPolicyId=policy_id)
