"""Setting MFA up through boto3: a pool's MFA configuration (SetUserPoolMfaConfig with SMS,
TOTP and email factors, and the tier and email rules of email MFA), TOTP authenticators
(AssociateSoftwareToken / VerifySoftwareToken with an access token, AdminDeleteSoftwareToken),
users' factor preferences (SetUserMFAPreference, AdminSetUserMFAPreference, the legacy
SetUserSettings / AdminSetUserSettings) and how GetUser, AdminGetUser, GetUserAuthFactors and
AdminGetUserAuthFactors report them. The MFA steps of sign-in are test_mfa_sign_in.py's.

TOTP codes are computed by pyotp at the server's clock, which the tests move forward one
30-second step per code (tests/support/clock.py) instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import error, new_pool
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import (
    BASE32,
    DEVELOPER_EMAIL,
    EMAIL_MFA,
    SMS_CONFIGURATION,
    Authenticator,
    MfaPool,
    assert_tokens,
    challenge_of,
    mfa_pool,
    set_up_totp,
)
from tests.support.server import CognateServer

PHONE = "+15555551234"
TOTP_OFF = (
    "SoftwareTokenMFANotFoundException",
    "Software Token MFA has not been enabled by the userPool",
)
MISMATCH = ("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
NOT_SET_UP = ("InvalidParameterException", "User has not set up software token mfa")
NOT_VERIFIED = ("InvalidParameterException", "User has not verified software token mfa")
NO_PHONE = ("InvalidParameterException", "User does not have a phone_number set to turn on SMS MFA")
NO_EMAIL = (
    "InvalidParameterException",
    "User does not have delivery config set to turn on EMAIL_OTP",
)
SMS_OPTION = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
MFA_FIELDS = ("UserMFASettingList", "PreferredMfaSetting", "MFAOptions")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"mfa-setup-{request.param}")
    with clocked_server(request.param, workdir) as pair:
        yield pair


@pytest.fixture
def server(clocked: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    """This module's server (the `cognito` fixture talks to it)."""
    return clocked[0]


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def optional(server: CognateServer, cognito: Any) -> MfaPool:
    """An OPTIONAL-MFA pool offering SMS and TOTP, with alice (a phone number, no MFA)."""
    pool = mfa_pool(server, cognito, "OPTIONAL", sms=True)
    pool.user("alice", phone_number=PHONE)
    return pool


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def mfa_fields(user: dict[str, Any]) -> dict[str, Any]:
    """The MFA members of a GetUser / AdminGetUser / Get(Admin)UserAuthFactors answer."""
    return {k: user[k] for k in MFA_FIELDS if k in user}


def both_views(pool: MfaPool, access: str, username: str = "alice") -> dict[str, Any]:
    """GetUser's MFA members, checked to be AdminGetUser's too."""
    own = mfa_fields(pool.cognito.get_user(AccessToken=access))
    admin = pool.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    assert mfa_fields(admin) == own
    return own


# ----------------------------------------------------------------------------- pool configuration


def test_pool_mfa_configuration_on_optional_off(cognito: Any) -> None:
    pool_id = new_pool(cognito, SmsConfiguration=SMS_CONFIGURATION)
    both = cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Code: {####}"},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert body(both) == {
        "MfaConfiguration": "ON",
        "SmsMfaConfiguration": {
            "SmsAuthenticationMessage": "Code: {####}",
            "SmsConfiguration": SMS_CONFIGURATION,
        },
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
    }
    assert body(cognito.get_user_pool_mfa_config(UserPoolId=pool_id)) == body(both)
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert (described["MfaConfiguration"], described["SmsAuthenticationMessage"]) == (
        "ON",
        "Code: {####}",
    )
    # a factor left out of the request is turned off
    totp_only = cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert body(totp_only) == {
        "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
    }
    off = cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")
    assert body(off) == {"MfaConfiguration": "OFF"}
    assert body(cognito.get_user_pool_mfa_config(UserPoolId=pool_id)) == {"MfaConfiguration": "OFF"}


