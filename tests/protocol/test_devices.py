"""Remembered devices through boto3: the pool's DeviceConfiguration, NewDeviceMetadata at
sign-in, ConfirmDevice (verifier made by pycognito), GetDevice / ListDevices /
UpdateDeviceStatus / ForgetDevice and their Admin forms, the device's attributes and
dates, and the errors of each.

Sign-in with a device (DEVICE_SRP_AUTH in place of MFA, refresh with DEVICE_KEY, tokens
of a forgotten device) is in test_device_sign_in.py. Cognito's rules: any
DeviceConfiguration turns tracking on; a completed sign-in without a known DEVICE_KEY
gets a new DeviceKey `<region>_<uuid>` and a DeviceGroupKey; ConfirmDevice remembers the
device at once unless DeviceOnlyRememberedOnUserPrompt (then UserConfirmationNecessary
and the app calls UpdateDeviceStatus).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pycognito import aws_srp

from tests.support.auth import PASSWORD, Srp, claims, error, new_client, new_pool, new_user, sign_in
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.devices import (
    GROUP_KEY,
    NOT_REMEMBERED,
    REMEMBERED,
    Setup,
    attributes,
    confirm,
    device_key_pattern,
    new_device,
    tracking_pool,
)
from tests.support.server import CognateServer

NO_DEVICE = ("ResourceNotFoundException", "Device does not exist.")
INVALID_KEY = ("InvalidParameterException", "Invalid device key given.")
INVALID_ACCESS = ("NotAuthorizedException", "Invalid Access Token")
NO_USER = ("ResourceNotFoundException", "User does not exist.")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"devices-{request.param}")
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
def setup(cognito: Any) -> Setup:
    return tracking_pool(cognito)


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The error code and message of `call(*args, **kwargs)`, which must fail."""
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return error(exc)


# ----------------------------------------------------------------------------- tracking


def test_new_device_metadata_only_when_the_pool_tracks_devices(cognito: Any, region: str) -> None:
    pool_id = new_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    assert "DeviceConfiguration" not in cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    untracked = sign_in(cognito, client_id)
    assert "NewDeviceMetadata" not in untracked
    assert "device_key" not in claims(untracked["AccessToken"])

    config = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": True}
    cognito.update_user_pool(UserPoolId=pool_id, DeviceConfiguration=config)
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["DeviceConfiguration"] == (
        config
    )
    password = sign_in(cognito, client_id)
    meta = password["NewDeviceMetadata"]
    assert set(meta) == {"DeviceKey", "DeviceGroupKey"}
    assert device_key_pattern(region).fullmatch(meta["DeviceKey"])
    assert GROUP_KEY.fullmatch(meta["DeviceGroupKey"])
    assert claims(password["AccessToken"])["device_key"] == meta["DeviceKey"]
    # every sign-in that names no device is a new device; SRP and admin sign-in too
    srp = Srp(cognito, pool_id, client_id).run()["AuthenticationResult"]
    admin = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    keys = {r["NewDeviceMetadata"]["DeviceKey"] for r in (password, srp, admin)}
    assert len(keys) == 3
    assert all(device_key_pattern(region).fullmatch(k) for k in keys)
    # a known (if unconfirmed) DEVICE_KEY makes no new device
    again = sign_in(cognito, client_id, DEVICE_KEY=meta["DeviceKey"])
    assert "NewDeviceMetadata" not in again
    assert claims(again["AccessToken"])["device_key"] == meta["DeviceKey"]
    # an empty DeviceConfiguration turns tracking off again
    cognito.update_user_pool(UserPoolId=pool_id)
    assert "NewDeviceMetadata" not in sign_in(cognito, client_id)


# ----------------------------------------------------------------------------- ConfirmDevice


