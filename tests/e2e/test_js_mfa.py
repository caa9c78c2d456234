"""MFA and remembered devices against a live Cognate with amazon-cognito-identity-js.

Each test sets up a pool, an app client without a secret and a user with boto3, then runs
tests/js/identity_mfa.mjs (one JSON argument, one JSON line out, every request recorded)
and asserts on what the library saw and did:

* TOTP in a pool with optional MFA: associateSoftwareToken / verifySoftwareToken with the
  access token, setUserMfaPreference, then a sign-in that asks for the code (totpRequired)
  and sendMFACode with a wrong code (CodeMismatchException) and the right one;
* MFA required with no factor set up: the mfaSetup callback, associateSoftwareToken and
  verifySoftwareToken on the challenge's session, which completes the sign-in;
* SMS MFA: mfaRequired, then sendMFACode with the code the server queued in its outbox
  (the script asks for it on stdout and reads it from stdin, mid-run);
* remembered devices: the library confirms the device NewDeviceMetadata names
  (ConfirmDevice), the app remembers it (UpdateDeviceStatus), lists and gets it; a new
  CognitoUser on the same storage then signs in with DEVICE_SRP_AUTH /
  DEVICE_PASSWORD_VERIFIER instead of TOTP, until forgetDevice.

The script computes TOTP codes itself (RFC 6238 with node:crypto); every code it used is
checked here against pyotp. Needs Node.js and tests/js/node_modules.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_js_auth import (
    JS_DIR,
    PASSWORD,
    _node,
    attributes_of,
    check_access_token,
    check_error,
    check_id_token,
    create_app,
    create_confirmed_user,
    results_by_action,
    run_js,
    targets,
)
from tests.support.outbox import Message, read_outbox
from tests.support.server import CognateServer

pytestmark = pytest.mark.node

LIBRARY = "amazon-cognito-identity-js"
TOTP = "SOFTWARE_TOKEN_MFA"
TOTP_ON = {"Enabled": True, "PreferredMfa": True}
CODE_MISMATCH = "Invalid code or auth state for the user."
SMS_CONFIGURATION = {"SnsCallerArn": "arn:aws:iam::000000000000:role/sms", "ExternalId": "x"}
SMS_MESSAGE = re.compile(r"Your authentication code is (\d{6})\. ")
PHONE = "+15555550123"
DEVICE_NAME = "nodejs"  # what amazon-cognito-identity-js names a device outside a browser


# --- running the script -----------------------------------------------------------------------


def run_js_answering(
    script: str, argument: dict[str, Any], answer: Callable[[dict[str, Any]], str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run tests/js/<script> like run_js, answering each {"prompt": ...} line it prints with
    the line answer(prompt) on its stdin; the JSON object it printed last, and the prompts."""
    node = _node()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    prompts: list[dict[str, Any]] = []
    lines: list[str] = []
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [node, str(JS_DIR / script), json.dumps(argument)],
            cwd=JS_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        deadline = threading.Timer(180, process.kill)
        deadline.start()
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                message = json.loads(line) if line.startswith('{"prompt"') else None
                if message is not None:
                    prompts.append(message["prompt"])
                    process.stdin.write(answer(message["prompt"]) + "\n")
                    process.stdin.flush()
            returncode = process.wait()
        finally:
            deadline.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        stderr.seek(0)
        errors = stderr.read()
    output = "".join(lines)
    assert returncode == 0, f"{script} exited {returncode}\nstdout:\n{output}\nstderr:\n{errors}"
    assert lines, f"{script} printed nothing\nstderr:\n{errors}"
    observed: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in observed, f"{script}: {observed['error']}\nstderr:\n{errors}"
    return observed, prompts


