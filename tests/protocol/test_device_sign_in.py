"""Signing in with a remembered device through boto3 and pycognito: DEVICE_KEY in
AuthParameters, DEVICE_SRP_AUTH -> DEVICE_PASSWORD_VERIFIER answered with pycognito's
device SRP, the device proof standing in for TOTP MFA (pool MFA ON, ChallengeRequiredOnNewDevice)
after USER_SRP_AUTH and USER_PASSWORD_AUTH, MFA still asked on a device that is not
remembered, wrong device passwords, forgotten and unknown devices, DeviceLastAuthenticatedDate,
REFRESH_TOKEN_AUTH with DEVICE_KEY, and ForgetDevice ending the device's sessions.

The device operations themselves are in test_devices.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pycognito import aws_srp

from tests.support.auth import INCORRECT, PASSWORD, WRONG_PASSWORD, claims, error, sign_in
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.devices import (
    Device,
    Setup,
    answer_totp,
    confirm,
    device_srp,
    first_step,
    new_device,
    set_up_totp,
    tracking_pool,
)
from tests.support.server import CognateServer

FLOWS = ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"]
NO_DEVICE = ("ResourceNotFoundException", "Device does not exist.")
INVALID_REFRESH = ("NotAuthorizedException", "Invalid Refresh Token.")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
INVALID_SESSION = ("NotAuthorizedException", "Invalid session for the user.")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"device-sign-in-{request.param}")
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


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The error code and message of `call(*args, **kwargs)`, which must fail."""
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return error(exc)


def check_device_tokens(response: dict[str, Any], device: Device) -> dict[str, Any]:
    """A sign-in completed on a known device: tokens naming it, no new device."""
    assert "ChallengeName" not in response, response
    assert response["ChallengeParameters"] == {}
    result: dict[str, Any] = response["AuthenticationResult"]
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}
    assert claims(result["AccessToken"])["device_key"] == device.key
    return result


def refresh(cognito: Any, setup: Setup, token: str, device_key: str | None) -> dict[str, Any]:
    params = {"REFRESH_TOKEN": token}
    if device_key is not None:
        params["DEVICE_KEY"] = device_key
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=setup.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=params
    )["AuthenticationResult"]
    return result