def test_confirm_device_remembers_it_at_once(cognito: Any, setup: Setup, region: str) -> None:
    result = sign_in(cognito, setup.client_id)
    key = result["NewDeviceMetadata"]["DeviceKey"]
    # not confirmed yet: neither listed nor found
    assert cognito.list_devices(AccessToken=result["AccessToken"])["Devices"] == []
    assert refused(cognito.get_device, AccessToken=result["AccessToken"], DeviceKey=key) == (
        NO_DEVICE
    )
    device, necessary = confirm(cognito, result, "alice's laptop")
    assert necessary is False
    got = cognito.get_device(AccessToken=result["AccessToken"], DeviceKey=key)["Device"]
    assert got["DeviceKey"] == key
    owner = f"alice.{setup.pool_id}"
    account = cognito.describe_user_pool(UserPoolId=setup.pool_id)["UserPool"]["Arn"].split(":")[4]
    assert attributes(got) == {
        "device_status": "valid",
        "device_name": "alice's laptop",
        "dev:device_arn": f"arn:aws:cognito-idp:{region}:{account}:owner/{owner}/device/{key}",
        "dev:device_owner": owner,
        "last_ip_used": "127.0.0.1",
        "dev:device_remembered_status": "remembered",
        "dev:device_sdk": "aws-sdk",
    }
    dates = ("DeviceCreateDate", "DeviceLastModifiedDate", "DeviceLastAuthenticatedDate")
    assert all(got[d].tzinfo is not None for d in dates)
    assert got["DeviceCreateDate"] <= got["DeviceLastModifiedDate"]
    # the admin sees the same device
    admin = cognito.admin_get_device(
        UserPoolId=setup.pool_id, Username="alice", DeviceKey=device.key
    )["Device"]
    assert admin == got
    listed = cognito.list_devices(AccessToken=result["AccessToken"])
    assert listed["Devices"] == [got]
    assert "PaginationToken" not in listed
    admin_listed = cognito.admin_list_devices(UserPoolId=setup.pool_id, Username="alice")
    assert admin_listed["Devices"] == [got]


def test_confirm_device_on_user_prompt(cognito: Any, raw: Any, clock: ShiftedClock) -> None:
    setup = tracking_pool(cognito, on_prompt=True)
    result = sign_in(cognito, setup.client_id)
    device, necessary = confirm(cognito, result)
    assert necessary is True
    access = result["AccessToken"]
    before = cognito.get_device(AccessToken=access, DeviceKey=device.key)["Device"]
    assert NOT_REMEMBERED in before["DeviceAttributes"]

    clock.shift(minutes=2)
    cognito.update_device_status(
        AccessToken=access, DeviceKey=device.key, DeviceRememberedStatus="remembered"
    )
    after = cognito.get_device(AccessToken=access, DeviceKey=device.key)["Device"]
    assert REMEMBERED in after["DeviceAttributes"]
    assert after["DeviceLastModifiedDate"] > before["DeviceLastModifiedDate"]
    assert after["DeviceCreateDate"] == before["DeviceCreateDate"]
    code, message = refused(
        raw.update_device_status,
        AccessToken=access,
        DeviceKey=device.key,
        DeviceRememberedStatus="forever",
    )
    assert code == "InvalidParameterException"
    assert "Member must satisfy enum value set: [remembered, not_remembered]" in message

    cognito.admin_update_device_status(
        UserPoolId=setup.pool_id,
        Username="alice",
        DeviceKey=device.key,
        DeviceRememberedStatus="not_remembered",
    )
    admin = cognito.admin_get_device(
        UserPoolId=setup.pool_id, Username="alice", DeviceKey=device.key
    )["Device"]
    assert NOT_REMEMBERED in admin["DeviceAttributes"]


