"""A pool's MFA and passkey configuration: GetUserPoolMfaConfig and SetUserPoolMfaConfig.

SetUserPoolMfaConfig replaces the MFA factor configuration: a factor block left out of the
request is turned off (Cognito answers "can't disable all MFAs" to a bare OPTIONAL). The
WebAuthn (passkey) configuration is not an MFA factor and is kept when omitted.

Storage: the pool's settings hold `MfaConfiguration`, `SmsAuthenticationMessage` and
`SmsConfiguration` (shared with CreateUserPool/UpdateUserPool) and the blocks
`SmsMfaConfiguration` (present while SMS MFA is on), `SoftwareTokenMfaConfiguration`,
`EmailMfaConfiguration` and `WebAuthnConfiguration`, which DescribeUserPool does not show.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import FeatureUnavailableInTierException, InvalidParameterException
from cognate.domain.clock import Clock
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import pools as pools_repo

_NO_FACTOR = (
    "Invalid MFA configuration given, can't disable all MFAs with a required or optional "
    "configuration."
)
_OFF_WITH_FACTOR = (
    "Invalid MFA configuration given, can't turn off MFA and configure an MFA together."
)
_EMAIL_NEEDS_DEVELOPER = (
    "Cannot set EmailMfaConfiguration when user pool EmailConfiguration contains an "
    "EmailSendingAccount of COGNITO_DEFAULT. Update the value of EmailSendingAccount."
)


def mfa_view(settings: dict[str, Any]) -> dict[str, Any]:
    """The GetUserPoolMfaConfig / SetUserPoolMfaConfig response for a pool's settings."""
    view: dict[str, Any] = {"MfaConfiguration": settings.get("MfaConfiguration", "OFF")}
    if "SmsMfaConfiguration" in settings:
        sms: dict[str, Any] = {}
        if "SmsAuthenticationMessage" in settings:
            sms["SmsAuthenticationMessage"] = settings["SmsAuthenticationMessage"]
        if "SmsConfiguration" in settings:
            sms["SmsConfiguration"] = settings["SmsConfiguration"]
        view["SmsMfaConfiguration"] = sms
    for block in (
        "SoftwareTokenMfaConfiguration",
        "EmailMfaConfiguration",
        "WebAuthnConfiguration",
    ):
        if block in settings:
            view[block] = settings[block]
    return view


class PoolMfaService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get(self, region: str, pool_id: str) -> dict[str, Any]:
        return self._db.read(
            "get_user_pool_mfa_config",
            lambda conn: mfa_view(require_pool(conn, region, pool_id).settings),
        )

    def set(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        def set_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            settings = _apply(copy.deepcopy(pool.settings), request)
            pools_repo.update(conn, pool.pk, now=self._clock.now_ms(), settings=settings)
            return mfa_view(settings)

        return self._db.write("set_user_pool_mfa_config", set_txn)


def _apply(settings: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    mfa = request.get("MfaConfiguration", settings.get("MfaConfiguration", "OFF"))
    sms = request.get("SmsMfaConfiguration")
    totp = request.get("SoftwareTokenMfaConfiguration")
    email = request.get("EmailMfaConfiguration")
    webauthn = request.get("WebAuthnConfiguration")
    totp_on = bool(totp and totp.get("Enabled"))
    if mfa == "OFF" and (sms is not None or totp_on or email is not None):
        raise InvalidParameterException(_OFF_WITH_FACTOR)
    if sms is not None:
        if "SmsAuthenticationMessage" in sms:
            settings["SmsAuthenticationMessage"] = sms["SmsAuthenticationMessage"]
        if "SmsConfiguration" in sms:
            settings["SmsConfiguration"] = copy.deepcopy(sms["SmsConfiguration"])
        if "SmsConfiguration" not in settings:
            raise InvalidParameterException("SmsConfiguration is required to turn on SMS MFA.")
        settings["SmsMfaConfiguration"] = {}
    else:
        settings.pop("SmsMfaConfiguration", None)
    if totp is not None:
        settings["SoftwareTokenMfaConfiguration"] = {"Enabled": bool(totp.get("Enabled"))}
    else:
        settings.pop("SoftwareTokenMfaConfiguration", None)
    if email is not None:
        if settings.get("UserPoolTier") == "LITE":
            raise FeatureUnavailableInTierException(
                "The following features need to be disabled for the LITE pricing tier "
                "configured: Email MFA"
            )
        sending = (settings.get("EmailConfiguration") or {}).get("EmailSendingAccount")
        if sending != "DEVELOPER":
            raise InvalidParameterException(_EMAIL_NEEDS_DEVELOPER)
        settings["EmailMfaConfiguration"] = copy.deepcopy(email)
    else:
        settings.pop("EmailMfaConfiguration", None)
    if webauthn is not None:
        settings["WebAuthnConfiguration"] = {
            "UserVerification": "preferred",
            "FactorConfiguration": "SINGLE_FACTOR",
            **copy.deepcopy(webauthn),
        }
    passkey_mfa = (settings.get("WebAuthnConfiguration") or {}).get(
        "FactorConfiguration"
    ) == "MULTI_FACTOR_WITH_USER_VERIFICATION"
    if mfa != "OFF" and not (sms is not None or totp_on or email is not None or passkey_mfa):
        raise InvalidParameterException(_NO_FACTOR)
    settings["MfaConfiguration"] = mfa
    return settings
