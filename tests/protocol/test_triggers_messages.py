"""The message triggers end to end: CustomMessage for every triggerSource this server sends
(SignUp, ResendCode, ForgotPassword from ForgotPassword and AdminResetUserPassword,
AdminCreateUser, UpdateUserAttribute from both update operations, VerifyUserAttribute,
Authentication), the exact events, the returned text being what lands in the outbox (and
its code working), the fallbacks (a message without its code, email fields in a pool that
sends email from Cognito) and the failures (a function that throws, times out or answers
garbage fails the API call and leaves nothing behind).

CustomEmailSender / CustomSMSSender: the outbox hands each message to the function instead
of SMTP or SMS, with the code encrypted in the AWS Encryption SDK format under the sender
key file; the test decrypts it with aws-encryption-sdk and the key, and the decrypted code
confirms the user. A failing sender leaves the message in the outbox with its error, tried
three times in all.

Functions run through the HTTP invoker (`http_*`), the Lambda Invoke API (`lambda_*`) and
in the server process (`py_*`); the first two run the Python functions of
tests/support/python_functions.py in the test process.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import aws_encryption_sdk
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey
from botocore.exceptions import ClientError

from tests.support import python_functions
from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    attributes_of,
    error,
    new_client,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.delivery import data_dir, outbox, wait_until
from tests.support.functions import Fail, FunctionHost, arn, function_host, slow
from tests.support.mfa import DEVELOPER_EMAIL, SMS_CONFIGURATION, mfa_pool
from tests.support.server import CognateServer
from tests.support.trigger_server import python_events, trigger_server

SDK = "aws-sdk-unknown-unknown"
NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
METADATA = {"app": "web", "locale": "fr-FR"}
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
UNRECOGNIZABLE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
TIMEOUT = "Socket timeout while invoking Lambda function"
REJECTED = "Registration from this domain is not allowed."
SIX_DIGITS = re.compile(r"[0-9]{6}")
NO_RESPONSE = {"smsMessage": None, "emailMessage": None, "emailSubject": None}


@pytest.fixture(scope="module")
def functions() -> Iterator[FunctionHost]:
    with function_host() as host:
        yield host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest,
    functions: FunctionHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp(f"messages-{request.param}")
    with trigger_server(request.param, workdir, functions) as (srv, _clock):
        yield srv


# ----------------------------------------------------------------------------- helpers


def function(functions: FunctionHost, invoker: str, behaviour: str) -> str:
    """A function name for `invoker` (http, lambda or py) that behaves as the Python
    function `behaviour` of tests/support/python_functions.py."""
    if invoker == "py":
        return behaviour
    name = f"{invoker}_message_{uuid.uuid4().hex[:10]}"
    run = getattr(python_functions, behaviour)
    functions.on(name, lambda event: run(copy.deepcopy(event), None))  # the host keeps `event`
    return name


def events(
    server: CognateServer, functions: FunctionHost, name: str, pool_id: str
) -> list[dict[str, Any]]:
    """The events the function got for this pool, in order."""
    got = python_events(server, name) if name.startswith("py_") else functions.events(name)
    return [e for e in got if e["userPoolId"] == pool_id]


def message_pool(
    cognito: Any, name: str | None, *, developer_email: bool = True, **settings: Any
) -> tuple[str, str]:
    """A pool verifying email automatically, with `name` as its CustomMessage trigger and
    an app client allowing password sign-in; returns the pool and client ids."""
    if name is not None:
        settings.setdefault("LambdaConfig", {"CustomMessage": arn(name)})
    if developer_email:
        settings.setdefault("EmailConfiguration", DEVELOPER_EMAIL)
    pool_id: str = cognito.create_user_pool(
        PoolName="messages",
        AutoVerifiedAttributes=["email"],
        SmsConfiguration=SMS_CONFIGURATION,
        **settings,
    )["UserPool"]["Id"]
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return pool_id, client_id


def stored_attributes(cognito: Any, pool_id: str, username: str) -> dict[str, str]:
    """`request.userAttributes` as the user is stored now."""
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return {**attributes_of(user), "cognito:user_status": user["UserStatus"]}


def custom_message_event(
    source: str,
    region: str,
    pool_id: str,
    client_id: str,
    username: str,
    attributes: dict[str, str],
    *,
    metadata: dict[str, str] | None = None,
    username_parameter: str | None = None,
) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "region": region,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": SDK, "clientId": client_id},
        "request": {
            "userAttributes": attributes,
            "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}",
            "usernameParameter": username_parameter,
            "clientMetadata": metadata or {},
        },
        "response": NO_RESPONSE,
    }


def custom_email(source: str, who: str, code: str) -> tuple[str, str]:
    """(subject, body) py_custom_message writes."""
    return f"Subject of {source}", f"<p>{source}: hello {who}, your code is {code}</p>"


def sign_up(cognito: Any, client_id: str, username: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = cognito.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        **extra,
    )
    return response


def verified_user(cognito: Any, pool_id: str, username: str, **attributes: str) -> str:
    """A CONFIRMED user with a verified email (no invitation is sent)."""
    values = {"email": f"{username}@example.com", "email_verified": "true", **attributes}
    return new_user(cognito, pool_id, username, attributes=values)


def assert_gone(cognito: Any, pool_id: str, username: str) -> None:
    with pytest.raises(ClientError) as caught:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    assert error(caught)[0] == "UserNotFoundException"


# ----------------------------------------------------------------------------- CustomMessage


@pytest.mark.parametrize("invoker", ["http", "lambda", "py"])
def test_sign_up_sends_the_functions_message(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)

    sign_up(cognito, client_id, "carol", ClientMetadata=METADATA)

    (event,) = events(server, functions, name, pool_id)
    attributes = stored_attributes(cognito, pool_id, "carol")
    assert attributes["email"] == "carol@example.com"
    assert attributes["cognito:user_status"] == "UNCONFIRMED"
    assert event == custom_message_event(
        "CustomMessage_SignUp", region, pool_id, client_id, "carol", attributes, metadata=METADATA
    )
    (message,) = outbox(server, pool_id=pool_id)
    code = message["code"]
    assert SIX_DIGITS.fullmatch(code)
    assert (message["subject"], message["body"]) == custom_email(
        "CustomMessage_SignUp", "carol", code
    )
    assert (message["channel"], message["destination"]) == ("EMAIL", "carol@example.com")
    # The code rendered into the function's text is the one that confirms.
    cognito.confirm_sign_up(ClientId=client_id, Username="carol", ConfirmationCode=code)
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="carol")["UserStatus"] == (
        "CONFIRMED"
    )


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_resend_confirmation_code(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)
    sign_up(cognito, client_id, "dan")

    cognito.resend_confirmation_code(ClientId=client_id, Username="dan", ClientMetadata=METADATA)

    first, second = events(server, functions, name, pool_id)
    assert first["triggerSource"] == "CustomMessage_SignUp"
    assert first["request"]["clientMetadata"] == {}
    assert second == custom_message_event(
        "CustomMessage_ResendCode",
        region,
        pool_id,
        client_id,
        "dan",
        stored_attributes(cognito, pool_id, "dan"),
        metadata=METADATA,
    )
    _, resent = outbox(server, pool_id=pool_id)
    assert resent["body"] == custom_email("CustomMessage_ResendCode", "dan", resent["code"])[1]
    cognito.confirm_sign_up(ClientId=client_id, Username="dan", ConfirmationCode=resent["code"])


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_forgot_password(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)
    verified_user(cognito, pool_id, "erin")

    cognito.forgot_password(ClientId=client_id, Username="erin", ClientMetadata=METADATA)

    (event,) = events(server, functions, name, pool_id)
    assert event == custom_message_event(
        "CustomMessage_ForgotPassword",
        region,
        pool_id,
        client_id,
        "erin",
        stored_attributes(cognito, pool_id, "erin"),
        metadata=METADATA,
    )
    (message,) = outbox(server, pool_id=pool_id)
    assert (message["subject"], message["body"]) == custom_email(
        "CustomMessage_ForgotPassword", "erin", message["code"]
    )
    cognito.confirm_forgot_password(
        ClientId=client_id, Username="erin", ConfirmationCode=message["code"], Password=NEW_PASSWORD
    )
    sign_in(cognito, client_id, "erin", NEW_PASSWORD)


def test_admin_reset_user_password(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = function(functions, "lambda", "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)
    verified_user(cognito, pool_id, "fay")

    cognito.admin_reset_user_password(UserPoolId=pool_id, Username="fay", ClientMetadata=METADATA)

    (event,) = events(server, functions, name, pool_id)
    attributes = stored_attributes(cognito, pool_id, "fay")
    assert attributes["cognito:user_status"] == "RESET_REQUIRED"
    assert event == custom_message_event(
        "CustomMessage_ForgotPassword",
        region,
        pool_id,
        NO_CLIENT,
        "fay",
        attributes,
        metadata=METADATA,
    )
    (message,) = outbox(server, pool_id=pool_id)
    assert (
        message["body"] == custom_email("CustomMessage_ForgotPassword", "fay", message["code"])[1]
    )
    cognito.confirm_forgot_password(
        ClientId=client_id, Username="fay", ConfirmationCode=message["code"], Password=NEW_PASSWORD
    )


@pytest.mark.parametrize("invoker", ["lambda", "py"])
def test_admin_create_user_invitation_on_both_mediums(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)

    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="gus",
        UserAttributes=[
            {"Name": "email", "Value": "gus@example.com"},
            {"Name": "phone_number", "Value": "+15555550123"},
        ],
        DesiredDeliveryMediums=["EMAIL", "SMS"],
        ClientMetadata=METADATA,
    )

    # One invocation writes both messages.
    (event,) = events(server, functions, name, pool_id)
    attributes = stored_attributes(cognito, pool_id, "gus")
    assert attributes["cognito:user_status"] == "FORCE_CHANGE_PASSWORD"
    assert event == custom_message_event(
        "CustomMessage_AdminCreateUser",
        region,
        pool_id,
        NO_CLIENT,
        "gus",
        attributes,
        metadata=METADATA,
        username_parameter="{username}",
    )
    email, sms = sorted(outbox(server, pool_id=pool_id), key=lambda m: m["channel"])
    temporary = email["code"]
    assert sms["code"] == temporary
    assert (email["subject"], email["body"]) == custom_email(
        "CustomMessage_AdminCreateUser", "gus", temporary
    )
    assert sms["body"] == f"[CustomMessage_AdminCreateUser] gus: {temporary}"
    assert (sms["destination"], sms["subject"]) == ("+15555550123", None)
    challenge = password_auth(cognito, client_id, "gus", temporary)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_update_user_attributes_with_an_access_token(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = function(functions, "http", "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)
    verified_user(cognito, pool_id, "hal")
    token = sign_in(cognito, client_id, "hal")["AccessToken"]

    cognito.update_user_attributes(
        AccessToken=token,
        UserAttributes=[{"Name": "email", "Value": "hal@new.example.com"}],
        ClientMetadata=METADATA,
    )

    (event,) = events(server, functions, name, pool_id)
    attributes = stored_attributes(cognito, pool_id, "hal")
    # The function sees the user as the update left them.
    assert attributes["email"] == "hal@new.example.com"
    assert attributes["email_verified"] == "false"
    assert event == custom_message_event(
        "CustomMessage_UpdateUserAttribute",
        region,
        pool_id,
        client_id,
        "hal",
        attributes,
        metadata=METADATA,
    )
    (message,) = outbox(server, pool_id=pool_id)
    assert message["destination"] == "hal@new.example.com"
    assert (
        message["body"]
        == custom_email("CustomMessage_UpdateUserAttribute", "hal", message["code"])[1]
    )
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=message["code"])
    assert stored_attributes(cognito, pool_id, "hal")["email_verified"] == "true"


def test_admin_update_user_attributes(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = function(functions, "py", "py_custom_message")
    pool_id, _client_id = message_pool(cognito, name)
    verified_user(cognito, pool_id, "ida")

    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="ida",
        UserAttributes=[{"Name": "email", "Value": "ida@new.example.com"}],
        ClientMetadata=METADATA,
    )

    (event,) = events(server, functions, name, pool_id)
    attributes = stored_attributes(cognito, pool_id, "ida")
    assert attributes["email"] == "ida@new.example.com"
    assert event == custom_message_event(
        "CustomMessage_UpdateUserAttribute",
        region,
        pool_id,
        NO_CLIENT,
        "ida",
        attributes,
        metadata=METADATA,
    )
    (message,) = outbox(server, pool_id=pool_id)
    assert (
        message["body"]
        == custom_email("CustomMessage_UpdateUserAttribute", "ida", message["code"])[1]
    )


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_get_user_attribute_verification_code(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    pool_id, client_id = message_pool(cognito, name)
    new_user(cognito, pool_id, "jo", attributes={"email": "jo@example.com"})
    token = sign_in(cognito, client_id, "jo")["AccessToken"]

    cognito.get_user_attribute_verification_code(
        AccessToken=token, AttributeName="email", ClientMetadata=METADATA
    )

    (event,) = events(server, functions, name, pool_id)
    assert event == custom_message_event(
        "CustomMessage_VerifyUserAttribute",
        region,
        pool_id,
        client_id,
        "jo",
        stored_attributes(cognito, pool_id, "jo"),
        metadata=METADATA,
    )
    (message,) = outbox(server, pool_id=pool_id)
    assert (message["subject"], message["body"]) == custom_email(
        "CustomMessage_VerifyUserAttribute", "jo", message["code"]
    )
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=message["code"])
    assert stored_attributes(cognito, pool_id, "jo")["email_verified"] == "true"


@pytest.mark.parametrize("invoker", ["http", "py"])
def test_sms_mfa_code_at_sign_in(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_message")
    mfa = mfa_pool(
        server,
        cognito,
        "ON",
        sms=True,
        totp=False,
        LambdaConfig={"CustomMessage": arn(name)},
    )
    mfa.user("kim", phone_number="+15555550142", phone_number_verified="true")

    challenge = cognito.initiate_auth(
        ClientId=mfa.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "kim", "PASSWORD": PASSWORD},
        ClientMetadata=METADATA,
    )

    assert challenge["ChallengeName"] == "SMS_MFA"
    (event,) = events(server, functions, name, mfa.pool_id)
    # InitiateAuth hands ClientMetadata to PreSignUp, PreAuthentication and UserMigration only.
    assert event == custom_message_event(
        "CustomMessage_Authentication",
        region,
        mfa.pool_id,
        mfa.client_id,
        "kim",
        stored_attributes(cognito, mfa.pool_id, "kim"),
    )
    (message,) = [m for m in outbox(server, pool_id=mfa.pool_id) if m["kind"] == "sign_in_code"]
    assert message["body"] == f"[CustomMessage_Authentication] kim: {message['code']}"
    tokens = mfa.answer(challenge, username="kim", SMS_MFA_CODE=message["code"])
    assert "AccessToken" in tokens["AuthenticationResult"]


def test_message_without_its_code_falls_back_to_the_template(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    name = function(functions, "py", "py_custom_message_no_code")
    pool_id, client_id = message_pool(
        cognito,
        name,
        VerificationMessageTemplate={
            "EmailMessage": "Template code {####}",
            "EmailSubject": "Template subject",
            "SmsMessage": "Template SMS {####}",
        },
    )
    sign_up(cognito, client_id, "lee")
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="max",
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550177"}],
        DesiredDeliveryMediums=["SMS"],
    )

    email, sms = outbox(server, pool_id=pool_id)
    assert (email["subject"], email["body"]) == (
        "Template subject",
        f"Template code {email['code']}",
    )
    # The invitation falls back to Cognito's default invitation.
    assert sms["body"] == f"Your username is max and temporary password is {sms['code']}. "


def test_email_fields_need_a_developer_email_account(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    name = function(functions, "py", "py_custom_message")
    pool_id, client_id = message_pool(cognito, name, developer_email=False)

    with pytest.raises(ClientError) as caught:
        sign_up(cognito, client_id, "ned")

    assert error(caught) == UNRECOGNIZABLE
    assert_gone(cognito, pool_id, "ned")
    # An SMS from the same reply is fine: only email fields need DEVELOPER.
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="oda",
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550188"}],
        DesiredDeliveryMediums=["SMS"],
    )
    (sms,) = outbox(server, pool_id=pool_id)
    assert sms["body"] == f"[CustomMessage_AdminCreateUser] oda: {sms['code']}"
    # A function that leaves the email fields null leaves Cognito's email as it is.
    sms_only = function(functions, "py", "py_custom_message_sms")
    other_pool, other_client = message_pool(cognito, sms_only, developer_email=False)
    sign_up(cognito, other_client, "pam")
    (email,) = outbox(server, pool_id=other_pool)
    assert email["body"] == f"Your verification code is {email['code']}. "


FAILED = "UserLambdaValidationException"
UNEXPECTED = "UnexpectedLambdaException"


@pytest.mark.parametrize(
    ("invoker", "behaviour", "expected"),
    [
        ("py", "py_reject", (FAILED, f"CustomMessage failed with error {REJECTED}.")),
        ("http", "fail", (FAILED, "CustomMessage failed with error boom.")),
        ("lambda", "fail", (FAILED, "CustomMessage failed with error boom.")),
        ("http", "slow", (UNEXPECTED, f"CustomMessage invocation failed due to error {TIMEOUT}.")),
        ("py", "py_garbage", UNRECOGNIZABLE),
    ],
)
def test_a_failing_function_fails_sign_up_and_leaves_nothing(
    server: CognateServer,
    cognito: Any,
    functions: FunctionHost,
    invoker: str,
    behaviour: str,
    expected: tuple[str, str],
) -> None:
    if behaviour == "fail":
        name = f"{invoker}_message_{uuid.uuid4().hex[:10]}"

        def fail(event: dict[str, Any]) -> Any:
            raise Fail("boom")

        functions.on(name, fail)
    elif behaviour == "slow":
        name = f"{invoker}_message_{uuid.uuid4().hex[:10]}"
        functions.on(name, slow(2))
    else:
        name = behaviour
    pool_id, client_id = message_pool(cognito, name)

    with pytest.raises(ClientError) as caught:
        sign_up(cognito, client_id, "quinn")

    assert error(caught) == expected
    assert_gone(cognito, pool_id, "quinn")
    assert outbox(server, pool_id=pool_id) == []


def test_a_failing_function_issues_no_new_code(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    """ForgotPassword, AdminResetUserPassword and an MFA sign-in whose message function
    fails change nothing: the earlier code still works, the user keeps their status."""
    name = f"http_message_{uuid.uuid4().hex[:10]}"

    def fail_on_request(event: dict[str, Any]) -> Any:
        if event["request"]["clientMetadata"].get("fail"):
            raise Fail("not now")
        return python_functions.custom_message_reply(event)

    functions.on(name, fail_on_request)
    pool_id, client_id = message_pool(cognito, name)
    verified_user(cognito, pool_id, "rae")
    cognito.forgot_password(ClientId=client_id, Username="rae")
    (first,) = outbox(server, pool_id=pool_id)

    for call in (
        lambda: cognito.forgot_password(
            ClientId=client_id, Username="rae", ClientMetadata={"fail": "1"}
        ),
        lambda: cognito.admin_reset_user_password(
            UserPoolId=pool_id, Username="rae", ClientMetadata={"fail": "1"}
        ),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error(caught) == (
            "UserLambdaValidationException",
            "CustomMessage failed with error not now.",
        )

    assert outbox(server, pool_id=pool_id) == [first]
    assert stored_attributes(cognito, pool_id, "rae")["cognito:user_status"] == "CONFIRMED"
    cognito.confirm_forgot_password(
        ClientId=client_id, Username="rae", ConfirmationCode=first["code"], Password=NEW_PASSWORD
    )


def test_mfa_sign_in_fails_with_the_function(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    mfa = mfa_pool(
        server,
        cognito,
        "ON",
        sms=True,
        totp=False,
        LambdaConfig={"CustomMessage": arn("py_reject")},
    )
    mfa.user("sal", phone_number="+15555550199", phone_number_verified="true")

    with pytest.raises(ClientError) as caught:
        mfa.start(username="sal")

    assert error(caught) == (
        "UserLambdaValidationException",
        f"CustomMessage failed with error {REJECTED}.",
    )
    assert outbox(server, pool_id=mfa.pool_id) == []


# ----------------------------------------------------------------------------- custom senders


def sender_config(name: str, *, email: bool = True, sms: bool = True) -> dict[str, Any]:
    config: dict[str, Any] = {"KMSKeyID": KMS_KEY}
    if email:
        config["CustomEmailSender"] = {"LambdaArn": arn(name), "LambdaVersion": "V1_0"}
    if sms:
        config["CustomSMSSender"] = {"LambdaArn": arn(name), "LambdaVersion": "V1_0"}
    return config


def decrypt(server: CognateServer, code: str, key_name: str = KMS_KEY) -> str:
    """What a function does with `request.code` (README, "Custom senders"): the AWS
    Encryption SDK, a raw AES key from the sender key file, namespace "cognate"."""
    key = base64.b64decode((data_dir(server) / "sender.key").read_text().strip())
    master_key = RawMasterKey(
        provider_id="cognate",
        key_id=key_name.encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=key,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )
    plaintext, header = client.decrypt(source=base64.b64decode(code), key_provider=master_key)
    (data_key,) = header.encrypted_data_keys
    assert data_key.key_provider.provider_id == "cognate"
    assert data_key.key_provider.key_info.startswith(key_name.encode())
    return str(plaintext.decode())


def sender_events(
    server: CognateServer, functions: FunctionHost, name: str, pool_id: str, count: int = 1
) -> list[dict[str, Any]]:
    """The events the (asynchronous) sender function got for the pool, once it has `count`."""

    def probe() -> list[dict[str, Any]] | None:
        got = events(server, functions, name, pool_id)
        return got if len(got) >= count else None

    return wait_until(probe, what=f"{count} event(s) for {name}")


def sender_event(
    source: str,
    region: str,
    pool_id: str,
    client_id: str,
    username: str,
    attributes: dict[str, str],
    code: str,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    kind = "customEmailSenderRequestV1" if "Email" in source else "customSMSSenderRequestV1"
    return {
        "version": "1",
        "triggerSource": source,
        "region": region,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": SDK, "clientId": client_id},
        "request": {
            "type": kind,
            "code": code,
            "clientMetadata": metadata or {},
            "userAttributes": attributes,
        },
        "response": {},
    }


@pytest.mark.parametrize("invoker", ["http", "lambda", "py"])
def test_custom_email_sender_gets_the_encrypted_code(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str, invoker: str
) -> None:
    name = function(functions, invoker, "py_custom_sender")
    pool_id, client_id = message_pool(cognito, None, LambdaConfig=sender_config(name))

    sign_up(cognito, client_id, "tia", ClientMetadata=METADATA)

    (event,) = sender_events(server, functions, name, pool_id)
    code = event["request"]["code"]
    assert event == sender_event(
        "CustomEmailSender_SignUp",
        region,
        pool_id,
        client_id,
        "tia",
        stored_attributes(cognito, pool_id, "tia"),
        code,
        METADATA,
    )
    plain = decrypt(server, code)
    assert SIX_DIGITS.fullmatch(plain)
    # The message stays in the developer outbox, delivered by the function.
    (message,) = wait_until(
        lambda: [m for m in outbox(server, pool_id=pool_id) if m["status"] == "sent"],
        what="the message to be sent",
    )
    assert (message["code"], message["custom_sender"], message["attempts"]) == (
        plain,
        "CustomEmailSender",
        1,
    )
    cognito.confirm_sign_up(ClientId=client_id, Username="tia", ConfirmationCode=plain)


def test_custom_email_sender_for_every_code(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    name = function(functions, "py", "py_custom_sender")
    pool_id, client_id = message_pool(cognito, None, LambdaConfig=sender_config(name, sms=False))
    sign_up(cognito, client_id, "xena")
    cognito.resend_confirmation_code(ClientId=client_id, Username="xena")
    resent = sender_events(server, functions, name, pool_id, 2)[1]
    code = decrypt(server, resent["request"]["code"])
    cognito.confirm_sign_up(ClientId=client_id, Username="xena", ConfirmationCode=code)
    cognito.forgot_password(ClientId=client_id, Username="xena")
    token = sign_in(cognito, client_id, "xena")["AccessToken"]
    cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "xena@new.example.com"}]
    )
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")

    got = sender_events(server, functions, name, pool_id, 5)
    assert [e["triggerSource"] for e in got] == [
        "CustomEmailSender_SignUp",
        "CustomEmailSender_ResendCode",
        "CustomEmailSender_ForgotPassword",
        "CustomEmailSender_UpdateUserAttribute",
        "CustomEmailSender_VerifyUserAttribute",
    ]
    assert all(e["callerContext"]["clientId"] == client_id for e in got)
    # Each event carries the code of its own message.
    messages = outbox(server, pool_id=pool_id)
    assert [decrypt(server, e["request"]["code"]) for e in got] == [m["code"] for m in messages]
    assert got[3]["request"]["userAttributes"]["email"] == "xena@new.example.com"
    cognito.verify_user_attribute(
        AccessToken=token, AttributeName="email", Code=decrypt(server, got[4]["request"]["code"])
    )


def test_custom_sms_sender_gets_the_temporary_password(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = function(functions, "http", "py_custom_sender")
    pool_id, client_id = message_pool(cognito, None, LambdaConfig=sender_config(name))

    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="uma",
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550111"}],
        DesiredDeliveryMediums=["SMS"],
        ClientMetadata=METADATA,
    )

    (event,) = sender_events(server, functions, name, pool_id)
    code = event["request"]["code"]
    assert event == sender_event(
        "CustomSMSSender_AdminCreateUser",
        region,
        pool_id,
        NO_CLIENT,
        "uma",
        stored_attributes(cognito, pool_id, "uma"),
        code,
        METADATA,
    )
    temporary = decrypt(server, code)
    assert password_auth(cognito, client_id, "uma", temporary)["ChallengeName"] == (
        "NEW_PASSWORD_REQUIRED"
    )
    # Nothing went out through the server's own SMS sender.
    sms_file = data_dir(server) / "sms.jsonl"
    lines = sms_file.read_text().splitlines() if sms_file.exists() else []
    assert all(json.loads(line)["to"] != "+15555550111" for line in lines)


def test_custom_sms_sender_at_mfa_sign_in(
    server: CognateServer, cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = function(functions, "lambda", "py_custom_sender")
    # CustomMessage is not asked for a medium that a custom sender delivers.
    message_fn = function(functions, "http", "py_custom_message")
    mfa = mfa_pool(
        server,
        cognito,
        "ON",
        sms=True,
        totp=False,
        LambdaConfig={**sender_config(name, email=False), "CustomMessage": arn(message_fn)},
    )
    mfa.user("vic", phone_number="+15555550122", phone_number_verified="true")

    challenge = mfa.start(username="vic")

    (event,) = sender_events(server, functions, name, mfa.pool_id)
    assert event["triggerSource"] == "CustomSMSSender_Authentication"
    assert event["callerContext"] == {"awsSdkVersion": SDK, "clientId": mfa.client_id}
    assert event["request"]["userAttributes"] == stored_attributes(cognito, mfa.pool_id, "vic")
    assert events(server, functions, message_fn, mfa.pool_id) == []
    code = decrypt(server, event["request"]["code"])
    tokens = mfa.answer(challenge, username="vic", SMS_MFA_CODE=code)
    assert "AccessToken" in tokens["AuthenticationResult"]


def test_a_failing_sender_is_tried_three_times(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    name = f"http_sender_{uuid.uuid4().hex[:10]}"

    def fail(event: dict[str, Any]) -> Any:
        raise Fail("mail service down")

    functions.on(name, fail)
    pool_id, client_id = message_pool(cognito, None, LambdaConfig=sender_config(name))

    sign_up(cognito, client_id, "wes")  # the API call does not wait for the sender

    def after(attempts: int) -> dict[str, Any] | None:
        (message,) = outbox(server, pool_id=pool_id)
        settled = message["status"] in ("pending", "failed")
        return message if settled and message["attempts"] >= attempts else None

    first = wait_until(lambda: after(1), what="the first attempt")
    assert (first["status"], first["last_error"], first["custom_sender"]) == (
        "pending",
        "CustomEmailSender failed with error mail service down.",
        "CustomEmailSender",
    )
    # The outbox retries after 2 s and 4 s, then gives up as Lambda does.
    final = wait_until(lambda: after(3), timeout=20, what="the third attempt")
    assert (final["status"], final["attempts"]) == ("failed", 3)
    assert len(events(server, functions, name, pool_id)) == 3