def test_sms_mfa_needs_an_sms_configuration(cognito: Any) -> None:
    pool_id = new_pool(cognito)
    assert refused(
        lambda: cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id, MfaConfiguration="OPTIONAL", SmsMfaConfiguration={}
        )
    ) == ("InvalidParameterException", "SmsConfiguration is required to turn on SMS MFA.")
    # the SMS configuration can come with the MFA configuration itself
    response = cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsConfiguration": SMS_CONFIGURATION},
    )
    assert response["SmsMfaConfiguration"] == {"SmsConfiguration": SMS_CONFIGURATION}


def test_email_mfa_needs_developer_email_and_the_essentials_tier(cognito: Any) -> None:
    lite = new_pool(cognito, UserPoolTier="LITE", EmailConfiguration=DEVELOPER_EMAIL)
    assert refused(
        lambda: cognito.set_user_pool_mfa_config(
            UserPoolId=lite, MfaConfiguration="OPTIONAL", EmailMfaConfiguration=EMAIL_MFA
        )
    ) == (
        "FeatureUnavailableInTierException",
        "The following features need to be disabled for the LITE pricing tier configured: "
        "Email MFA",
    )
    cognito_default = new_pool(cognito, UserPoolTier="ESSENTIALS")
    assert (
        refused(
            lambda: cognito.set_user_pool_mfa_config(
                UserPoolId=cognito_default, MfaConfiguration="ON", EmailMfaConfiguration=EMAIL_MFA
            )
        )[0]
        == "InvalidParameterException"
    )  # the message is test_domains_tags_mfa.py's
    for tier in ("ESSENTIALS", "PLUS"):
        pool_id = new_pool(cognito, UserPoolTier=tier, EmailConfiguration=DEVELOPER_EMAIL)
        response = cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id, MfaConfiguration="OPTIONAL", EmailMfaConfiguration=EMAIL_MFA
        )
        assert body(response) == {
            "MfaConfiguration": "OPTIONAL",
            "EmailMfaConfiguration": EMAIL_MFA,
        }
    # a pool with email MFA cannot move down to the Lite tier
    downgrade = refused(lambda: cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier="LITE"))
    assert downgrade[0] == "FeatureUnavailableInTierException"
    assert downgrade[1].endswith("Email MFA")


# ----------------------------------------------------------------------------- TOTP authenticators


def test_associate_software_token_with_an_access_token(optional: MfaPool) -> None:
    access = optional.access_token()
    first = optional.cognito.associate_software_token(AccessToken=access)
    assert set(body(first)) == {"SecretCode"}  # no Session when authorized by a token
    assert BASE32.fullmatch(first["SecretCode"]), first["SecretCode"]
    again = optional.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    assert BASE32.fullmatch(again)
    assert again != first["SecretCode"]


def test_totp_needs_the_pool_to_offer_it(server: CognateServer, cognito: Any) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", sms=True, totp=False)
    pool.user("alice")
    access = pool.access_token()
    assert refused(lambda: cognito.associate_software_token(AccessToken=access)) == TOTP_OFF
    verify = refused(lambda: cognito.verify_software_token(AccessToken=access, UserCode="123456"))
    assert verify == TOTP_OFF


def test_associate_takes_exactly_one_of_access_token_and_session(optional: MfaPool) -> None:
    access = optional.access_token()
    neither = refused(lambda: optional.cognito.associate_software_token())
    both = refused(
        lambda: optional.cognito.associate_software_token(
            AccessToken=access, Session="c2Vzc2lvbi1zZXNzaW9uLXNlc3Npb24="
        )
    )
    message = "Exactly one of AccessToken and Session must be given."
    assert neither == both == ("InvalidParameterException", message)
    bad_token = refused(lambda: optional.cognito.associate_software_token(AccessToken="x.y.z"))
    assert bad_token[0] == "NotAuthorizedException"