def mfa_setup(cognito: Any, clock: ShiftedClock, **device_config: bool) -> tuple[Setup, str]:
    """A tracking pool with TOTP MFA ON and alice's authenticator; returns the secret."""
    setup = tracking_pool(cognito, totp=True, **device_config)
    secret = set_up_totp(cognito, setup, clock)
    cognito.set_user_pool_mfa_config(
        UserPoolId=setup.pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    return setup, secret


def device_after_mfa(
    cognito: Any, setup: Setup, secret: str, clock: ShiftedClock, flow: str
) -> tuple[Device, bool]:
    """A sign-in naming no device (so MFA is asked), then ConfirmDevice of its device."""
    challenge = first_step(cognito, setup, flow, None)
    result = answer_totp(cognito, setup, challenge, secret, clock)["AuthenticationResult"]
    return confirm(cognito, result)


# ----------------------------------------------------------------------------- MFA replaced


@pytest.mark.parametrize("flow", FLOWS)
def test_remembered_device_replaces_mfa(cognito: Any, clock: ShiftedClock, flow: str) -> None:
    setup, secret = mfa_setup(cognito, clock)
    device, necessary = device_after_mfa(cognito, setup, secret, clock, flow)
    assert necessary is False
    # naming no device: MFA, as before
    assert first_step(cognito, setup, flow, None)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    # naming the remembered device: its proof instead of the TOTP code
    challenge = first_step(cognito, setup, flow, device.key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    assert challenge["ChallengeParameters"] == {"USERNAME": "alice"}
    assert challenge["Session"]
    check_device_tokens(device_srp(cognito, setup, challenge, device), device)
    # a wrong password is still refused before any device proof
    assert (
        refused(lambda: first_step(cognito, setup, flow, device.key, password=WRONG_PASSWORD))
        == INCORRECT
    )


@pytest.mark.parametrize("flow", FLOWS)
def test_wrong_device_password(cognito: Any, clock: ShiftedClock, flow: str) -> None:
    setup, secret = mfa_setup(cognito, clock)
    device, _ = device_after_mfa(cognito, setup, secret, clock, flow)
    challenge = first_step(cognito, setup, flow, device.key)
    wrong = aws_srp.generate_hash_device(device.group, device.key)[0]
    assert refused(lambda: device_srp(cognito, setup, challenge, device, password=wrong)) == (
        INCORRECT
    )
    # the device proof is a password: the right one works on a new sign-in
    challenge = first_step(cognito, setup, flow, device.key)
    check_device_tokens(device_srp(cognito, setup, challenge, device), device)


def test_device_challenges_answered_wrongly(cognito: Any, clock: ShiftedClock) -> None:
    setup, secret = mfa_setup(cognito, clock)
    device, _ = device_after_mfa(cognito, setup, secret, clock, "USER_PASSWORD_AUTH")
    client_srp = aws_srp.AWSSRP(
        "alice",
        PASSWORD,
        setup.pool_id,
        setup.client_id,
        client=cognito,
        device_key=device.key,
        device_group_key=device.group,
        device_password=device.password,
    )
    srp_a = aws_srp.long_to_hex(client_srp.large_a_value)

    def answer(session: str | None, **responses: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "ClientId": setup.client_id,
            "ChallengeName": "DEVICE_SRP_AUTH",
            "ChallengeResponses": {"USERNAME": "alice", "SRP_A": srp_a, **responses},
        }
        if session is not None:
            request["Session"] = session
        response: dict[str, Any] = cognito.respond_to_auth_challenge(**request)
        return response

    # without the session of a sign-in whose password was proven, nothing starts
    assert refused(lambda: answer(None, DEVICE_KEY=device.key)) == INVALID_SESSION
    # another device's key than the one the sign-in named
    other = first_step(cognito, setup, "USER_PASSWORD_AUTH", device.key)["Session"]
    assert refused(lambda: answer(other, DEVICE_KEY=f"{device.key[:-4]}0000")) == INCORRECT
    # the TOTP challenge cannot be answered with the device session
    session = first_step(cognito, setup, "USER_PASSWORD_AUTH", device.key)["Session"]
    assert (
        refused(
            lambda: cognito.respond_to_auth_challenge(
                ClientId=setup.client_id,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=session,
                ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "123456"},
            )
        )
        == INVALID_SESSION
    )
    # ...which stays usable for the device proof
    step = answer(session, DEVICE_KEY=device.key)
    assert step["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER"
    # pycognito answers DEVICE_PASSWORD_VERIFIER without the Session: SECRET_BLOCK stands in
    done = cognito.respond_to_auth_challenge(
        ClientId=setup.client_id,
        ChallengeName="DEVICE_PASSWORD_VERIFIER",
        ChallengeResponses=client_srp.process_device_challenge(step["ChallengeParameters"]),
    )
    check_device_tokens(done, device)


# ----------------------------------------------------------------------------- MFA kept


@pytest.mark.parametrize("flow", FLOWS)
def test_device_not_remembered_still_asks_mfa(cognito: Any, clock: ShiftedClock, flow: str) -> None:
    setup, secret = mfa_setup(cognito, clock, on_prompt=True)
    device, necessary = device_after_mfa(cognito, setup, secret, clock, flow)
    assert necessary is True  # the user did not say "remember"
    challenge = first_step(cognito, setup, flow, device.key)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    # after the code, the confirmed device proves itself too
    after_mfa = answer_totp(cognito, setup, challenge, secret, clock, device.key)
    result = check_device_tokens(device_srp(cognito, setup, after_mfa, device), device)
    # the user says "remember": the next sign-in needs no code
    cognito.update_device_status(
        AccessToken=result["AccessToken"],
        DeviceKey=device.key,
        DeviceRememberedStatus="remembered",
    )
    challenge = first_step(cognito, setup, flow, device.key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    check_device_tokens(device_srp(cognito, setup, challenge, device), device)
    # and forgetting "remember" brings MFA back
    cognito.admin_update_device_status(
        UserPoolId=setup.pool_id,
        Username="alice",
        DeviceKey=device.key,
        DeviceRememberedStatus="not_remembered",
    )
    assert first_step(cognito, setup, flow, device.key)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_device_key_named_only_at_initiate_auth_survives_totp(
    cognito: Any, clock: ShiftedClock
) -> None:
    """The TOTP challenge's session keeps the DEVICE_KEY of InitiateAuth, for clients
    that do not repeat it in the MFA answer."""
    setup, secret = mfa_setup(cognito, clock, on_prompt=True)
    device, _ = device_after_mfa(cognito, setup, secret, clock, "USER_PASSWORD_AUTH")
    challenge = first_step(cognito, setup, "USER_PASSWORD_AUTH", device.key)
    after_mfa = answer_totp(cognito, setup, challenge, secret, clock)  # no DEVICE_KEY here
    assert "NewDeviceMetadata" not in after_mfa.get("AuthenticationResult", {})
    check_device_tokens(device_srp(cognito, setup, after_mfa, device), device)


def test_devices_do_not_replace_mfa_unless_challenge_required(
    cognito: Any, clock: ShiftedClock
) -> None:
    setup, secret = mfa_setup(cognito, clock, challenge=False)
    device, necessary = device_after_mfa(cognito, setup, secret, clock, "USER_SRP_AUTH")
    assert necessary is False
    challenge = first_step(cognito, setup, "USER_SRP_AUTH", device.key)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    after_mfa = answer_totp(cognito, setup, challenge, secret, clock, device.key)
    check_device_tokens(device_srp(cognito, setup, after_mfa, device), device)


@pytest.mark.parametrize("flow", FLOWS)
def test_forgotten_and_unknown_devices(
    cognito: Any, clock: ShiftedClock, region: str, flow: str
) -> None:
    setup, secret = mfa_setup(cognito, clock)
    device, _ = device_after_mfa(cognito, setup, secret, clock, flow)
    cognito.admin_forget_device(UserPoolId=setup.pool_id, Username="alice", DeviceKey=device.key)
    unknown = f"{region}_00000000-0000-4000-8000-000000000000"
    for key in (device.key, unknown):
        assert refused(first_step, cognito, setup, flow, key) == NO_DEVICE
    # signing in without it: MFA again, then a new device
    challenge = first_step(cognito, setup, flow, None)
    result = answer_totp(cognito, setup, challenge, secret, clock)["AuthenticationResult"]
    assert result["NewDeviceMetadata"]["DeviceKey"] != device.key


# ----------------------------------------------------------------------------- without MFA


def test_device_sign_in_without_mfa(cognito: Any, clock: ShiftedClock) -> None:
    setup = tracking_pool(cognito)
    device, _ = new_device(cognito, setup)
    access = sign_in(cognito, setup.client_id)["AccessToken"]
    before = cognito.get_device(AccessToken=access, DeviceKey=device.key)["Device"]
    clock.shift(minutes=3)
    # a confirmed device named at sign-in is proven even when no MFA is due
    challenge = first_step(cognito, setup, "USER_SRP_AUTH", device.key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    check_device_tokens(device_srp(cognito, setup, challenge, device), device)
    after = cognito.get_device(AccessToken=access, DeviceKey=device.key)["Device"]
    assert after["DeviceLastAuthenticatedDate"] > before["DeviceLastAuthenticatedDate"]
    elapsed = after["DeviceLastAuthenticatedDate"] - before["DeviceLastAuthenticatedDate"]
    assert elapsed.total_seconds() >= 180
    assert after["DeviceCreateDate"] == before["DeviceCreateDate"]


def test_device_confirmed_without_a_verifier_cannot_prove_itself(cognito: Any) -> None:
    setup = tracking_pool(cognito)
    result = sign_in(cognito, setup.client_id)
    key = result["NewDeviceMetadata"]["DeviceKey"]
    cognito.confirm_device(AccessToken=result["AccessToken"], DeviceKey=key, DeviceName="x")
    assert cognito.list_devices(AccessToken=result["AccessToken"])["Devices"][0]["DeviceKey"] == key
    challenge = first_step(cognito, setup, "USER_PASSWORD_AUTH", key)
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    client_srp = aws_srp.AWSSRP("alice", PASSWORD, setup.pool_id, setup.client_id, client=cognito)
    assert (
        refused(
            cognito.respond_to_auth_challenge,
            ClientId=setup.client_id,
            ChallengeName="DEVICE_SRP_AUTH",
            Session=challenge["Session"],
            ChallengeResponses={
                "USERNAME": "alice",
                "DEVICE_KEY": key,
                "SRP_A": aws_srp.long_to_hex(client_srp.large_a_value),
            },
        )
        == INCORRECT
    )


# ----------------------------------------------------------------------------- refresh, forget


def test_refresh_with_device_key(cognito: Any, clock: ShiftedClock) -> None:
    setup = tracking_pool(cognito)
    device, _ = new_device(cognito, setup)
    challenge = first_step(cognito, setup, "USER_PASSWORD_AUTH", device.key)
    result = check_device_tokens(device_srp(cognito, setup, challenge, device), device)
    token = result["RefreshToken"]
    refreshed = refresh(cognito, setup, token, device.key)
    assert "RefreshToken" not in refreshed
    assert "NewDeviceMetadata" not in refreshed
    assert claims(refreshed["AccessToken"])["device_key"] == device.key
    for wrong in (None, f"{device.key[:-4]}0000"):
        assert refused(refresh, cognito, setup, token, wrong) == INVALID_REFRESH
    # a sign-in's new (unconfirmed) device also binds its refresh token
    fresh = sign_in(cognito, setup.client_id)
    key = fresh["NewDeviceMetadata"]["DeviceKey"]
    assert refused(lambda: refresh(cognito, setup, fresh["RefreshToken"], None)) == (
        INVALID_REFRESH
    )
    assert claims(refresh(cognito, setup, fresh["RefreshToken"], key)["IdToken"])["sub"]


def test_forget_device_ends_its_sessions(cognito: Any, clock: ShiftedClock) -> None:
    setup = tracking_pool(cognito)
    laptop, _ = new_device(cognito, setup, "laptop")
    phone, _ = new_device(cognito, setup, "phone")
    sessions = {}
    for device in (laptop, phone):
        challenge = first_step(cognito, setup, "USER_SRP_AUTH", device.key)
        sessions[device.key] = check_device_tokens(
            device_srp(cognito, setup, challenge, device), device
        )
    on_laptop, on_phone = sessions[laptop.key], sessions[phone.key]
    cognito.forget_device(AccessToken=on_phone["AccessToken"], DeviceKey=laptop.key)
    assert refused(lambda: refresh(cognito, setup, on_laptop["RefreshToken"], laptop.key)) == (
        REFRESH_REVOKED
    )
    assert refused(lambda: cognito.get_user(AccessToken=on_laptop["AccessToken"])) == (
        ACCESS_REVOKED
    )
    # the phone's session goes on
    assert refresh(cognito, setup, on_phone["RefreshToken"], phone.key)["AccessToken"]
    assert cognito.get_user(AccessToken=on_phone["AccessToken"])["Username"] == "alice"
    # forgetting the device one is signed in on ends that very session
    cognito.admin_forget_device(UserPoolId=setup.pool_id, Username="alice", DeviceKey=phone.key)
    assert refused(lambda: refresh(cognito, setup, on_phone["RefreshToken"], phone.key)) == (
        REFRESH_REVOKED
    )
    # a password sign-in is unaffected and makes a new device
    assert sign_in(cognito, setup.client_id, password=PASSWORD)["NewDeviceMetadata"]
