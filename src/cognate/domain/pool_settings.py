"""A user pool's settings: Cognito's defaults and rules for CreateUserPool and UpdateUserPool.

Settings are kept in the API's own structure (members of `UserPoolType`). `for_create`
builds them from a CreateUserPool request, `for_update` from an UpdateUserPool request
and the pool's current settings.

Defaults, as DescribeUserPool shows them for a pool created with only a name (real CLI
output 2023-2025 and the Cognito docs): password policy of 8 characters with all four
character classes and 7-day temporary passwords; `SignInPolicy` PASSWORD only;
`DeletionProtection` INACTIVE (the API's default; the console's is ACTIVE); `LambdaConfig`
{}; `VerificationMessageTemplate` CONFIRM_WITH_CODE; `MfaConfiguration` OFF;
`EmailConfiguration` COGNITO_DEFAULT; `AdminCreateUserConfig` allowing self sign-up with
7 days; tier ESSENTIALS. `UsernameConfiguration` and `AccountRecoverySetting` are absent
unless set (the pool is then case-sensitive, the API default).

UpdateUserPool: the reference says omitted members return to their defaults, but live
measurements (2026) show that only some do. Members in `_KEPT_WHEN_OMITTED` keep their
current value when a request leaves them out; the rest return to their defaults
(AutoVerifiedAttributes, AdminCreateUserConfig, LambdaConfig and UserPoolAddOns were
measured to reset). What UpdateUserPool cannot change at all (schema, sign-in
attributes, case sensitivity) is always carried over.
"""

from __future__ import annotations

import copy
from typing import Any

from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidParameterException,
)
from cognate.domain import pool_schema

DEFAULT_TEMPORARY_PASSWORD_DAYS = 7
DEFAULT_PASSWORD_POLICY: dict[str, Any] = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": DEFAULT_TEMPORARY_PASSWORD_DAYS,
}
DEFAULT_SIGN_IN_POLICY: dict[str, Any] = {"AllowedFirstAuthFactors": ["PASSWORD"]}

# Never changed by UpdateUserPool.
_IMMUTABLE = ("SchemaAttributes", "AliasAttributes", "UsernameAttributes", "UsernameConfiguration")
# Kept when an UpdateUserPool request omits them (measured, or coupled to measured ones:
# SMS/email delivery settings stay with the MFA configuration that depends on them).
_KEPT_WHEN_OMITTED = (
    "DeletionProtection",
    "MfaConfiguration",
    "UserPoolTier",
    "VerificationMessageTemplate",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "AccountRecoverySetting",
    "SmsAuthenticationMessage",
    "SmsConfiguration",
    "EmailConfiguration",
    "DcrConfiguration",
    "KeyConfiguration",
    "IssuerConfiguration",
    "AcrConfiguration",
    # Owned by SetUserPoolMfaConfig, not UpdateUserPool parameters at all.
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
)
# Copied as given when present.
_AS_GIVEN = (
    "SmsAuthenticationMessage",
    "DeviceConfiguration",
    "SmsConfiguration",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "KeyConfiguration",
    "IssuerConfiguration",
    "UserPoolTier",
    "DeletionProtection",
    "MfaConfiguration",
)
_LEGACY_MESSAGES = {
    "SmsVerificationMessage": "SmsMessage",
    "EmailVerificationMessage": "EmailMessage",
    "EmailVerificationSubject": "EmailSubject",
}
_DEFAULT_ACR_NAMES = {f"Level{n}": f"urn:cognito:loa:{n}" for n in range(1, 5)}