def test_verify_software_token(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()
    cognito = optional.cognito
    unassociated = refused(
        lambda: cognito.verify_software_token(AccessToken=access, UserCode="123456")
    )
    assert unassociated[0] == "SoftwareTokenMFANotFoundException"
    app = Authenticator(cognito.associate_software_token(AccessToken=access)["SecretCode"], clock)
    wrong = f"{(int(app.at(0)) + 1) % 10**6:06d}"
    assert refused(lambda: cognito.verify_software_token(AccessToken=access, UserCode=wrong)) == (
        MISMATCH
    )
    # the association survives a wrong code: the right one still verifies it
    verified = optional.cognito.verify_software_token(
        AccessToken=access, UserCode=app.code(), FriendlyDeviceName="alice's phone"
    )
    assert body(verified) == {"Status": "SUCCESS"}
    # verifying does not by itself turn TOTP MFA on: the user still signs in with a password
    assert both_views(optional, access) == {}
    assert "AuthenticationResult" in optional.start()


def test_a_new_association_replaces_the_authenticator(
    optional: MfaPool, clock: ShiftedClock
) -> None:
    access = optional.access_token()
    old = set_up_totp(optional.cognito, access, clock)
    new = Authenticator(
        optional.cognito.associate_software_token(AccessToken=access)["SecretCode"], clock
    )
    assert new.secret != old.secret
    # until the new secret is verified there is no authenticator: sign-in does not ask for TOTP
    assert_tokens(optional.start(), optional.client_id)
    old_code = old.code()
    stale = refused(
        lambda: optional.cognito.verify_software_token(AccessToken=access, UserCode=old_code)
    )
    assert stale == MISMATCH
    optional.cognito.verify_software_token(AccessToken=access, UserCode=new.code())
    challenge = optional.start()
    challenge_of(challenge, "SOFTWARE_TOKEN_MFA")
    mismatch = refused(lambda: optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=old.code()))
    assert mismatch[0] == "CodeMismatchException"
    signed_in = optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=new.code())
    assert_tokens(signed_in, optional.client_id)


def test_admin_delete_software_token(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()
    set_up_totp(optional.cognito, access, clock)
    challenge_of(optional.start(), "SOFTWARE_TOKEN_MFA")
    deleted = optional.cognito.admin_delete_software_token(
        UserPoolId=optional.pool_id, Username="alice"
    )
    assert body(deleted) == {}
    # TOTP is gone from the user's settings, and sign-in no longer asks for it
    assert both_views(optional, access) == {}
    assert_tokens(optional.start(), optional.client_id)
    enable_again = refused(
        lambda: optional.cognito.set_user_mfa_preference(
            AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True}
        )
    )
    assert enable_again == NOT_SET_UP
    missing = refused(
        lambda: optional.cognito.admin_delete_software_token(
            UserPoolId=optional.pool_id, Username="nobody"
        )
    )
    assert missing == ("UserNotFoundException", "User does not exist.")


# ----------------------------------------------------------------------------- preferences


def test_totp_preference_needs_a_verified_authenticator(
    optional: MfaPool, clock: ShiftedClock
) -> None:
    access = optional.access_token()

    def enable() -> Any:
        return optional.cognito.set_user_mfa_preference(
            AccessToken=access,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )

    assert refused(enable) == NOT_SET_UP
    secret = optional.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    assert refused(enable) == NOT_VERIFIED
    optional.cognito.verify_software_token(
        AccessToken=access, UserCode=Authenticator(secret, clock).code()
    )
    assert body(enable()) == {}
    assert both_views(optional, access) == {
        "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"],
        "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
    }


