"""Users' MFA factors: which are enabled and preferred, and what a pool offers.

A user's preferences live in their row (`mfa`, JSON): per factor (SMS_MFA,
SOFTWARE_TOKEN_MFA, EMAIL_OTP) whether it is enabled and whether it is the preferred one
(at most one is), WebAuthnMfaSettings.Enabled, plus the legacy MFAOptions list of
SetUserSettings (SMS only). GetUser
and AdminGetUser report them as UserMFASettingList and PreferredMfaSetting (omitted when
empty, as Cognito does) and MFAOptions.

A pool offers SMS MFA while `SmsMfaConfiguration` is set (or it was created with MFA on
and an SMS configuration), TOTP when SoftwareTokenMfaConfiguration.Enabled, and email
when EmailMfaConfiguration is set (Essentials or Plus).
"""

from __future__ import annotations

from typing import Any

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos.users import UserRow

SMS_MFA = "SMS_MFA"
SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"
EMAIL_OTP = "EMAIL_OTP"
WEB_AUTHN = "WEB_AUTHN"  # WebAuthnMfaSettings: not a second factor, a stronger first one
FACTORS = (SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP)
# The request member of SetUserMFAPreference that sets each factor.
SETTINGS_MEMBER = {
    "SMSMfaSettings": SMS_MFA,
    "SoftwareTokenMfaSettings": SOFTWARE_TOKEN_MFA,
    "EmailMfaSettings": EMAIL_OTP,
}


def preferences(user: UserRow) -> dict[str, Any]:
    """The user's stored MFA record: {factor: {"enabled", "preferred"}, "MFAOptions": [...]}."""
    return dict(loads(user.mfa)) if user.mfa else {}


def encode(record: dict[str, Any]) -> str | None:
    return dumps(record) if record else None


def enabled_factors(record: dict[str, Any]) -> list[str]:
    """Enabled factors, in Cognito's order; legacy MFAOptions count as SMS."""
    enabled = [f for f in FACTORS if (record.get(f) or {}).get("enabled")]
    if record.get("MFAOptions") and SMS_MFA not in enabled:
        enabled.insert(0, SMS_MFA)
    return enabled


def preferred_factor(record: dict[str, Any]) -> str | None:
    for factor in FACTORS:
        entry = record.get(factor) or {}
        if entry.get("enabled") and entry.get("preferred"):
            return factor
    return None


def user_fields(user: UserRow) -> dict[str, Any]:
    """The MFA members of GetUser / AdminGetUser (absent when there is nothing to say)."""
    record = preferences(user)
    fields: dict[str, Any] = {}
    enabled = enabled_factors(record)
    if enabled:
        fields["UserMFASettingList"] = enabled
    preferred = preferred_factor(record)
    if preferred is not None:
        fields["PreferredMfaSetting"] = preferred
    if record.get("MFAOptions"):
        fields["MFAOptions"] = record["MFAOptions"]
    return fields


def webauthn_mfa_enabled(user: UserRow) -> bool:
    """WebAuthnMfaSettings.Enabled: a passkey sign-in (with user verification) counts as MFA."""
    return bool((preferences(user).get(WEB_AUTHN) or {}).get("enabled"))


def set_webauthn_mfa(record: dict[str, Any], enabled: bool) -> None:
    record[WEB_AUTHN] = {"enabled": enabled}


def pool_factors(settings: dict[str, Any]) -> list[str]:
    """The MFA factors a pool offers, in Cognito's order."""
    offered = []
    mfa_on = settings.get("MfaConfiguration", "OFF") != "OFF"
    if "SmsMfaConfiguration" in settings or (mfa_on and "SmsConfiguration" in settings):
        offered.append(SMS_MFA)
    if (settings.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled"):
        offered.append(SOFTWARE_TOKEN_MFA)
    if settings.get("EmailMfaConfiguration"):
        offered.append(EMAIL_OTP)
    return offered


def apply(
    record: dict[str, Any], factor: str, enabled: bool | None, preferred: bool | None
) -> None:
    """Apply one factor's settings (None: unchanged); preferring one un-prefers the rest."""
    entry = dict(record.get(factor) or {})
    if enabled is not None:
        entry["enabled"] = enabled
        if not enabled:
            entry["preferred"] = False
    if preferred is not None:
        entry["preferred"] = preferred
        if preferred:
            entry["enabled"] = True
            for other in FACTORS:
                if other != factor and other in record:
                    record[other] = {**record[other], "preferred": False}
    record[factor] = entry