def for_create(request: dict[str, Any]) -> dict[str, Any]:
    """Settings for a new pool from a CreateUserPool request."""
    alias = request.get("AliasAttributes")
    username = request.get("UsernameAttributes")
    if alias and username:
        raise InvalidParameterException(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User pool."
        )
    settings = _apply(request, previous={})
    settings["SchemaAttributes"] = pool_schema.build_schema(request.get("Schema"))
    if alias:
        settings["AliasAttributes"] = _unique(alias)
    if username:
        settings["UsernameAttributes"] = _unique(username)
    if "UsernameConfiguration" in request:
        settings["UsernameConfiguration"] = dict(request["UsernameConfiguration"])
    if settings["MfaConfiguration"] != "OFF" and (
        "SmsConfiguration" not in settings
        or "phone_number" not in settings.get("AutoVerifiedAttributes", [])
    ):
        raise InvalidParameterException(
            "SMS configuration and Auto verification for phone_number are required when MFA "
            "is required/optional"
        )
    if settings["MfaConfiguration"] != "OFF":
        settings["SmsMfaConfiguration"] = {}  # CreateUserPool configures SMS MFA only
    return settings


def for_update(request: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Settings after an UpdateUserPool request, given the pool's current settings."""
    if request.get("MfaConfiguration") == "ON" and previous.get("MfaConfiguration") != "ON":
        raise InvalidParameterException(
            "Cannot turn MFA functionality ON, once the user pool has been created."
        )
    settings = _apply(request, previous=previous)
    for member in _IMMUTABLE:
        if member in previous:
            settings[member] = copy.deepcopy(previous[member])
    # Cognate's own members ("_" prefix: set by other operations, never on the wire) stay.
    settings.update({k: copy.deepcopy(v) for k, v in previous.items() if k.startswith("_")})
    if settings["MfaConfiguration"] == "OFF":
        settings.pop("SmsMfaConfiguration", None)
    elif "MfaConfiguration" in request and "SmsConfiguration" in request:
        settings["SmsMfaConfiguration"] = {}
    return settings


def _apply(request: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Settings from a request: given members, else kept ones (updates), else defaults."""
    settings: dict[str, Any] = {}
    for member in _KEPT_WHEN_OMITTED:
        if member in previous:
            settings[member] = copy.deepcopy(previous[member])
    for member in _AS_GIVEN:
        if member in request:
            settings[member] = copy.deepcopy(request[member])
    settings.setdefault("DeletionProtection", "INACTIVE")
    settings.setdefault("MfaConfiguration", "OFF")
    settings.setdefault("UserPoolTier", "ESSENTIALS")
    settings["Policies"] = _policies(request, previous.get("Policies"))
    settings["LambdaConfig"] = _lambda_config(request.get("LambdaConfig") or {})
    if "AutoVerifiedAttributes" in request:
        settings["AutoVerifiedAttributes"] = _unique(request["AutoVerifiedAttributes"])
    _verification_messages(request, settings)
    settings["UserAttributeUpdateSettings"] = _attribute_update_settings(request)
    if "EmailConfiguration" in request or "EmailConfiguration" not in settings:
        settings["EmailConfiguration"] = _email_configuration(request.get("EmailConfiguration"))
    settings["AdminCreateUserConfig"] = _admin_create_user_config(
        request.get("AdminCreateUserConfig"), settings["Policies"]["PasswordPolicy"]
    )
    if "phone_number" in settings.get("AutoVerifiedAttributes", []) and not settings.get(
        "SmsConfiguration"
    ):
        raise InvalidParameterException(
            "SMS configuration is required when phone_number is selected for auto verification"
        )
    _check_account_recovery(settings.get("AccountRecoverySetting"))
    if "DcrConfiguration" in request:
        settings["DcrConfiguration"] = _dcr_configuration(request["DcrConfiguration"])
    if "AcrConfiguration" in request:
        settings["AcrConfiguration"] = _acr_configuration(request["AcrConfiguration"])
    check_tier(settings)
    return settings


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _policies(request: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    given = request.get("Policies") or {}
    previous = previous or {}
    admin_config = request.get("AdminCreateUserConfig") or {}
    if "PasswordPolicy" in given:
        password = _password_policy(given["PasswordPolicy"], admin_config)
    elif "PasswordPolicy" in previous:
        password = copy.deepcopy(previous["PasswordPolicy"])
    else:
        password = dict(DEFAULT_PASSWORD_POLICY)
        legacy_days = admin_config.get("UnusedAccountValidityDays")
        if legacy_days:
            password["TemporaryPasswordValidityDays"] = legacy_days
    if "SignInPolicy" in given:
        sign_in = _sign_in_policy(given["SignInPolicy"])
    else:
        sign_in = copy.deepcopy(previous.get("SignInPolicy", DEFAULT_SIGN_IN_POLICY))
    return {"PasswordPolicy": password, "SignInPolicy": sign_in}


def _password_policy(given: dict[str, Any], admin_config: dict[str, Any]) -> dict[str, Any]:
    password: dict[str, Any] = {
        "MinimumLength": given.get("MinimumLength", 8),
        "RequireUppercase": given.get("RequireUppercase", False),
        "RequireLowercase": given.get("RequireLowercase", False),
        "RequireNumbers": given.get("RequireNumbers", False),
        "RequireSymbols": given.get("RequireSymbols", False),
    }
    if "PasswordHistorySize" in given:
        password["PasswordHistorySize"] = given["PasswordHistorySize"]
    days = given.get("TemporaryPasswordValidityDays") or 0
    legacy_days = admin_config.get("UnusedAccountValidityDays") or 0
    if days and legacy_days and legacy_days != days:
        raise InvalidParameterException(
            "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of "
            "UnusedAccountValidityDays"
        )
    password["TemporaryPasswordValidityDays"] = (
        days or legacy_days or DEFAULT_TEMPORARY_PASSWORD_DAYS
    )
    return password


def _sign_in_policy(given: dict[str, Any]) -> dict[str, Any]:
    factors = _unique(given.get("AllowedFirstAuthFactors") or ["PASSWORD"])
    if "SOFTWARE_TOKEN" in factors:
        raise InvalidParameterException(
            "SOFTWARE_TOKEN is not currently supported as a first auth factor."
        )
    if "PASSWORD" not in factors:
        raise InvalidParameterException("AllowedFirstAuthFactors must include PASSWORD.")
    return {"AllowedFirstAuthFactors": factors}


def _lambda_config(config: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(config)
    legacy = config.get("PreTokenGeneration")
    versioned = config.get("PreTokenGenerationConfig")
    if legacy and versioned and versioned["LambdaArn"] != legacy:
        raise InvalidParameterException(
            "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same "
            "Lambda function."
        )
    if legacy and not versioned:
        config["PreTokenGenerationConfig"] = {"LambdaVersion": "V1_0", "LambdaArn": legacy}
    elif versioned and not legacy:
        config["PreTokenGeneration"] = versioned["LambdaArn"]
    for sender in ("CustomSMSSender", "CustomEmailSender"):
        if sender in config and "KMSKeyID" not in config:
            raise InvalidParameterException(
                f"A KMSKeyID is required when a {sender} Lambda function is configured."
            )
    return config


def _verification_messages(request: dict[str, Any], settings: dict[str, Any]) -> None:
    """VerificationMessageTemplate and the legacy top-level members mirror each other."""
    if "VerificationMessageTemplate" in request:
        template = copy.deepcopy(request["VerificationMessageTemplate"])
    elif any(legacy in request for legacy in _LEGACY_MESSAGES):
        template = {}
    else:
        template = settings.get("VerificationMessageTemplate") or {}
    for legacy, member in _LEGACY_MESSAGES.items():
        if member not in template and legacy in request:
            template[member] = request[legacy]
    template.setdefault("DefaultEmailOption", "CONFIRM_WITH_CODE")
    settings["VerificationMessageTemplate"] = template
    for legacy, member in _LEGACY_MESSAGES.items():
        if member in template:
            settings[legacy] = template[member]
        else:
            settings.pop(legacy, None)


def _attribute_update_settings(request: dict[str, Any]) -> dict[str, Any]:
    given = request.get("UserAttributeUpdateSettings") or {}
    required = _unique(given.get("AttributesRequireVerificationBeforeUpdate") or [])
    auto_verified = set(request.get("AutoVerifiedAttributes") or [])
    for attribute in required:
        if attribute not in auto_verified:
            raise InvalidParameterException(
                "Attributes in AttributesRequireVerificationBeforeUpdate must be in "
                "AutoVerifiedAttributes."
            )
    return {"AttributesRequireVerificationBeforeUpdate": required}


def _email_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    config = copy.deepcopy(given or {})
    config.setdefault("EmailSendingAccount", "COGNITO_DEFAULT")
    if config["EmailSendingAccount"] == "DEVELOPER" and not config.get("SourceArn"):
        raise InvalidParameterException(
            "Source ARN is required to use DEVELOPER email sending owner"
        )
    return config


def _admin_create_user_config(
    given: dict[str, Any] | None, password_policy: dict[str, Any]
) -> dict[str, Any]:
    given = given or {}
    config: dict[str, Any] = {
        "AllowAdminCreateUserOnly": given.get("AllowAdminCreateUserOnly", False),
        "UnusedAccountValidityDays": password_policy.get(
            "TemporaryPasswordValidityDays", DEFAULT_TEMPORARY_PASSWORD_DAYS
        ),
    }
    if "InviteMessageTemplate" in given:
        config["InviteMessageTemplate"] = copy.deepcopy(given["InviteMessageTemplate"])
    return config


def _check_account_recovery(setting: dict[str, Any] | None) -> None:
    if setting is None:
        return
    mechanisms = setting.get("RecoveryMechanisms", [])
    names = [m["Name"] for m in mechanisms]
    priorities = [m["Priority"] for m in mechanisms]
    if len(set(names)) != len(names) or len(set(priorities)) != len(priorities):
        raise InvalidParameterException(
            "RecoveryMechanisms must have unique names and unique priorities."
        )
    if "admin_only" in names and len(names) > 1:
        raise InvalidParameterException(
            "admin_only cannot be combined with other recovery mechanisms."
        )


def _dcr_configuration(given: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(given)
    config.setdefault("EnableStatus", "Enabled")
    config.setdefault("OpenDcrEnabled", False)
    return config


def _acr_configuration(given: dict[str, Any]) -> dict[str, Any]:
    merged = {level: {"AcrValue": name} for level, name in _DEFAULT_ACR_NAMES.items()}
    for level, value in given.items():
        merged[level] = {"AcrValue": value["AcrValue"]}
    names = [entry["AcrValue"] for entry in merged.values()]
    if len(set(names)) != len(names):
        raise InvalidParameterException("Each ACR level name must be unique across all levels.")
    return merged


def first_auth_factors(settings: dict[str, Any]) -> list[str]:
    """SignInPolicy.AllowedFirstAuthFactors: the USER_AUTH first factors the pool allows."""
    policy = (settings.get("Policies") or {}).get("SignInPolicy") or {}
    return list(policy.get("AllowedFirstAuthFactors") or ["PASSWORD"])


def check_tier(settings: dict[str, Any]) -> None:
    """FeatureUnavailableInTierException for features the pool's feature plan lacks."""
    tier = settings["UserPoolTier"]
    features: list[str] = []
    if tier == "LITE":
        factors = settings["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"]
        if set(factors) - {"PASSWORD"}:
            features.append("Passwordless Sign-In")
        version = settings["LambdaConfig"].get("PreTokenGenerationConfig", {}).get("LambdaVersion")
        if version in ("V2_0", "V3_0"):
            features.append(f"Token Customization with Pre-Token Generation Lambda {version}")
        if settings["Policies"]["PasswordPolicy"].get("PasswordHistorySize"):
            features.append("Password History")
        if (settings.get("DcrConfiguration") or {}).get("EnableStatus") == "Enabled":
            features.append("Dynamic Client Registration")
        acr = settings.get("AcrConfiguration") or {}
        if any(entry["AcrValue"] != _DEFAULT_ACR_NAMES[lvl] for lvl, entry in acr.items()):
            features.append("Custom ACR Level Names")
        if "EmailMfaConfiguration" in settings:
            features.append("Email MFA")
    if tier != "PLUS":
        add_ons = settings.get("UserPoolAddOns") or {}
        if add_ons.get("AdvancedSecurityMode", "OFF") != "OFF":
            features.append("Threat Protection")
    if features:
        raise FeatureUnavailableInTierException(
            f"The following features need to be disabled for the {tier} pricing tier "
            f"configured: {', '.join(features)}"
        )