def test_confirm_device_errors(cognito: Any, raw: Any, setup: Setup, region: str) -> None:
    result = sign_in(cognito, setup.client_id)
    access, meta = result["AccessToken"], result["NewDeviceMetadata"]
    _, config = aws_srp.generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])

    def confirm_device(key: str, token: str = access, **extra: Any) -> Any:
        request = {"DeviceSecretVerifierConfig": config, "DeviceName": "x", **extra}
        return raw.confirm_device(AccessToken=token, DeviceKey=key, **request)

    unknown = f"{region}_00000000-0000-4000-8000-000000000000"
    assert refused(lambda: confirm_device(unknown)) == INVALID_KEY
    # bob's device is not alice's to confirm
    new_user(cognito, setup.pool_id, "bob")
    bob = sign_in(cognito, setup.client_id, "bob")
    assert refused(lambda: confirm_device(bob["NewDeviceMetadata"]["DeviceKey"])) == INVALID_KEY
    assert refused(lambda: confirm_device(meta["DeviceKey"], token="not-a-token")) == (
        INVALID_ACCESS
    )
    bad = {"Salt": "%%%", "PasswordVerifier": config["PasswordVerifier"]}
    code, message = refused(
        lambda: confirm_device(meta["DeviceKey"], DeviceSecretVerifierConfig=bad)
    )
    assert (code, message) == ("InvalidParameterException", "Salt is not valid base64")
    bad = {"Salt": config["Salt"], "PasswordVerifier": "not base64!"}
    code, message = refused(
        lambda: confirm_device(meta["DeviceKey"], DeviceSecretVerifierConfig=bad)
    )
    assert (code, message) == ("InvalidParameterException", "PasswordVerifier is not valid base64")
    # verifiers no password makes (0 from empty members, 1, N) would let anyone prove the device
    n_bytes = bytes.fromhex(aws_srp.pad_hex(aws_srp.N_HEX))
    for verifier in (b"", b"\x01", n_bytes):
        bad = {"Salt": config["Salt"], "PasswordVerifier": base64.b64encode(verifier).decode()}
        assert refused(confirm_device, meta["DeviceKey"], DeviceSecretVerifierConfig=bad) == (
            "InvalidParameterException",
            "PasswordVerifier is not a valid SRP verifier",
        )
    # nothing was confirmed by the refused calls
    assert cognito.list_devices(AccessToken=access)["Devices"] == []
    assert cognito.list_devices(AccessToken=bob["AccessToken"])["Devices"] == []


# ----------------------------------------------------------------------------- reading devices


def test_device_operations_need_a_valid_access_token(cognito: Any, raw: Any, setup: Setup) -> None:
    device, _ = new_device(cognito, setup)
    for call in (
        lambda: cognito.get_device(AccessToken="not-a-token", DeviceKey=device.key),
        lambda: raw.get_device(DeviceKey=device.key),  # AccessToken is optional in the model
        lambda: cognito.list_devices(AccessToken="not-a-token"),
        lambda: raw.forget_device(DeviceKey=device.key),
        lambda: cognito.update_device_status(
            AccessToken="not-a-token", DeviceKey=device.key, DeviceRememberedStatus="remembered"
        ),
    ):
        assert refused(call) == INVALID_ACCESS
    # still there
    cognito.admin_get_device(UserPoolId=setup.pool_id, Username="alice", DeviceKey=device.key)


def test_admin_device_operations_of_unknown_users_and_devices(
    cognito: Any, setup: Setup, region: str
) -> None:
    device, _ = new_device(cognito, setup)
    pool = setup.pool_id
    assert (
        refused(
            lambda: cognito.admin_get_device(
                UserPoolId=pool, Username="nobody", DeviceKey=device.key
            )
        )
        == NO_USER
    )
    assert refused(lambda: cognito.admin_list_devices(UserPoolId=pool, Username="nobody")) == (
        NO_USER
    )
    # AdminForgetDevice and AdminUpdateDeviceStatus declare UserNotFoundException
    nobody = {"UserPoolId": pool, "Username": "nobody", "DeviceKey": device.key}
    assert refused(cognito.admin_forget_device, **nobody) == (
        "UserNotFoundException",
        "User does not exist.",
    )
    assert (
        refused(
            lambda: cognito.admin_update_device_status(
                UserPoolId=pool,
                Username="nobody",
                DeviceKey=device.key,
                DeviceRememberedStatus="remembered",
            )
        )[0]
        == "UserNotFoundException"
    )
    # another user's device does not exist for bob, nor for the admin asking about bob
    new_user(cognito, pool, "bob")
    bob = sign_in(cognito, setup.client_id, "bob")["AccessToken"]
    unknown = f"{region}_00000000-0000-4000-8000-000000000000"
    for key in (device.key, unknown):
        assert refused(cognito.get_device, AccessToken=bob, DeviceKey=key) == NO_DEVICE
        as_admin = {"UserPoolId": pool, "Username": "bob", "DeviceKey": key}
        assert refused(cognito.admin_get_device, **as_admin) == NO_DEVICE
        assert (
            refused(
                cognito.update_device_status,
                AccessToken=bob,
                DeviceKey=key,
                DeviceRememberedStatus="not_remembered",
            )
            == NO_DEVICE
        )
        assert refused(cognito.forget_device, AccessToken=bob, DeviceKey=key) == NO_DEVICE
        assert refused(cognito.admin_forget_device, **as_admin) == NO_DEVICE
    assert (
        REMEMBERED
        in cognito.admin_get_device(UserPoolId=pool, Username="alice", DeviceKey=device.key)[
            "Device"
        ]["DeviceAttributes"]
    )


