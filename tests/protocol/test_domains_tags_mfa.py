"""Domains, tags, pool MFA configuration and the SAML signing certificate through boto3."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def unique_prefix() -> str:
    return f"app-{uuid.uuid4().hex[:12]}"


# ----------------------------------------------------------------------------- domains


def test_prefix_domain_lifecycle(cognito: Any, pool: dict[str, Any]) -> None:
    prefix = unique_prefix()
    created = cognito.create_user_pool_domain(Domain=prefix, UserPoolId=pool["Id"])
    assert created["ManagedLoginVersion"] == 1
    description = cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    assert description["UserPoolId"] == pool["Id"]
    assert description["AWSAccountId"] == "000000000000"
    assert description["Domain"] == prefix
    assert description["Status"] == "ACTIVE"
    assert description["CustomDomainConfig"] == {}
    assert re.fullmatch(r"\d{14}", description["Version"])
    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Domain"] == prefix

    updated = cognito.update_user_pool_domain(
        Domain=prefix, UserPoolId=pool["Id"], ManagedLoginVersion=2
    )
    assert updated["ManagedLoginVersion"] == 2
    assert (
        cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]["ManagedLoginVersion"]
        == 2
    )

    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool(UserPoolId=pool["Id"])
    assert error(exc) == (
        "InvalidParameterException",
        "User pool cannot be deleted. It has a domain configured that should be deleted first.",
    )
    cognito.delete_user_pool_domain(Domain=prefix, UserPoolId=pool["Id"])
    assert cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"] == {}
    assert "Domain" not in cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    cognito.delete_user_pool(UserPoolId=pool["Id"])


def test_custom_domain_beside_a_prefix_domain(cognito: Any, pool: dict[str, Any]) -> None:
    prefix = unique_prefix()
    host = f"auth.{unique_prefix()}.example.com"
    cognito.create_user_pool_domain(Domain=prefix, UserPoolId=pool["Id"])
    created = cognito.create_user_pool_domain(
        Domain=host, UserPoolId=pool["Id"], CustomDomainConfig={"CertificateArn": CERT_ARN}
    )
    assert created["CloudFrontDomain"]
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert (described["Domain"], described["CustomDomain"]) == (prefix, host)
    description = cognito.describe_user_pool_domain(Domain=host)["DomainDescription"]
    assert description["CustomDomainConfig"] == {"CertificateArn": CERT_ARN}
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool_domain(Domain=host, UserPoolId=pool["Id"], ManagedLoginVersion=2)
    assert error(exc) == (
        "InvalidParameterException",
        "Cannot convert custom domain to prefix domain.",
    )


def test_domain_conflicts(cognito: Any, pool: dict[str, Any]) -> None:
    prefix = unique_prefix()
    other = cognito.create_user_pool(PoolName="other")["UserPool"]
    cognito.create_user_pool_domain(Domain=prefix, UserPoolId=pool["Id"])
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_domain(Domain=prefix, UserPoolId=other["Id"])
    assert error(exc) == (
        "InvalidParameterException",
        "Domain already associated with another user pool.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_domain(Domain=unique_prefix(), UserPoolId=pool["Id"])
    assert error(exc) == ("InvalidParameterException", "User pool already has a domain configured.")
    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_domain(Domain=prefix, UserPoolId=other["Id"])
    assert error(exc) == ("InvalidParameterException", "No such domain or user pool exists.")


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("my-aws-app", "Domain cannot contain reserved word: aws"),
        ("mycognitoapp", "Domain cannot contain reserved word: cognito"),
        (
            "Upper-Case",
            "The domain name contains an invalid character. Domain names can only contain "
            "lower-case letters, numbers, and hyphens. Please enter a different name that follows "
            "this format: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$",
        ),
    ],
)
def test_bad_prefixes(cognito: Any, pool: dict[str, Any], domain: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool["Id"])
    assert error(exc) == ("InvalidParameterException", message)


def test_managed_login_2_needs_a_paid_tier(cognito: Any) -> None:
    lite = cognito.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_domain(
            Domain=unique_prefix(), UserPoolId=lite["Id"], ManagedLoginVersion=2
        )
    assert error(exc) == (
        "FeatureUnavailableInTierException",
        "The following feature is not available for the LITE pricing tier configured: Managed "
        "Login Version 2",
    )


def test_unknown_domain_has_an_empty_description(cognito: Any) -> None:
    response = cognito.describe_user_pool_domain(Domain=unique_prefix())
    assert response["DomainDescription"] == {}


# ----------------------------------------------------------------------------- tags


def test_tags_round_trip(cognito: Any, pool: dict[str, Any]) -> None:
    arn = pool["Arn"]
    cognito.tag_resource(ResourceArn=arn, Tags={"team": "id", "env": "dev"})
    cognito.tag_resource(ResourceArn=arn, Tags={"env": "prod"})
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "id", "env": "prod"}
    cognito.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}
    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["UserPoolTags"] == {
        "env": "prod"
    }


def test_tag_limit_is_fifty(cognito: Any, pool: dict[str, Any]) -> None:
    cognito.tag_resource(ResourceArn=pool["Arn"], Tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(ClientError) as exc:
        cognito.tag_resource(ResourceArn=pool["Arn"], Tags={"one-more": "v"})
    assert error(exc)[0] == "InvalidParameterException"
    cognito.tag_resource(ResourceArn=pool["Arn"], Tags={"k0": "replaced"})  # not a new key
    assert len(cognito.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"]) == 50


def test_tags_on_unknown_resources(cognito: Any, pool: dict[str, Any], region: str) -> None:
    missing = f"arn:aws:cognito-idp:{region}:000000000000:userpool/{region}_AAAAAAAAA"
    with pytest.raises(ClientError) as exc:
        cognito.list_tags_for_resource(ResourceArn=missing)
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.tag_resource(ResourceArn="arn:aws:s3:::some-bucket-name-here", Tags={"a": "b"})
    assert error(exc)[0] == "InvalidParameterException"


# ----------------------------------------------------------------------------- MFA configuration


def test_fresh_pool_mfa_configuration(cognito: Any, pool: dict[str, Any]) -> None:
    config = cognito.get_user_pool_mfa_config(UserPoolId=pool["Id"])
    config.pop("ResponseMetadata")
    assert config == {"MfaConfiguration": "OFF"}


def test_totp_mfa_optional(cognito: Any, pool: dict[str, Any]) -> None:
    set_response = cognito.set_user_pool_mfa_config(
        UserPoolId=pool["Id"],
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    set_response.pop("ResponseMetadata")
    assert set_response == {
        "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
    }
    got = cognito.get_user_pool_mfa_config(UserPoolId=pool["Id"])
    got.pop("ResponseMetadata")
    assert got == set_response
    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["MfaConfiguration"] == (
        "OPTIONAL"
    )
    # UpdateUserPool keeps the TOTP configuration it does not own
    cognito.update_user_pool(UserPoolId=pool["Id"], MfaConfiguration="OPTIONAL")
    assert cognito.get_user_pool_mfa_config(UserPoolId=pool["Id"])[
        "SoftwareTokenMfaConfiguration"
    ] == {"Enabled": True}


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"MfaConfiguration": "OPTIONAL"},
            "Invalid MFA configuration given, can't disable all MFAs with a required or optional "
            "configuration.",
        ),
        (
            {"MfaConfiguration": "OFF", "SoftwareTokenMfaConfiguration": {"Enabled": True}},
            "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
        ),
        (
            {
                "MfaConfiguration": "OPTIONAL",
                "EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Code"},
            },
            "Cannot set EmailMfaConfiguration when user pool EmailConfiguration contains an "
            "EmailSendingAccount of COGNITO_DEFAULT. Update the value of EmailSendingAccount.",
        ),
    ],
)
def test_invalid_mfa_configurations(
    cognito: Any, pool: dict[str, Any], request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.set_user_pool_mfa_config(UserPoolId=pool["Id"], **request_)
    assert error(exc) == ("InvalidParameterException", message)


def test_passkeys_are_configurable_with_mfa_off(cognito: Any, pool: dict[str, Any]) -> None:
    response = cognito.set_user_pool_mfa_config(
        UserPoolId=pool["Id"],
        MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "auth.example.com"},
    )
    assert response["WebAuthnConfiguration"] == {
        "RelyingPartyId": "auth.example.com",
        "UserVerification": "preferred",
        "FactorConfiguration": "SINGLE_FACTOR",
    }


def test_sms_mfa_from_pool_creation(cognito: Any) -> None:
    sms = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"}
    pool = cognito.create_user_pool(
        PoolName="sms",
        MfaConfiguration="OPTIONAL",
        SmsConfiguration=sms,
        AutoVerifiedAttributes=["phone_number"],
        SmsAuthenticationMessage="Code {####}",
    )["UserPool"]
    config = cognito.get_user_pool_mfa_config(UserPoolId=pool["Id"])
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SmsMfaConfiguration"] == {
        "SmsAuthenticationMessage": "Code {####}",
        "SmsConfiguration": sms,
    }


# ----------------------------------------------------------------------------- certificate


def test_signing_certificate_is_a_real_x509_certificate(cognito: Any, pool: dict[str, Any]) -> None:
    first = cognito.get_signing_certificate(UserPoolId=pool["Id"])["Certificate"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(first))
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime == dt.timedelta(days=3650)
    assert pool["Id"] in certificate.subject.rfc4514_string()
    assert certificate.public_key().key_size == 2048
    # the same key and certificate are served on every call (kept in the database)
    assert cognito.get_signing_certificate(UserPoolId=pool["Id"])["Certificate"] == first
    other = cognito.create_user_pool(PoolName="other")["UserPool"]
    assert cognito.get_signing_certificate(UserPoolId=other["Id"])["Certificate"] != first
