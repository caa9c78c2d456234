"""The administrator's user lifecycle through boto3: create, read, passwords, status."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.outbox import read_outbox

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def create(cognito: Any, pool: dict[str, Any], username: str = "alice", **kwargs: Any) -> Any:
    kwargs.setdefault("TemporaryPassword", "Temp0rary!")
    kwargs.setdefault("MessageAction", "SUPPRESS")
    return cognito.admin_create_user(UserPoolId=pool["Id"], Username=username, **kwargs)["User"]


def attributes(user: dict[str, Any], key: str = "Attributes") -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user[key]}


def test_admin_create_user_response(cognito: Any, pool: dict[str, Any]) -> None:
    before = dt.datetime.now(dt.UTC)
    user = create(
        cognito,
        pool,
        UserAttributes=[
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "name", "Value": "Alice"},
        ],
    )
    assert user["Username"] == "alice"
    assert user["Enabled"] is True
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user["Attributes"][0]["Name"] == "sub"
    values = attributes(user)
    assert UUID.fullmatch(values["sub"])
    assert values == {"sub": values["sub"], "email": "alice@example.com", "name": "Alice"}
    assert abs(user["UserCreateDate"] - before) < dt.timedelta(seconds=5)
    assert "MFAOptions" not in user
    got = cognito.admin_get_user(UserPoolId=pool["Id"], Username="alice")
    assert got["Username"] == "alice"
    assert attributes(got, "UserAttributes") == values
    assert (got["Enabled"], got["UserStatus"]) == (True, "FORCE_CHANGE_PASSWORD")
    assert got["UserCreateDate"] == user["UserCreateDate"]
    assert (
        cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["EstimatedNumberOfUsers"] == 1
    )


def test_duplicate_username(cognito: Any, pool: dict[str, Any]) -> None:
    create(cognito, pool)
    with pytest.raises(ClientError) as exc:
        create(cognito, pool)
    assert error(exc) == ("UsernameExistsException", "User account already exists")


def test_usernames_are_case_sensitive_by_default(cognito: Any, pool: dict[str, Any]) -> None:
    create(cognito, pool, "Alice")
    create(cognito, pool, "alice")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool["Id"], Username="ALICE")


def test_case_insensitive_pool(cognito: Any) -> None:
    pool = cognito.create_user_pool(PoolName="ci", UsernameConfiguration={"CaseSensitive": False})[
        "UserPool"
    ]
    create(cognito, pool, "Alice")
    with pytest.raises(ClientError) as exc:
        create(cognito, pool, "alice")
    assert error(exc)[0] == "UsernameExistsException"
    got = cognito.admin_get_user(UserPoolId=pool["Id"], Username="ALICE")
    assert got["Username"] == "Alice"  # the username keeps the case it was created with


def test_unknown_user_and_unknown_pool(cognito: Any, pool: dict[str, Any], region: str) -> None:
    for call in (
        lambda: cognito.admin_get_user(UserPoolId=pool["Id"], Username="ghost"),
        lambda: cognito.admin_delete_user(UserPoolId=pool["Id"], Username="ghost"),
        lambda: cognito.admin_disable_user(UserPoolId=pool["Id"], Username="ghost"),
        lambda: cognito.admin_set_user_password(
            UserPoolId=pool["Id"], Username="ghost", Password="Passw0rd!", Permanent=True
        ),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("UserNotFoundException", "User does not exist.")
    missing = f"{region}_AAAAAAAAA"
    with pytest.raises(ClientError) as exc:
        cognito.admin_get_user(UserPoolId=missing, Username="ghost")
    assert error(exc) == ("ResourceNotFoundException", f"User pool {missing} does not exist.")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("lowercase1!", "Password must have uppercase characters"),
        ("UPPERCASE1!", "Password must have lowercase characters"),
        ("NoNumbers!!", "Password must have numeric characters"),
        ("NoSymbols11", "Password must have symbol characters"),
    ],
)
def test_temporary_password_must_follow_the_policy(
    cognito: Any, pool: dict[str, Any], password: str, rule: str
) -> None:
    with pytest.raises(ClientError) as exc:
        create(cognito, pool, TemporaryPassword=password)
    assert error(exc) == (
        "InvalidPasswordException",
        f"Password did not conform with password policy: {rule}",
    )
    assert cognito.list_users(UserPoolId=pool["Id"])["Users"] == []


def test_invitation_is_rendered_from_the_template(server: Any, cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="invites",
        AdminCreateUserConfig={
            "InviteMessageTemplate": {
                "EmailSubject": "Welcome aboard",
                "EmailMessage": "Hi {username}, your password is {####}",
            }
        },
    )["UserPool"]
    cognito.admin_create_user(
        UserPoolId=pool["Id"],
        Username="bob",
        UserAttributes=[
            {"Name": "email", "Value": "bob@example.com"},
            {"Name": "phone_number", "Value": "+15555550100"},
        ],
        DesiredDeliveryMediums=["EMAIL", "SMS"],
    )
    email, sms = read_outbox(server, pool["Id"])
    assert (email.kind, email.channel, email.destination) == (
        "invitation",
        "EMAIL",
        "bob@example.com",
    )
    assert email.subject == "Welcome aboard"
    password = re.fullmatch(r"Hi bob, your password is (\S+)", email.body)
    assert password is not None
    # the generated temporary password satisfies the default policy
    temporary = password.group(1)
    assert len(temporary) >= 8
    assert re.search(r"[A-Z]", temporary)
    assert re.search(r"[a-z]", temporary)
    assert re.search(r"[0-9]", temporary)
    assert re.search(r"[^A-Za-z0-9]", temporary)
    assert (sms.channel, sms.destination) == ("SMS", "+15555550100")
    assert sms.body == f"Your username is bob and temporary password is {temporary}. "
    # it is really the user's password: setting it again is refused by nothing, and
    # RESEND replaces it
    cognito.admin_create_user(
        UserPoolId=pool["Id"],
        Username="bob",
        MessageAction="RESEND",
        DesiredDeliveryMediums=["EMAIL"],
    )
    resent = read_outbox(server, pool["Id"])[-1]
    assert resent.kind == "invitation"
    assert resent.body != email.body


def test_default_invitation_and_suppression(
    server: Any, cognito: Any, pool: dict[str, Any]
) -> None:
    cognito.admin_create_user(
        UserPoolId=pool["Id"],
        Username="carol",
        TemporaryPassword="Temp0rary!",
        UserAttributes=[{"Name": "email", "Value": "carol@example.com"}],
    )
    create(cognito, pool, "dave", UserAttributes=[{"Name": "email", "Value": "d@example.com"}])
    messages = read_outbox(server, pool["Id"])
    assert len(messages) == 1
    assert messages[0].subject == "Your temporary password"
    assert messages[0].body == "Your username is carol and temporary password is Temp0rary!. "


def test_delivery_medium_needs_the_attribute(cognito: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.admin_create_user(
            UserPoolId=pool["Id"], Username="erin", DesiredDeliveryMediums=["EMAIL"]
        )
    assert error(exc) == (
        "InvalidParameterException",
        "No email provided but desired delivery medium was Email",
    )


def test_resend_rules(cognito: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.admin_create_user(UserPoolId=pool["Id"], Username="ghost", MessageAction="RESEND")
    assert error(exc) == ("UserNotFoundException", "User does not exist.")
    create(cognito, pool, "frank")
    cognito.admin_set_user_password(
        UserPoolId=pool["Id"], Username="frank", Password="Passw0rd!", Permanent=True
    )
    with pytest.raises(ClientError) as exc:
        cognito.admin_create_user(UserPoolId=pool["Id"], Username="frank", MessageAction="RESEND")
    assert error(exc)[0] == "UnsupportedUserStateException"


def test_set_password_permanent_and_temporary(cognito: Any, pool: dict[str, Any]) -> None:
    create(cognito, pool)
    ids = {"UserPoolId": pool["Id"], "Username": "alice"}
    cognito.admin_set_user_password(**ids, Password="Passw0rd!", Permanent=True)
    assert cognito.admin_get_user(**ids)["UserStatus"] == "CONFIRMED"
    cognito.admin_set_user_password(**ids, Password="Passw0rd!2", Permanent=False)
    assert cognito.admin_get_user(**ids)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    with pytest.raises(ClientError) as exc:
        cognito.admin_set_user_password(**ids, Password="weak", Permanent=True)
    assert error(exc) == (
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
    )


def test_password_history(cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="history",
        Policies={"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 2}},
    )["UserPool"]
    create(cognito, pool)
    ids = {"UserPoolId": pool["Id"], "Username": "alice"}
    cognito.admin_set_user_password(**ids, Password="first-password", Permanent=True)
    cognito.admin_set_user_password(**ids, Password="second-password", Permanent=True)
    with pytest.raises(ClientError) as exc:
        cognito.admin_set_user_password(**ids, Password="first-password", Permanent=True)
    assert error(exc)[0] == "PasswordHistoryPolicyViolationException"
    cognito.admin_set_user_password(**ids, Password="third-password", Permanent=True)
    # only the last two are remembered
    cognito.admin_set_user_password(**ids, Password="first-password", Permanent=True)


def test_reset_password(server: Any, cognito: Any, pool: dict[str, Any]) -> None:
    create(cognito, pool, "nomail")
    with pytest.raises(ClientError) as exc:
        cognito.admin_reset_user_password(UserPoolId=pool["Id"], Username="nomail")
    assert error(exc) == (
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or "
        "phone_number",
    )
    create(
        cognito,
        pool,
        "hasmail",
        UserAttributes=[
            {"Name": "email", "Value": "h@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool["Id"], Username="hasmail", Password="Passw0rd!", Permanent=True
    )
    cognito.admin_reset_user_password(UserPoolId=pool["Id"], Username="hasmail")
    user = cognito.admin_get_user(UserPoolId=pool["Id"], Username="hasmail")
    assert user["UserStatus"] == "RESET_REQUIRED"
    (message,) = read_outbox(server, pool["Id"])
    assert (message.kind, message.channel, message.destination) == (
        "forgot_password",
        "EMAIL",
        "h@example.com",
    )
    assert re.fullmatch(r"Your verification code is \d{6}\. ", message.body)


def test_disable_enable_and_delete(cognito: Any, pool: dict[str, Any]) -> None:
    create(cognito, pool)
    ids = {"UserPoolId": pool["Id"], "Username": "alice"}
    assert cognito.admin_disable_user(**ids)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert cognito.admin_get_user(**ids)["Enabled"] is False
    cognito.admin_enable_user(**ids)
    assert cognito.admin_get_user(**ids)["Enabled"] is True
    cognito.admin_delete_user(**ids)
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(**ids)
    create(cognito, pool)  # the username can be used again


def test_confirm_sign_up_refuses_users_that_are_not_unconfirmed(
    cognito: Any, pool: dict[str, Any]
) -> None:
    create(cognito, pool)
    with pytest.raises(ClientError) as exc:
        cognito.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="alice")
    assert error(exc) == (
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD",
    )