def test_list_devices_pages(cognito: Any, raw: Any, setup: Setup) -> None:
    names = ["laptop", "phone", "tablet"]
    keys = [new_device(cognito, setup, name)[0].key for name in names]
    access = sign_in(cognito, setup.client_id)["AccessToken"]  # a fourth, unconfirmed device
    first = cognito.list_devices(AccessToken=access, Limit=2)
    assert [d["DeviceKey"] for d in first["Devices"]] == keys[:2]
    second = cognito.list_devices(
        AccessToken=access, Limit=2, PaginationToken=first["PaginationToken"]
    )
    assert [d["DeviceKey"] for d in second["Devices"]] == keys[2:]
    assert "PaginationToken" not in second
    whole = cognito.list_devices(AccessToken=access)["Devices"]
    assert [attributes(d)["device_name"] for d in whole] == names

    admin_first = cognito.admin_list_devices(UserPoolId=setup.pool_id, Username="alice", Limit=1)
    assert [d["DeviceKey"] for d in admin_first["Devices"]] == keys[:1]
    admin_rest = cognito.admin_list_devices(
        UserPoolId=setup.pool_id,
        Username="alice",
        Limit=5,
        PaginationToken=admin_first["PaginationToken"],
    )
    assert [d["DeviceKey"] for d in admin_rest["Devices"]] == keys[1:]
    # a token is bound to its listing: bob cannot page through alice's devices with it
    new_user(cognito, setup.pool_id, "bob")
    bob = sign_in(cognito, setup.client_id, "bob")["AccessToken"]
    code, message = refused(
        lambda: cognito.list_devices(
            AccessToken=bob, Limit=2, PaginationToken=first["PaginationToken"]
        )
    )
    assert code == "InvalidParameterException"
    assert message.startswith(f"Paging marker {first['PaginationToken']} is invalid for request")
    assert refused(lambda: raw.list_devices(AccessToken=access, Limit=61))[0] == (
        "InvalidParameterException"
    )


# ----------------------------------------------------------------------------- forgetting


def test_forget_device(cognito: Any, setup: Setup) -> None:
    laptop, _ = new_device(cognito, setup, "laptop")
    phone, _ = new_device(cognito, setup, "phone")
    access = sign_in(cognito, setup.client_id)["AccessToken"]
    cognito.forget_device(AccessToken=access, DeviceKey=laptop.key)
    assert refused(lambda: cognito.get_device(AccessToken=access, DeviceKey=laptop.key)) == (
        NO_DEVICE
    )
    assert [d["DeviceKey"] for d in cognito.list_devices(AccessToken=access)["Devices"]] == [
        phone.key
    ]
    assert refused(lambda: cognito.forget_device(AccessToken=access, DeviceKey=laptop.key)) == (
        NO_DEVICE
    )
    cognito.admin_forget_device(UserPoolId=setup.pool_id, Username="alice", DeviceKey=phone.key)
    assert cognito.admin_list_devices(UserPoolId=setup.pool_id, Username="alice")["Devices"] == []
    assert (
        refused(
            lambda: cognito.admin_update_device_status(
                UserPoolId=setup.pool_id,
                Username="alice",
                DeviceKey=phone.key,
                DeviceRememberedStatus="remembered",
            )
        )
        == NO_DEVICE
    )
    # a forgotten key is not a known device any more: the next sign-in naming it is refused
    assert refused(lambda: sign_in(cognito, setup.client_id, DEVICE_KEY=phone.key)) == NO_DEVICE


def test_forget_an_unconfirmed_device(cognito: Any, setup: Setup) -> None:
    result = sign_in(cognito, setup.client_id)
    key = result["NewDeviceMetadata"]["DeviceKey"]
    other = sign_in(cognito, setup.client_id)["AccessToken"]
    cognito.forget_device(AccessToken=other, DeviceKey=key)
    meta = result["NewDeviceMetadata"]
    _, config = aws_srp.generate_hash_device(meta["DeviceGroupKey"], key)
    assert (
        refused(
            lambda: cognito.confirm_device(
                AccessToken=other, DeviceKey=key, DeviceSecretVerifierConfig=config
            )
        )
        == INVALID_KEY
    )