def identity_mfa(
    server: CognateServer,
    pool_id: str,
    client_id: str,
    username: str,
    actions: list[Any],
    *,
    answer: Callable[[dict[str, Any]], str] | None = None,
    **extra: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run identity_mfa.mjs; the records of the actions, and the whole output."""
    argument = {
        "endpoint": server.endpoint,
        "poolId": pool_id,
        "clientId": client_id,
        "username": username,
        "password": PASSWORD,
        "actions": actions,
        **extra,
    }
    if answer is None:
        observed = run_js("identity_mfa.mjs", argument)
    else:
        observed, _ = run_js_answering("identity_mfa.mjs", argument, answer)
    results = results_by_action(observed, LIBRARY)
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results, observed


def check_totp_codes(observed: dict[str, Any], secret: str, count: int) -> None:
    """The script's TOTP codes are pyotp's, for increasing time steps near now."""
    codes = observed["totpCodes"]
    assert len(codes) == count, codes
    steps = [entry["step"] for entry in codes]
    assert steps == sorted(set(steps)), codes
    assert abs(steps[-1] - int(time.time()) // 30) <= 2, codes
    totp = pyotp.TOTP(secret)
    for entry in codes:
        assert entry["code"] == totp.at(entry["step"] * 30), entry


# --- set-up with boto3 --------------------------------------------------------------------------


def create_pool(cognito: Any, mfa: str, **extra: Any) -> str:
    """A pool with TOTP MFA (`mfa` ON or OPTIONAL)."""
    pool_id: str = cognito.create_user_pool(PoolName="js-mfa", **extra)["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration=mfa,
    )
    return pool_id


def set_up_totp(cognito: Any, pool_id: str, client_id: str, username: str) -> tuple[str, int]:
    """Give the user a verified authenticator preferred for MFA, with boto3 and pyotp; the
    secret, and the time step whose code was used (the script must not use it again)."""
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    access_token = tokens["AccessToken"]
    secret: str = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // 30
    # The code of the step before leaves the current and the next step to the script; if the
    # step changed before the server checked it, the server's window has moved past it.
    for step in (now - 1, now):
        try:
            cognito.verify_software_token(
                AccessToken=access_token, UserCode=totp.at(step * 30), FriendlyDeviceName="Phone"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EnableSoftwareTokenMFAException":
                raise
            continue
        cognito.admin_set_user_mfa_preference(
            UserPoolId=pool_id, Username=username, SoftwareTokenMfaSettings=TOTP_ON
        )
        return secret, step
    raise AssertionError("the server refused the TOTP codes of the current time steps")


def check_signed_in(
    record: dict[str, Any], server: CognateServer, pool_id: str, client_id: str, sub: str
) -> dict[str, Any]:
    """A sign-in that ended with a valid session for `ada`; the access token's claims."""
    assert record["ok"] is True, record
    assert record["outcome"] == "success"
    assert record["isValid"] is True
    claims = dict(
        issuer=f"{server.endpoint}/{pool_id}", client_id=client_id, username="ada", sub=sub
    )
    check_id_token(record["idToken"], **claims)
    return check_access_token(record["accessToken"], **claims)


# --- TOTP -----------------------------------------------------------------------------------


def test_totp_set_up_while_signed_in_then_required_at_sign_in(
    server: CognateServer, cognito: Any
) -> None:
    pool_id = create_pool(cognito, "OPTIONAL")
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")

    results, observed = identity_mfa(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            "associate_software_token",
            {
                "action": "verify_software_token",
                "codeFrom": "wrongTotp",
                "friendlyName": "My phone",
            },
            {"action": "verify_software_token", "codeFrom": "totp", "friendlyName": "My phone"},
            {"action": "set_mfa_preference", "totp": TOTP_ON},
            "get_user_data",
            "authenticate",
            {"action": "send_mfa_code", "codeFrom": "wrongTotp", "mfaType": TOTP},
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
            "get_user_data",
        ],
    )
    (
        first,
        associated,
        wrong_verify,
        verified,
        preferred,
        user_data,
        second,
        wrong_code,
        signed_in,
        after,
    ) = results

    # MFA is optional and the user has no factor yet: no challenge.
    assert first["ok"] is True, first
    assert targets(first) == ["InitiateAuth", "RespondToAuthChallenge"]
    assert "challengeName" not in first["calls"][1]

    # Signed in, the library associates and verifies with the access token.
    assert associated["ok"] is True, associated
    assert targets(associated) == ["AssociateSoftwareToken"]
    assert set(associated["calls"][0]["request"]) == {"AccessToken"}
    assert associated["calls"][0]["responseKeys"] == ["SecretCode"]
    secret = associated["secretCode"]
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret

    check_error(wrong_verify, "EnableSoftwareTokenMFAException")
    assert targets(wrong_verify) == ["VerifySoftwareToken"]
    assert wrong_verify["calls"][0]["status"] == 400

    assert verified["ok"] is True, verified
    assert verified["result"]["Status"] == "SUCCESS"
    assert targets(verified) == ["VerifySoftwareToken"]
    assert set(verified["calls"][0]["request"]) == {"AccessToken", "FriendlyDeviceName", "UserCode"}

    assert preferred["ok"] is True, preferred
    assert preferred["result"] == "SUCCESS"
    assert targets(preferred) == ["SetUserMFAPreference"]
    # The library sends the SMS settings it was given (null) along.
    assert preferred["calls"][0]["request"]["SMSMfaSettings"] is None
    assert preferred["calls"][0]["status"] == 200

    assert user_data["ok"] is True, user_data
    assert targets(user_data) == ["GetUser"]
    assert user_data["userMfaSettingList"] == [TOTP]
    assert user_data["preferredMfaSetting"] == TOTP

    # The next sign-in asks for the code: totpRequired, with the authenticator's name.
    assert second["outcome"] == "totpRequired", second
    assert second["challengeName"] == TOTP
    assert second["challengeParameters"]["FRIENDLY_DEVICE_NAME"] == "My phone"
    assert targets(second) == ["InitiateAuth", "RespondToAuthChallenge"]
    assert second["calls"][1]["challengeName"] == TOTP
    assert "authenticationResultKeys" not in second["calls"][1]

    check_error(wrong_code, "CodeMismatchException", CODE_MISMATCH)
    assert targets(wrong_code) == ["RespondToAuthChallenge"]
    request = wrong_code["calls"][0]["request"]
    assert request["ChallengeName"] == TOTP
    assert {"SOFTWARE_TOKEN_MFA_CODE", "USERNAME"} <= set(request["ChallengeResponses"])

    # The same session still takes the right code.
    access = check_signed_in(signed_in, server, pool_id, client_id, sub)
    assert targets(signed_in) == ["RespondToAuthChallenge"]
    assert signed_in["calls"][0]["request"]["ChallengeName"] == TOTP
    assert signed_in["calls"][0]["status"] == 200
    assert "NewDeviceMetadata" not in signed_in["calls"][0]["authenticationResultKeys"]
    assert "device_key" not in access
    assert access["auth_time"] >= first["accessToken"]["payload"]["auth_time"]
    assert signed_in["accessToken"]["token"] != first["accessToken"]["token"]

    assert after["ok"] is True, after
    assert after["attributes"]["sub"] == sub

    check_totp_codes(observed, secret, 2)
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ada")
    assert user["UserMFASettingList"] == [TOTP]
    assert user["PreferredMfaSetting"] == TOTP


