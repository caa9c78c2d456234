"""User pools through boto3: defaults, update semantics, deletion, listing, custom attributes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

STANDARD = [
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
]


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_pool_created_with_only_a_name_has_cognitos_defaults(cognito: Any, region: str) -> None:
    before = dt.datetime.now(dt.UTC)
    pool = cognito.create_user_pool(PoolName="demo")["UserPool"]
    assert re.fullmatch(rf"{region}_[0-9A-Za-z]{{9}}", pool["Id"])
    assert pool["Name"] == "demo"
    assert pool["Arn"] == f"arn:aws:cognito-idp:{region}:000000000000:userpool/{pool['Id']}"
    assert pool["Policies"] == {
        "PasswordPolicy": {
            "MinimumLength": 8,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": True,
            "TemporaryPasswordValidityDays": 7,
        },
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]},
    }
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["LambdaConfig"] == {}
    assert pool["VerificationMessageTemplate"] == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": []}
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["EstimatedNumberOfUsers"] == 0
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert pool["UserPoolTags"] == {}
    assert pool["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": False,
        "UnusedAccountValidityDays": 7,
    }
    assert pool["UserPoolTier"] == "ESSENTIALS"
    for absent in (
        "UsernameConfiguration",
        "AccountRecoverySetting",
        "AliasAttributes",
        "UsernameAttributes",
        "AutoVerifiedAttributes",
        "Domain",
        "Status",
    ):
        assert absent not in pool
    assert [a["Name"] for a in pool["SchemaAttributes"]] == STANDARD
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert schema["sub"] == {
        "Name": "sub",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": False,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    }
    assert schema["birthdate"]["StringAttributeConstraints"] == {
        "MinLength": "10",
        "MaxLength": "10",
    }
    assert schema["email_verified"] == {
        "Name": "email_verified",
        "AttributeDataType": "Boolean",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
    }
    assert schema["updated_at"]["NumberAttributeConstraints"] == {"MinValue": "0"}
    assert (
        before - dt.timedelta(seconds=5) < pool["CreationDate"] < before + dt.timedelta(seconds=5)
    )
    assert pool["CreationDate"] == pool["LastModifiedDate"]
    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"] == pool


def test_create_with_full_configuration_round_trips(cognito: Any) -> None:
    request = {
        "PoolName": "full",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireNumbers": True,
                "TemporaryPasswordValidityDays": 3,
            },
        },
        "DeletionProtection": "ACTIVE",
        "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"},
        "AutoVerifiedAttributes": ["email"],
        "AliasAttributes": ["email", "preferred_username"],
        "VerificationMessageTemplate": {
            "EmailMessage": "Your code is {####}",
            "EmailSubject": "Your code",
        },
        "UserPoolTags": {"team": "identity", "env": "test"},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "UsernameConfiguration": {"CaseSensitive": False},
        "AccountRecoverySetting": {
            "RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]
        },
        "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": True},
        "Schema": [
            {"Name": "email", "Required": True, "Mutable": True},
            {
                "Name": "tenant",
                "AttributeDataType": "String",
                "Mutable": False,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            },
            {
                "Name": "age",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"},
            },
            {"Name": "legacy", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
        ],
    }
    pool = cognito.create_user_pool(**request)["UserPool"]
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described == pool
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireUppercase": False,
        "RequireLowercase": False,
        "RequireNumbers": True,
        "RequireSymbols": False,
        "TemporaryPasswordValidityDays": 3,
    }
    assert pool["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": True,
        "UnusedAccountValidityDays": 3,
    }
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["LambdaConfig"] == request["LambdaConfig"]
    assert pool["AliasAttributes"] == ["email", "preferred_username"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["UserPoolTags"] == {"env": "test", "team": "identity"}
    assert pool["EmailVerificationMessage"] == "Your code is {####}"
    assert pool["EmailVerificationSubject"] == "Your code"
    assert pool["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert schema["email"]["Required"] is True
    assert schema["custom:tenant"] == {
        "Name": "custom:tenant",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": False,
        "Required": False,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
    }
    assert schema["custom:age"]["NumberAttributeConstraints"] == {
        "MinValue": "0",
        "MaxValue": "150",
    }
    assert schema["dev:custom:legacy"]["DeveloperOnlyAttribute"] is True
    assert schema["dev:custom:legacy"]["StringAttributeConstraints"] == {"MaxLength": "2048"}


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            {"AliasAttributes": ["email"], "UsernameAttributes": ["email"]},
            "InvalidParameterException",
            "Only one of the aliasAttributes or usernameAttributes can be set in a User pool.",
        ),
        (
            {"MfaConfiguration": "ON"},
            "InvalidParameterException",
            "SMS configuration and Auto verification for phone_number are required when MFA is "
            "required/optional",
        ),
        (
            {"Schema": [{"Name": "team", "AttributeDataType": "String", "Required": True}]},
            "InvalidParameterException",
            "Required custom attributes are not supported currently.",
        ),
        (
            {"Schema": [{"Name": "email", "AttributeDataType": "Number"}]},
            "InvalidParameterException",
            "You can not change AttributeDataType or set developerOnlyAttribute for standard "
            "schema attribute email",
        ),
        (
            {"Schema": [{"Name": "dept"}, {"Name": "dept"}]},
            "InvalidParameterException",
            "Duplicate custom attribute names custom:dept are not allowed in a user pool schema.",
        ),
        (
            {
                "Schema": [
                    {
                        "Name": "level",
                        "StringAttributeConstraints": {"MinLength": "5", "MaxLength": "2"},
                    }
                ]
            },
            "InvalidParameterException",
            "Attribute custom:level cannot have a max length shorter than it's min length",
        ),
        (
            {
                "Schema": [
                    {
                        "Name": "n2",
                        "AttributeDataType": "Number",
                        "NumberAttributeConstraints": {"MinValue": "9", "MaxValue": "1"},
                    }
                ]
            },
            "InvalidParameterException",
            "Attribute custom:n2 cannot have a max value smaller than it's min value",
        ),
        (
            {"AutoVerifiedAttributes": ["phone_number"]},
            "InvalidParameterException",
            "SMS configuration is required when phone_number is selected for auto verification",
        ),
        (
            {"EmailConfiguration": {"EmailSendingAccount": "DEVELOPER"}},
            "InvalidParameterException",
            "Source ARN is required to use DEVELOPER email sending owner",
        ),
        (
            {
                "Policies": {"PasswordPolicy": {"TemporaryPasswordValidityDays": 3}},
                "AdminCreateUserConfig": {"UnusedAccountValidityDays": 5},
            },
            "InvalidParameterException",
            "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of "
            "UnusedAccountValidityDays",
        ),
        (
            {
                "UserPoolTier": "LITE",
                "Policies": {
                    "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
                },
            },
            "FeatureUnavailableInTierException",
            "The following features need to be disabled for the LITE pricing tier configured: "
            "Passwordless Sign-In",
        ),
        (
            {"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}},
            "FeatureUnavailableInTierException",
            "The following features need to be disabled for the ESSENTIALS pricing tier "
            "configured: Threat Protection",
        ),
    ],
)
def test_create_rejects_what_cognito_rejects(
    cognito: Any, request_: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool(PoolName="bad", **request_)
    assert error(exc) == (code, message)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert cognito.list_user_pools(MaxResults=60)["UserPools"] == []  # nothing half-created


def test_plus_tier_allows_threat_protection(cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="plus", UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"}
    )["UserPool"]
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}


def test_update_resets_what_cognito_resets_and_keeps_the_rest(cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="before",
        Policies={"PasswordPolicy": {"MinimumLength": 10}},
        DeletionProtection="ACTIVE",
        AutoVerifiedAttributes=["email"],
        AliasAttributes=["email"],
        LambdaConfig={"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UserPoolTags={"a": "1"},
        UsernameConfiguration={"CaseSensitive": False},
    )["UserPool"]
    cognito.update_user_pool(UserPoolId=pool["Id"], PoolName="after")
    after = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert after["Name"] == "after"
    # kept (measured against Cognito)
    assert after["Policies"] == pool["Policies"]
    assert after["DeletionProtection"] == "ACTIVE"
    assert after["MfaConfiguration"] == "OFF"
    # immutable after creation
    assert after["AliasAttributes"] == ["email"]
    assert after["UsernameConfiguration"] == {"CaseSensitive": False}
    assert after["SchemaAttributes"] == pool["SchemaAttributes"]
    # reset to defaults (measured against Cognito)
    assert "AutoVerifiedAttributes" not in after
    assert after["LambdaConfig"] == {}
    assert after["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert after["UserPoolTags"] == {}
    assert after["LastModifiedDate"] >= pool["LastModifiedDate"]
    assert after["CreationDate"] == pool["CreationDate"]


def test_update_changes_settings(cognito: Any, pool: dict[str, Any]) -> None:
    cognito.update_user_pool(
        UserPoolId=pool["Id"],
        Policies={"PasswordPolicy": {"MinimumLength": 6, "RequireSymbols": True}},
        UserPoolTags={"k": "v"},
        DeviceConfiguration={"DeviceOnlyRememberedOnUserPrompt": True},
        UserPoolTier="PLUS",
    )
    after = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert after["Name"] == "test-pool"
    assert after["Policies"]["PasswordPolicy"]["MinimumLength"] == 6
    assert after["Policies"]["PasswordPolicy"]["RequireUppercase"] is False
    assert after["Policies"]["SignInPolicy"] == {"AllowedFirstAuthFactors": ["PASSWORD"]}
    assert after["UserPoolTags"] == {"k": "v"}
    assert after["DeviceConfiguration"] == {"DeviceOnlyRememberedOnUserPrompt": True}
    assert after["UserPoolTier"] == "PLUS"


def test_update_cannot_turn_mfa_on(cognito: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool(UserPoolId=pool["Id"], MfaConfiguration="ON")
    assert error(exc) == (
        "InvalidParameterException",
        "Cannot turn MFA functionality ON, once the user pool has been created.",
    )


def test_update_of_unknown_pool(cognito: Any, region: str) -> None:
    missing = f"{region}_AAAAAAAAA"
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool(UserPoolId=missing)
    assert error(exc) == ("ResourceNotFoundException", f"User pool {missing} does not exist.")


def test_delete_honours_deletion_protection(cognito: Any) -> None:
    pool = cognito.create_user_pool(PoolName="guarded", DeletionProtection="ACTIVE")["UserPool"]
    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool(UserPoolId=pool["Id"])
    assert error(exc) == (
        "InvalidParameterException",
        "The user pool cannot be deleted because deletion protection is activated. Deletion "
        "protection must be inactivated first.",
    )
    cognito.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    cognito.delete_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_user_pool(UserPoolId=pool["Id"])


def test_delete_removes_clients_and_tags(cognito: Any, pool: dict[str, Any]) -> None:
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app")
    cognito.delete_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(ClientError) as exc:
        cognito.describe_user_pool_client(
            UserPoolId=pool["Id"], ClientId=client["UserPoolClient"]["ClientId"]
        )
    assert error(exc) == ("ResourceNotFoundException", f"User pool {pool['Id']} does not exist.")


def test_list_pages_through_every_pool_once(cognito: Any) -> None:
    created = [cognito.create_user_pool(PoolName=f"p{i}")["UserPool"]["Id"] for i in range(7)]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": 3}
    pages = 0
    while True:
        page = cognito.list_user_pools(**kwargs)
        pages += 1
        seen += [p["Id"] for p in page["UserPools"]]
        assert len(page["UserPools"]) <= 3
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert pages == 3
    assert seen == created
    item = cognito.list_user_pools(MaxResults=1)["UserPools"][0]
    assert set(item) == {"Id", "Name", "LambdaConfig", "CreationDate", "LastModifiedDate"}
    # the paginator boto3 ships works against it too
    paginator = cognito.get_paginator("list_user_pools")
    ids = [p["Id"] for page in paginator.paginate(MaxResults=2) for p in page["UserPools"]]
    assert ids == created


def test_list_rejects_a_forged_token(cognito: Any) -> None:
    cognito.create_user_pool(PoolName="one")
    cognito.create_user_pool(PoolName="two")
    token = cognito.list_user_pools(MaxResults=1)["NextToken"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(ClientError) as exc:
        cognito.list_user_pools(MaxResults=1, NextToken=forged)
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Paging marker {forged} is invalid for request ")
    assert message.endswith(exc.value.response["ResponseMetadata"]["RequestId"])


def test_add_custom_attributes(cognito: Any, pool: dict[str, Any]) -> None:
    cognito.add_custom_attributes(
        UserPoolId=pool["Id"],
        CustomAttributes=[
            {"Name": "plan", "AttributeDataType": "String"},
            {"Name": "seats", "AttributeDataType": "Number", "Mutable": False},
        ],
    )
    schema = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["SchemaAttributes"]
    assert [a["Name"] for a in schema] == [*STANDARD, "custom:plan", "custom:seats"]
    assert schema[-2] == {
        "Name": "custom:plan",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
        "StringAttributeConstraints": {"MaxLength": "2048"},
    }
    assert schema[-1]["Mutable"] is False
    with pytest.raises(ClientError) as exc:
        cognito.add_custom_attributes(
            UserPoolId=pool["Id"],
            CustomAttributes=[{"Name": "plan", "AttributeDataType": "String"}],
        )
    assert error(exc) == (
        "InvalidParameterException",
        "custom:plan: Existing attribute already has name custom:plan.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.add_custom_attributes(
            UserPoolId=pool["Id"], CustomAttributes=[{"Name": "x", "Required": True}]
        )
    assert error(exc) == (
        "InvalidParameterException",
        "Required custom attributes are not supported currently.",
    )


def test_custom_attribute_limit(cognito: Any, pool: dict[str, Any]) -> None:
    for batch in range(2):
        cognito.add_custom_attributes(
            UserPoolId=pool["Id"],
            CustomAttributes=[{"Name": f"a{batch}_{i}"} for i in range(25)],
        )
    with pytest.raises(ClientError) as exc:
        cognito.add_custom_attributes(
            UserPoolId=pool["Id"], CustomAttributes=[{"Name": "one_more"}]
        )
    assert error(exc)[0] == "InvalidParameterException"
    schema = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["SchemaAttributes"]
    assert len(schema) == 20 + 50