def test_preferences_in_get_user_and_admin_get_user(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()
    assert both_views(optional, access) == {}
    set_up_totp(optional.cognito, access, clock, prefer=False)
    optional.cognito.set_user_mfa_preference(
        AccessToken=access,
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    assert both_views(optional, access) == {
        "UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA"],
        "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
    }
    # preferring one factor un-prefers the other; a factor left out keeps its settings
    optional.cognito.set_user_mfa_preference(
        AccessToken=access, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    assert both_views(optional, access) == {
        "UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA"],
        "PreferredMfaSetting": "SMS_MFA",
    }
    # disabling the preferred factor leaves no preference
    optional.cognito.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": False})
    assert both_views(optional, access) == {"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}
    optional.cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": False}
    )
    assert both_views(optional, access) == {}


def test_sms_preference_needs_a_phone_number(optional: MfaPool) -> None:
    optional.user("bob")
    access = optional.access_token("bob")
    assert (
        refused(
            lambda: optional.cognito.set_user_mfa_preference(
                AccessToken=access, SMSMfaSettings={"Enabled": True}
            )
        )
        == NO_PHONE
    )
    assert (
        refused(
            lambda: optional.cognito.admin_set_user_mfa_preference(
                UserPoolId=optional.pool_id, Username="bob", SMSMfaSettings={"PreferredMfa": True}
            )
        )
        == NO_PHONE
    )
    # turning a factor off needs nothing
    optional.cognito.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": False})
    assert both_views(optional, access, "bob") == {}


def test_email_mfa_preference(server: CognateServer, cognito: Any, optional: MfaPool) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", email=True)
    pool.user("alice", email="alice@example.com")
    pool.user("bob")

    def admin_enable(target: MfaPool, username: str) -> Any:
        return cognito.admin_set_user_mfa_preference(
            UserPoolId=target.pool_id,
            Username=username,
            EmailMfaSettings={"Enabled": True, "PreferredMfa": True},
        )

    assert refused(lambda: admin_enable(pool, "bob")) == NO_EMAIL
    admin_enable(pool, "alice")
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="alice")
    assert mfa_fields(user) == {
        "UserMFASettingList": ["EMAIL_OTP"],
        "PreferredMfaSetting": "EMAIL_OTP",
    }
    # a pool that does not offer email MFA refuses it
    optional.user("carol", email="carol@example.com")
    assert refused(lambda: admin_enable(optional, "carol")) == (
        "InvalidParameterException",
        "Email MFA is not enabled for the user pool (EmailMfaConfiguration).",
    )


def test_admin_set_user_mfa_preference(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()
    set_up_totp(optional.cognito, access, clock, prefer=False)
    response = optional.cognito.admin_set_user_mfa_preference(
        UserPoolId=optional.pool_id,
        Username="alice",
        SMSMfaSettings={"Enabled": True},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    assert body(response) == {}
    assert both_views(optional, access) == {
        "UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA"],
        "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
    }
    missing = refused(
        lambda: optional.cognito.admin_set_user_mfa_preference(
            UserPoolId=optional.pool_id, Username="nobody", SMSMfaSettings={"Enabled": True}
        )
    )
    assert missing == ("UserNotFoundException", "User does not exist.")


def test_legacy_user_settings(optional: MfaPool) -> None:
    access = optional.access_token()
    assert body(optional.cognito.set_user_settings(AccessToken=access, MFAOptions=SMS_OPTION)) == {}
    assert both_views(optional, access) == {
        "UserMFASettingList": ["SMS_MFA"],
        "MFAOptions": SMS_OPTION,
    }
    challenge = optional.start()
    challenge_of(challenge, "SMS_MFA")  # legacy SMS MFA is MFA at sign-in too
    optional.cognito.set_user_settings(AccessToken=access, MFAOptions=[])
    assert both_views(optional, access) == {}
    # the administrator's form
    optional.cognito.admin_set_user_settings(
        UserPoolId=optional.pool_id, Username="alice", MFAOptions=SMS_OPTION
    )
    assert both_views(optional, access)["MFAOptions"] == SMS_OPTION
    optional.user("bob")
    assert (
        refused(
            lambda: optional.cognito.admin_set_user_settings(
                UserPoolId=optional.pool_id, Username="bob", MFAOptions=SMS_OPTION
            )
        )
        == NO_PHONE
    )


def test_user_auth_factors(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()

    def both() -> dict[str, Any]:
        own = body(optional.cognito.get_user_auth_factors(AccessToken=access))
        admin = optional.cognito.admin_get_user_auth_factors(
            UserPoolId=optional.pool_id, Username="alice"
        )
        assert body(admin) == own
        return own

    assert both() == {"Username": "alice", "ConfiguredUserAuthFactors": ["PASSWORD"]}
    set_up_totp(optional.cognito, access, clock)
    optional.cognito.set_user_settings(AccessToken=access, MFAOptions=SMS_OPTION)
    # the legacy MFAOptions are not part of this answer; the SMS factor they enable is
    assert both() == {
        "Username": "alice",
        "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
        "UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA"],
        "ConfiguredUserAuthFactors": ["PASSWORD"],
    }
