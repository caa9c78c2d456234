"""The AWS SDK for JavaScript v3 against a live Cognate: an administrative flow end to end.

`tests/js/admin_flow.mjs` drives the server with `CognitoIdentityProviderClient` (user pool,
app client, custom attribute, tags, domain, signing certificate, then three provoked errors)
and prints one JSON object with what the SDK surfaced; this test asserts on that object.
Needs Node.js and `tests/js/node_modules` (`./dev test` installs them with `npm ci`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.server import CognateServer

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "admin_flow.mjs"
SDK_PACKAGE = "@aws-sdk/client-cognito-identity-provider"
ACCOUNT_ID = "000000000000"
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STANDARD_ATTRIBUTES = {
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
}

pytestmark = pytest.mark.node


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: `node` is not on PATH")
    if not (JS_DIR / "node_modules" / SDK_PACKAGE).is_dir():
        pytest.skip(
            f"the JavaScript SDK is not installed in {JS_DIR / 'node_modules'} "
            "(run `./dev test`, or `npm ci` in tests/js)"
        )
    return node


def run_admin_flow(endpoint: str, region: str) -> dict[str, Any]:
    """Run admin_flow.mjs and return the JSON object it printed."""
    node = _node()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    result = subprocess.run(
        [node, str(SCRIPT), endpoint, region],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"admin_flow.mjs exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one line of JSON, got:\n{result.stdout}"
    observed: dict[str, Any] = json.loads(lines[0])
    return observed


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 timestamp as JSON.stringify writes a JS Date, e.g. 2024-01-02T03:04:05.678Z."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), value
    return dt.datetime.fromisoformat(value)


def check_pool(observed: dict[str, Any], region: str) -> dict[str, Any]:
    created = observed["createUserPool"]
    assert created["httpStatusCode"] == 200
    assert REQUEST_ID.fullmatch(created["requestId"])
    # The SDK deserialised the epoch-seconds timestamps into Date objects.
    assert created["creationDateIsDate"] is True
    assert created["lastModifiedDateIsDate"] is True

    pool: dict[str, Any] = created["userPool"]
    pool_id = pool["Id"]
    assert re.fullmatch(re.escape(region) + r"_[0-9A-Za-z]{9}", pool_id), pool_id
    assert pool["Arn"] == f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool_id}"
    assert pool["Name"] == "js-sdk-pool"
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert pool["EstimatedNumberOfUsers"] == 0
    assert pool["UserPoolTags"] == {"origin": "js-sdk"}
    assert pool["LambdaConfig"] == {}
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert pool["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": False,
        "UnusedAccountValidityDays": 7,
    }
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert pool["VerificationMessageTemplate"] == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}

    created_at = parse_time(pool["CreationDate"])
    assert parse_time(pool["LastModifiedDate"]) == created_at
    assert abs(dt.datetime.now(dt.UTC) - created_at) < dt.timedelta(minutes=5)

    schema = pool["SchemaAttributes"]
    names = [attribute["Name"] for attribute in schema]
    assert len(schema) >= 20
    assert len(names) == len(set(names)), names
    assert set(names) >= STANDARD_ATTRIBUTES
    assert [a for a in schema if a["Name"].startswith("custom:")] == [
        {
            "Name": "custom:team",
            "AttributeDataType": "String",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
        }
    ]
    assert next(a for a in schema if a["Name"] == "sub") == {
        "Name": "sub",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": False,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    }

    # DescribeUserPool returns exactly what CreateUserPool returned.
    assert observed["describeUserPool"] == pool
    assert observed["listUserPools"] == {
        "UserPools": [
            {
                "Id": pool_id,
                "Name": "js-sdk-pool",
                "LambdaConfig": {},
                "LastModifiedDate": pool["LastModifiedDate"],
                "CreationDate": pool["CreationDate"],
            }
        ]
    }
    return pool


def check_client(observed: dict[str, Any], pool_id: str) -> None:
    client = observed["createUserPoolClient"]
    client_id = client["ClientId"]
    assert re.fullmatch(r"[a-z0-9]{26}", client_id), client_id
    assert re.fullmatch(r"[a-z0-9]{52}", client["ClientSecret"]), client["ClientSecret"]
    assert client["UserPoolId"] == pool_id
    assert client["ClientName"] == "js-sdk-app"
    assert client["RefreshTokenValidity"] == 30
    assert client["TokenValidityUnits"] == {}
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert client["EnableTokenRevocation"] is True
    assert client["AuthSessionValidity"] == 3
    assert parse_time(client["CreationDate"]) == parse_time(client["LastModifiedDate"])

    assert observed["describeUserPoolClient"] == client
    assert observed["listUserPoolClients"] == {
        "UserPoolClients": [
            {"ClientId": client_id, "UserPoolId": pool_id, "ClientName": "js-sdk-app"}
        ]
    }

    updated = observed["updateUserPoolClient"]
    assert updated["ClientId"] == client_id
    assert updated["ClientSecret"] == client["ClientSecret"]
    assert updated["ClientName"] == "js-sdk-app-renamed"
    assert updated["RefreshTokenValidity"] == 10
    assert updated["TokenValidityUnits"] == {"RefreshToken": "days"}
    assert updated["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert updated["CreationDate"] == client["CreationDate"]
    assert parse_time(updated["LastModifiedDate"]) >= parse_time(client["LastModifiedDate"])


def check_attribute_tags_and_domain(
    observed: dict[str, Any], pool: dict[str, Any], region: str
) -> None:
    assert observed["schemaAfterAddCustomAttributes"] == [
        *pool["SchemaAttributes"],
        {
            "Name": "custom:level",
            "AttributeDataType": "Number",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "10"},
        },
    ]

    # The tag given at creation and the two added by TagResource.
    assert observed["listTagsForResource"] == {
        "Tags": {"origin": "js-sdk", "team": "identity", "stage": "e2e"}
    }

    domain = f"js-{region}"
    # A prefix domain: no CloudFrontDomain to point a DNS record at, the classic hosted UI.
    assert observed["createUserPoolDomain"] == {"ManagedLoginVersion": 1}
    description = observed["describeUserPoolDomain"]["DomainDescription"]
    assert description["Domain"] == domain
    assert description["UserPoolId"] == pool["Id"]
    assert description["AWSAccountId"] == ACCOUNT_ID
    assert description["Status"] == "ACTIVE"
    assert description["CloudFrontDistribution"]
    assert description["Version"]
    assert description["ManagedLoginVersion"] == 1


def check_certificate(observed: dict[str, Any]) -> None:
    certificate = observed["getSigningCertificate"]["Certificate"]
    der = base64.b64decode(certificate, validate=True)
    cert = x509.load_der_x509_certificate(der)
    assert cert.version is x509.Version.v3
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size >= 2048
    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc <= now + dt.timedelta(minutes=5)
    assert cert.not_valid_after_utc > now + dt.timedelta(days=365)


def expected_error(name: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "thrown": True,
        "name": name,
        "message": message,
        "httpStatusCode": 400,
        "requestId": request_id,
        "fault": "client",
        "isServiceException": True,
        "isResourceNotFoundException": name == "ResourceNotFoundException",
        "isInvalidParameterException": name == "InvalidParameterException",
        "isUnsupportedOperationException": name == "UnsupportedOperationException",
    }


def check_errors(observed: dict[str, Any], region: str) -> None:
    errors = observed["errors"]
    for error in errors.values():
        assert error["thrown"] is True, error
        assert REQUEST_ID.fullmatch(error["requestId"]), error

    missing = f"{region}_doesnotexist1"
    assert observed["missingPoolId"] == missing
    assert errors["describeMissingPool"] == expected_error(
        "ResourceNotFoundException",
        f"User pool {missing} does not exist.",
        errors["describeMissingPool"]["requestId"],
    )
    assert errors["listUserPoolsMaxResultsZero"] == expected_error(
        "InvalidParameterException",
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
        errors["listUserPoolsMaxResultsZero"]["requestId"],
    )
    # Every operation is implemented now (tests/protocol/test_every_operation.py checks
    # it), so the SDK's view of UnsupportedOperationException has no example left; the
    # replica listing that was the example answers for real.
    assert observed["listUserPoolReplicas"]["UserPoolReplicas"] == [
        {
            "RegionName": region,
            "Status": "ACTIVE",
            "Role": "PRIMARY",
            "UserPoolArn": observed["describeUserPool"]["Arn"],
        }
    ]


def test_admin_flow_with_the_js_sdk(server: CognateServer, region: str) -> None:
    observed = run_admin_flow(server.endpoint, region)

    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"][SDK_PACKAGE]
    assert observed["sdkVersion"] == pinned, "tests/js/node_modules is stale: run `npm ci`"
    assert observed["region"] == region

    pool = check_pool(observed, region)
    check_client(observed, pool["Id"])
    check_attribute_tags_and_domain(observed, pool, region)
    check_certificate(observed)
    check_errors(observed, region)
    # The flow cleans up after itself: domain, client and pool are gone.
    assert observed["listUserPoolsAfterDelete"] == {"UserPools": []}