def test_mfa_on_sets_up_totp_during_sign_in(server: CognateServer, cognito: Any) -> None:
    pool_id = create_pool(cognito, "ON")
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")

    results, observed = identity_mfa(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            "associate_software_token",
            {
                "action": "verify_software_token",
                "codeFrom": "wrongTotp",
                "friendlyName": "My phone",
            },
            {"action": "verify_software_token", "codeFrom": "totp", "friendlyName": "My phone"},
            "get_user_data",
            "authenticate",
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
        ],
    )
    setup, associated, mistyped, verified, user_data, again, signed_in = results

    assert setup["outcome"] == "mfaSetup", setup
    assert setup["challengeName"] == "MFA_SETUP"
    assert json.loads(setup["challengeParameters"]["MFAS_CAN_SETUP"]) == [TOTP]
    assert targets(setup) == ["InitiateAuth", "RespondToAuthChallenge"]

    # Not signed in yet: the library associates with the challenge's session.
    assert associated["ok"] is True, associated
    assert targets(associated) == ["AssociateSoftwareToken"]
    assert set(associated["calls"][0]["request"]) == {"Session"}
    assert associated["calls"][0]["responseKeys"] == ["SecretCode", "Session"]
    secret = associated["secretCode"]

    # A mistyped code: the library keeps the session, which the server leaves usable.
    check_error(mistyped, "EnableSoftwareTokenMFAException")
    assert targets(mistyped) == ["VerifySoftwareToken"]
    assert set(mistyped["calls"][0]["request"]) == {"FriendlyDeviceName", "Session", "UserCode"}

    # verifySoftwareToken on the session, then MFA_SETUP answered with the session it gave.
    check_signed_in(verified, server, pool_id, client_id, sub)
    assert targets(verified) == ["VerifySoftwareToken", "RespondToAuthChallenge"]
    verify, respond = verified["calls"]
    assert set(verify["request"]) == {"FriendlyDeviceName", "Session", "UserCode"}
    assert verify["responseKeys"] == ["Session", "Status"]
    assert respond["request"]["ChallengeName"] == "MFA_SETUP"
    assert set(respond["request"]["ChallengeResponses"]) == {"USERNAME"}
    assert respond["status"] == 200
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(respond["authenticationResultKeys"])

    # Setting up TOTP this way makes it the user's MFA.
    assert user_data["ok"] is True, user_data
    assert user_data["userMfaSettingList"] == [TOTP]
    assert user_data["preferredMfaSetting"] == TOTP

    assert again["outcome"] == "totpRequired", again
    assert again["challengeParameters"]["FRIENDLY_DEVICE_NAME"] == "My phone"
    check_signed_in(signed_in, server, pool_id, client_id, sub)
    assert targets(signed_in) == ["RespondToAuthChallenge"]

    check_totp_codes(observed, secret, 2)


