"""Helpers for the remembered-device tests: pools that track devices, ConfirmDevice with a
verifier made by pycognito, device SRP (DEVICE_SRP_AUTH -> DEVICE_PASSWORD_VERIFIER)
answered by pycognito's `AWSSRP`, and TOTP set-up for MFA.

Time-dependent values (TOTP codes) are computed at the server's (shifted) clock, and the
clock moves one TOTP step before each code, as a server refuses a step used already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
from pycognito import aws_srp

from tests.support.auth import PASSWORD, Srp, new_client, new_pool, new_user, sign_in
from tests.support.clock import ShiftedClock

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
GROUP_KEY = re.compile(r"-[A-Za-z0-9]{8}")
REMEMBERED = {"Name": "dev:device_remembered_status", "Value": "remembered"}
NOT_REMEMBERED = {"Name": "dev:device_remembered_status", "Value": "not_remembered"}


def device_key_pattern(region: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(region)}_{UUID}")


@dataclass
class Device:
    """A device as the app keeps it: its keys and the random password it made."""

    key: str
    group: str
    password: str


@dataclass
class Setup:
    pool_id: str
    client_id: str
    username: str = "alice"


def tracking_pool(
    cognito: Any,
    *,
    challenge: bool = True,
    on_prompt: bool = False,
    totp: bool = False,
    mfa: str = "ON",
) -> Setup:
    """A pool whose DeviceConfiguration is set by UpdateUserPool, a client allowing every
    password flow, and alice. With `totp`, the pool offers TOTP MFA (`mfa`: ON or
    OPTIONAL), set after the device configuration."""
    pool_id = new_pool(cognito, "devices")
    cognito.update_user_pool(
        UserPoolId=pool_id,
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": challenge,
            "DeviceOnlyRememberedOnUserPrompt": on_prompt,
        },
    )
    if totp:
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration="OPTIONAL",
        )
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice", attributes={"email": "alice@example.com"})
    return Setup(pool_id, client_id)


def confirm(
    cognito: Any, result: dict[str, Any], name: str = "alice's laptop"
) -> tuple[Device, bool]:
    """ConfirmDevice for the NewDeviceMetadata of a sign-in's AuthenticationResult, with
    a device password and verifier made by pycognito. Returns the device and
    UserConfirmationNecessary."""
    meta = result["NewDeviceMetadata"]
    password, config = aws_srp.generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    response = cognito.confirm_device(
        AccessToken=result["AccessToken"],
        DeviceKey=meta["DeviceKey"],
        DeviceSecretVerifierConfig=config,
        DeviceName=name,
    )
    assert set(response) == {"UserConfirmationNecessary", "ResponseMetadata"}
    return Device(meta["DeviceKey"], meta["DeviceGroupKey"], password), bool(
        response["UserConfirmationNecessary"]
    )


def new_device(cognito: Any, setup: Setup, name: str = "alice's laptop") -> tuple[Device, bool]:
    """A password sign-in (MFA must not be due) and ConfirmDevice of the device it made."""
    return confirm(cognito, sign_in(cognito, setup.client_id, setup.username), name)


def attributes(device: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}


def first_step(
    cognito: Any, setup: Setup, flow: str, device_key: str | None, password: str = PASSWORD
) -> dict[str, Any]:
    """The password step of a sign-in (USER_SRP_AUTH through PASSWORD_VERIFIER, or
    USER_PASSWORD_AUTH) with DEVICE_KEY in AuthParameters; the response after it."""
    extra = {"DEVICE_KEY": device_key} if device_key else {}
    if flow == "USER_PASSWORD_AUTH":
        response: dict[str, Any] = cognito.initiate_auth(
            ClientId=setup.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": setup.username, "PASSWORD": password, **extra},
        )
        return response
    srp = Srp(cognito, setup.pool_id, setup.client_id, setup.username, password)
    started = srp.initiate(**extra)
    assert started["ChallengeName"] == "PASSWORD_VERIFIER", started
    return srp.respond(srp.responses(started["ChallengeParameters"]))


def device_srp(
    cognito: Any,
    setup: Setup,
    challenge: dict[str, Any],
    device: Device,
    *,
    password: str | None = None,
) -> dict[str, Any]:
    """Answer DEVICE_SRP_AUTH (USERNAME, DEVICE_KEY, SRP_A), then DEVICE_PASSWORD_VERIFIER
    with pycognito's signature over the device password; the last response."""
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH", challenge
    srp = aws_srp.AWSSRP(
        setup.username,
        PASSWORD,
        setup.pool_id,
        setup.client_id,
        client=cognito,
        device_key=device.key,
        device_group_key=device.group,
        device_password=password or device.password,
    )
    verifier = cognito.respond_to_auth_challenge(
        ClientId=setup.client_id,
        ChallengeName="DEVICE_SRP_AUTH",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": challenge["ChallengeParameters"]["USERNAME"],
            "DEVICE_KEY": device.key,
            "SRP_A": aws_srp.long_to_hex(srp.large_a_value),
        },
    )
    assert verifier["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER", verifier
    parameters = verifier["ChallengeParameters"]
    assert {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME"} <= set(parameters)
    response: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=setup.client_id,
        ChallengeName="DEVICE_PASSWORD_VERIFIER",
        Session=verifier["Session"],
        ChallengeResponses=srp.process_device_challenge(parameters),
    )
    return response


# ----------------------------------------------------------------------------- TOTP


def totp_code(secret: str, clock: ShiftedClock) -> str:
    """A code of a TOTP step not used yet: the server's clock moves one step first."""
    clock.shift(seconds=30)
    return str(pyotp.TOTP(secret).at(clock.now()))


def set_up_totp(cognito: Any, setup: Setup, clock: ShiftedClock) -> str:
    """alice's TOTP authenticator, verified and preferred (the pool's MFA is to be OFF or
    OPTIONAL, so a password sign-in gives her an access token); returns the secret."""
    access = sign_in(cognito, setup.client_id, setup.username)["AccessToken"]
    secret: str = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    verified = cognito.verify_software_token(
        AccessToken=access, UserCode=totp_code(secret, clock), FriendlyDeviceName="phone"
    )
    assert verified["Status"] == "SUCCESS"
    cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    return secret


def answer_totp(
    cognito: Any,
    setup: Setup,
    challenge: dict[str, Any],
    secret: str,
    clock: ShiftedClock,
    device_key: str | None = None,
) -> dict[str, Any]:
    """Answer SOFTWARE_TOKEN_MFA; with `device_key`, DEVICE_KEY goes along in the
    ChallengeResponses (as amazon-cognito-identity-js sends it)."""
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA", challenge
    extra = {"DEVICE_KEY": device_key} if device_key else {}
    response: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=setup.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": setup.username,
            "SOFTWARE_TOKEN_MFA_CODE": totp_code(secret, clock),
            **extra,
        },
    )
    return response