# --- SMS --------------------------------------------------------------------------------------


def test_sms_mfa_with_the_code_from_the_outbox(server: CognateServer, cognito: Any) -> None:
    pool = cognito.create_user_pool(PoolName="js-sms-mfa", SmsConfiguration=SMS_CONFIGURATION)
    pool_id = pool["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SmsMfaConfiguration={"SmsConfiguration": SMS_CONFIGURATION},
        MfaConfiguration="OPTIONAL",
    )
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="ada",
        UserAttributes=[
            {"Name": "phone_number", "Value": PHONE},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username="ada", SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    sent: list[Message] = []

    def answer(prompt: dict[str, Any]) -> str:
        """The code of the one SMS the sign-in sent; for "wrong", another code."""
        messages = [m for m in read_outbox(server, pool_id) if m.kind == "sign_in_code"]
        sent[:] = messages
        assert len(messages) == 1, messages
        match = SMS_MESSAGE.fullmatch(messages[0].body)
        assert match, messages[0].body
        code = match.group(1)
        if prompt["label"] == "wrong":
            return f"{(int(code) + 1) % 1_000_000:06d}"
        return code

    results, _ = identity_mfa(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            {"action": "send_mfa_code", "codeFrom": "prompt", "label": "wrong"},
            {"action": "send_mfa_code", "codeFrom": "prompt", "label": "right"},
        ],
        answer=answer,
    )
    challenged, wrong_code, signed_in = results

    assert challenged["outcome"] == "mfaRequired", challenged
    assert challenged["challengeName"] == "SMS_MFA"
    assert challenged["challengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    # Where the code went, masked (how many trailing digits show is the server's business).
    destination = challenged["challengeParameters"]["CODE_DELIVERY_DESTINATION"]
    assert re.fullmatch(r"\+\*+[0-9]{2,4}", destination), destination
    assert len(destination) == len(PHONE)
    assert PHONE.endswith(destination.lstrip("+*"))
    assert targets(challenged) == ["InitiateAuth", "RespondToAuthChallenge"]

    (message,) = sent
    assert message.channel == "SMS"
    assert message.destination == PHONE
    assert message.username == "ada"

    check_error(wrong_code, "CodeMismatchException", CODE_MISMATCH)
    request = wrong_code["calls"][0]["request"]
    assert request["ChallengeName"] == "SMS_MFA"
    assert set(request["ChallengeResponses"]) == {"SMS_MFA_CODE", "USERNAME"}

    check_signed_in(signed_in, server, pool_id, client_id, sub)
    assert targets(signed_in) == ["RespondToAuthChallenge"]
    assert signed_in["calls"][0]["request"]["ChallengeName"] == "SMS_MFA"
    # No other code was sent: the wrong answer kept the challenge and its code.
    assert len([m for m in read_outbox(server, pool_id) if m.kind == "sign_in_code"]) == 1


# --- remembered devices -------------------------------------------------------------------------


def device_challenges(record: dict[str, Any]) -> list[str | None]:
    """The challenge each RespondToAuthChallenge of a sign-in answered."""
    return [
        call["request"]["ChallengeName"]
        for call in record["calls"]
        if call["target"] == "RespondToAuthChallenge"
    ]


def test_remembered_device_signs_in_without_totp_until_forgotten(
    server: CognateServer, cognito: Any
) -> None:
    pool_id = create_pool(
        cognito,
        "OPTIONAL",
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": True,
        },
    )
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    secret, used_step = set_up_totp(cognito, pool_id, client_id, "ada")

    results, observed = identity_mfa(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
            "set_device_status_remembered",
            "list_devices",
            "get_device",
            {"action": "authenticate", "newUser": True},
            "get_device",
            "forget_device",
            {"action": "authenticate", "newUser": True},
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
            "list_devices",
        ],
        totpSecret=secret,
        totpLastStep=used_step,
    )
    (
        challenged,
        signed_in,
        remembered,
        listed,
        got,
        device_sign_in,
        got_again,
        forgotten,
        challenged_again,
        signed_in_again,
        listed_again,
    ) = results

    # A new device: TOTP is asked, and the tokens come with NewDeviceMetadata, which the
    # library confirms (ConfirmDevice) before calling onSuccess.
    assert challenged["outcome"] == "totpRequired", challenged
    assert "DEVICE_KEY" not in challenged["calls"][0]["request"]["AuthParameters"]
    assert challenged["storedDevice"] is None
    check_signed_in(signed_in, server, pool_id, client_id, sub)
    assert targets(signed_in) == ["RespondToAuthChallenge", "ConfirmDevice"]
    respond, confirm = signed_in["calls"]
    assert "NewDeviceMetadata" in respond["authenticationResultKeys"]
    assert set(confirm["request"]) == {
        "AccessToken",
        "DeviceKey",
        "DeviceName",
        "DeviceSecretVerifierConfig",
    }
    assert confirm["status"] == 200
    assert confirm["responseKeys"] == ["UserConfirmationNecessary"]
    # DeviceOnlyRememberedOnUserPrompt: the app is to ask the user.
    assert signed_in["userConfirmationNecessary"] is True
    device = signed_in["storedDevice"]
    assert device is not None
    assert device["hasRandomPassword"] is True
    device_key = device["deviceKey"]
    assert re.fullmatch(r"[a-z0-9-]+_[0-9a-f-]{36}", device_key), device_key
    assert device["deviceGroupKey"]
    assert signed_in["accessToken"]["payload"]["device_key"] == device_key

    assert remembered["ok"] is True, remembered
    assert targets(remembered) == ["UpdateDeviceStatus"]
    assert remembered["calls"][0]["status"] == 200

    assert listed["ok"] is True, listed
    assert targets(listed) == ["ListDevices"]
    # Only the confirmed device: the one boto3's sign-in left unconfirmed is not listed.
    (listed_device,) = listed["devices"]
    assert listed_device["deviceKey"] == device_key
    assert listed_device["attributes"]["device_name"] == DEVICE_NAME
    assert listed_device["attributes"]["dev:device_remembered_status"] == "remembered"

    assert got["ok"] is True, got
    assert targets(got) == ["GetDevice"]
    assert got["device"]["deviceKey"] == device_key
    assert got["device"]["attributes"]["device_name"] == DEVICE_NAME
    assert got["device"]["hasCreateDate"] is True

    # A new CognitoUser finds the device in storage: after the password, the device proves
    # itself with SRP, and no TOTP code is asked.
    check_signed_in(device_sign_in, server, pool_id, client_id, sub)
    assert targets(device_sign_in) == [
        "InitiateAuth",
        "RespondToAuthChallenge",
        "RespondToAuthChallenge",
        "RespondToAuthChallenge",
    ]
    initiate, password, device_srp, device_verifier = device_sign_in["calls"]
    assert initiate["challengeName"] == "PASSWORD_VERIFIER"
    assert password["request"]["ChallengeName"] == "PASSWORD_VERIFIER"
    assert "DEVICE_KEY" in password["request"]["ChallengeResponses"]
    assert password["challengeName"] == "DEVICE_SRP_AUTH"
    assert device_srp["request"]["ChallengeName"] == "DEVICE_SRP_AUTH"
    assert set(device_srp["request"]["ChallengeResponses"]) == {"DEVICE_KEY", "SRP_A", "USERNAME"}
    assert device_srp["challengeName"] == "DEVICE_PASSWORD_VERIFIER"
    assert set(device_srp["challengeParameterKeys"]) >= {"SALT", "SECRET_BLOCK", "SRP_B"}
    assert device_verifier["request"]["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER"
    assert device_verifier["status"] == 200
    assert "NewDeviceMetadata" not in device_verifier["authenticationResultKeys"]
    assert device_challenges(device_sign_in) == [
        "PASSWORD_VERIFIER",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
    ]
    assert device_sign_in["accessToken"]["payload"]["device_key"] == device_key
    assert got_again["ok"] is True, got_again
    assert got_again["device"]["hasLastAuthenticatedDate"] is True

    # forgetDevice: the server deletes it and the library drops it from storage.
    assert forgotten["ok"] is True, forgotten
    assert targets(forgotten) == ["ForgetDevice"]
    assert forgotten["calls"][0]["status"] == 200
    assert forgotten["storedDevice"] is None

    # The next sign-in is from a new device again: TOTP is asked.
    assert challenged_again["outcome"] == "totpRequired", challenged_again
    assert device_challenges(challenged_again) == ["PASSWORD_VERIFIER"]
    assert challenged_again["calls"][1]["challengeName"] == TOTP
    check_signed_in(signed_in_again, server, pool_id, client_id, sub)
    assert targets(signed_in_again) == ["RespondToAuthChallenge", "ConfirmDevice"]
    new_device = signed_in_again["storedDevice"]
    assert new_device is not None
    assert new_device["deviceKey"] != device_key

    assert listed_again["ok"] is True, listed_again
    (listed_device,) = listed_again["devices"]
    assert listed_device["deviceKey"] == new_device["deviceKey"]
    assert listed_device["attributes"]["dev:device_remembered_status"] == "not_remembered"

    check_totp_codes(observed, secret, 2)
    assert observed["totpCodes"][0]["step"] > used_step
    devices = cognito.admin_list_devices(UserPoolId=pool_id, Username="ada")["Devices"]
    assert [d["DeviceKey"] for d in devices] == [new_device["deviceKey"]]
    assert attributes_of(cognito.admin_get_user(UserPoolId=pool_id, Username="ada"))["sub"] == sub


def test_device_not_remembered_asks_totp_then_proves_the_device(
    server: CognateServer, cognito: Any
) -> None:
    """A confirmed device the user chose not to remember: the next sign-in asks TOTP, then
    the device proof. The library answers DEVICE_SRP_AUTH with the session it sent the TOTP
    code with (sendMFACode does not keep the new one), so the device step keeps that token."""
    pool_id = create_pool(
        cognito,
        "OPTIONAL",
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": True,
        },
    )
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    secret, used_step = set_up_totp(cognito, pool_id, client_id, "ada")

    results, observed = identity_mfa(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
            "set_device_status_not_remembered",
            {"action": "authenticate", "newUser": True},
            {"action": "send_mfa_code", "codeFrom": "totp", "mfaType": TOTP},
        ],
        totpSecret=secret,
        totpLastStep=used_step,
    )
    _, signed_in, not_remembered, challenged, proven = results
    check_signed_in(signed_in, server, pool_id, client_id, sub)
    device_key = signed_in["storedDevice"]["deviceKey"]
    assert not_remembered["ok"] is True, not_remembered

    assert challenged["outcome"] == "totpRequired", challenged
    check_signed_in(proven, server, pool_id, client_id, sub)
    assert device_challenges(proven) == [
        TOTP,
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
    ]
    totp_call, device_srp, _ = proven["calls"]
    assert device_srp["request"]["Session"] == totp_call["request"]["Session"]
    assert proven["accessToken"]["payload"]["device_key"] == device_key
    check_totp_codes(observed, secret, 2)
