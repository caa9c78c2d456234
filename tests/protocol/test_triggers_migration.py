"""Lazy user migration end to end: the UserMigration trigger at sign-in
(UserMigration_Authentication: USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH) and in
ForgotPassword (UserMigration_ForgotPassword).

Functions run through the HTTP invoker (`http_*`), the Lambda Invoke API (`lambda_*`)
and the Python invoker (`py_migrate_user`, tests/support/python_functions.py). One test
migrates from a second Cognate playing the old user pool: the function checks the password
there (AdminInitiateAuth) and copies the user's attributes (AdminGetUser).

Behaviour where Cognito is undocumented, as Cognate chose it (user_migration.py): a reply
without userAttributes declines (the caller answers as for an unknown user); attributes the
pool refuses, or an alias held by another user without forceAliasCreation, fail with
UserNotFoundException "Exception migrating user in app client <id>"; a ForgotPassword
migration leaves the user RESET_REQUIRED until ConfirmForgotPassword; the welcome message
carries no password.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.auth import (
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    Srp,
    attributes_of,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
    unsigned_client,
)
from tests.support.functions import Fail, FunctionHost, arn, function_host, slow
from tests.support.outbox_api import last_code, messages
from tests.support.python_functions import LEGACY_PASSWORD
from tests.support.server import CognateServer, start_server
from tests.support.trigger_server import python_events, trigger_server

SDK = "aws-sdk-unknown-unknown"
MIGRATION_TIMEOUT_MS = 4000  # the trigger timeout of this module's server
TOO_SLOW_S = 5  # a function slower than that
DEFAULTS = {
    "userAttributes": None,
    "finalUserStatus": None,
    "messageAction": None,
    "desiredDeliveryMediums": None,
    "forceAliasCreation": None,
    "enableSMSMFA": None,
}
NOT_FOUND = ("UserNotFoundException", "Username/client id combination not found.")
USER_NOT_FOUND = ("UserNotFoundException", "User does not exist.")
BAD_PASSWORD = ("UserLambdaValidationException", "UserMigration failed with error Bad password.")
TIMED_OUT = (
    "UnexpectedLambdaException",
    "UserMigration invocation failed due to error Socket timeout while invoking Lambda function.",
)
GARBAGE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
RESET_REQUIRED = ("PasswordResetRequiredException", "Password reset required for the user")
WEAK = "abc"  # meets no policy: a migrated password is kept all the same


# ----------------------------------------------------------------------------- fixtures


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
    workdir = tmp_path_factory.mktemp(f"triggers-migration-{request.param}")
    # The lazy migration's function calls a second Cognate twice: give it time on a busy
    # machine (the timeout tests wait longer than this).
    with trigger_server(request.param, workdir, functions, MIGRATION_TIMEOUT_MS) as (srv, _):
        yield srv


@pytest.fixture(scope="module")
def old_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognateServer]:
    """A second Cognate holding the user pool users migrate from."""
    workdir = tmp_path_factory.mktemp("old-pool")
    with start_server(workdir, db=f"sqlite:///{workdir}/old.db") as srv:
        yield srv


@pytest.fixture
def public(server: CognateServer, region: str) -> Any:
    return unsigned_client(server.endpoint, region)


def fn(kind: str) -> str:
    return f"{kind}_mig_{uuid.uuid4().hex[:10]}"


def answering(**fields: Any) -> Any:
    """A handler replying with these response fields (the recorded event stays as sent)."""

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {**event, "response": {**event["response"], **fields}}

    return handler


def verified_email(name: str, **more: Any) -> Any:
    """The usual reply: the user, with a verified email, and no welcome message."""
    attributes = {"email": f"{name}@legacy.example.com", "email_verified": "true"}
    return answering(**{"userAttributes": attributes, "messageAction": "SUPPRESS", **more})


def migrating_pool(cognito: Any, function: str, **kwargs: Any) -> tuple[str, str]:
    """A pool whose UserMigration trigger is `function`, and an app client of it."""
    pool_id = new_pool(
        cognito, "migrating", LambdaConfig={"UserMigration": arn(function)}, **kwargs
    )
    return pool_id, new_client(cognito, pool_id)["ClientId"]


def envelope(
    source: str, region: str, pool_id: str, username: str, client_id: str, request: Any
) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "region": region,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": SDK, "clientId": client_id},
        "request": request,
        "response": DEFAULTS,
    }


def user_of(cognito: Any, pool_id: str, username: str) -> dict[str, Any]:
    user: dict[str, Any] = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return user


def absent(cognito: Any, pool_id: str, username: str) -> bool:
    with pytest.raises(ClientError) as exc:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return error(exc) == USER_NOT_FOUND


def failure(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return error(exc)


# ----------------------------------------------------------------------------- ForgotPassword


def test_forgot_password_migrates_the_user(
    cognito: Any, public: Any, functions: FunctionHost, region: str, server: CognateServer
) -> None:
    name = fn("http")
    functions.on(
        name,
        answering(
            userAttributes={
                "email": "ann@legacy.example.com",
                "email_verified": "true",
                "name": "Ann",
            },
            messageAction="SUPPRESS",
        ),
    )
    pool_id, client_id = migrating_pool(cognito, name)
    details = public.forgot_password(
        ClientId=client_id, Username="legacy-ann", ClientMetadata={"source": "app"}
    )["CodeDeliveryDetails"]
    assert details == {
        "AttributeName": "email",
        "DeliveryMedium": "EMAIL",
        "Destination": "a***@l***",
    }
    assert functions.events(name) == [
        envelope(
            "UserMigration_ForgotPassword",
            region,
            pool_id,
            "legacy-ann",
            client_id,
            {"validationData": {}, "clientMetadata": {"source": "app"}},
        )
    ]
    user = user_of(cognito, pool_id, "legacy-ann")
    assert user["UserStatus"] == "RESET_REQUIRED"
    values = attributes_of(user)
    assert values["email"] == "ann@legacy.example.com"
    assert values["email_verified"] == "true"
    assert values["name"] == "Ann"
    # Only the reset code was sent (SUPPRESS: no welcome message).
    assert [m["kind"] for m in messages(server.endpoint, pool_id, "legacy-ann")] == [
        "forgot_password"
    ]
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="legacy-ann",
        ConfirmationCode=last_code(server.endpoint, pool_id, "legacy-ann"),
        Password=NEW_PASSWORD,
    )
    assert sign_in(cognito, client_id, "legacy-ann", NEW_PASSWORD)["AccessToken"]
    # The user exists now: no second migration.
    public.forgot_password(ClientId=client_id, Username="legacy-ann")
    assert len(functions.events(name)) == 1


def test_forgot_password_declined_answers_as_unknown_user(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")  # answers the event unchanged: no userAttributes
    pool_id, client_id = migrating_pool(cognito, name)
    assert failure(public.forgot_password, ClientId=client_id, Username="nobody") == NOT_FOUND
    assert absent(cognito, pool_id, "nobody")
    masked = new_client(cognito, pool_id, PreventUserExistenceErrors="ENABLED")["ClientId"]
    details = public.forgot_password(ClientId=masked, Username="nobody")["CodeDeliveryDetails"]
    assert details["DeliveryMedium"] == "EMAIL"
    assert len(functions.events(name)) == 2
    assert absent(cognito, pool_id, "nobody")


def test_forgot_password_migration_refused_through_the_lambda_api(
    cognito: Any, public: Any, functions: FunctionHost, region: str
) -> None:
    name = fn("lambda")

    def refuse(event: dict[str, Any]) -> dict[str, Any]:
        raise Fail("Bad password")

    functions.on(name, refuse)
    pool_id, client_id = migrating_pool(cognito, name)
    assert failure(public.forgot_password, ClientId=client_id, Username="legacy-x") == BAD_PASSWORD
    assert absent(cognito, pool_id, "legacy-x")
    (event,) = functions.events(name)
    assert event == envelope(
        "UserMigration_ForgotPassword",
        region,
        pool_id,
        "legacy-x",
        client_id,
        {"validationData": {}, "clientMetadata": {}},
    )


def test_forgot_password_migration_with_the_python_invoker(
    cognito: Any, public: Any, region: str, server: CognateServer
) -> None:
    pool_id, client_id = migrating_pool(cognito, "py_migrate_user")
    details = public.forgot_password(ClientId=client_id, Username="legacy-py")
    assert details["CodeDeliveryDetails"]["Destination"] == "l***@l***"
    assert [e for e in python_events(server, "py_migrate_user") if e["userPoolId"] == pool_id] == [
        envelope(
            "UserMigration_ForgotPassword",
            region,
            pool_id,
            "legacy-py",
            client_id,
            {"validationData": {}, "clientMetadata": {}},
        )
    ]
    assert user_of(cognito, pool_id, "legacy-py")["UserStatus"] == "RESET_REQUIRED"
    assert failure(public.forgot_password, ClientId=client_id, Username="stranger") == BAD_PASSWORD
    assert absent(cognito, pool_id, "stranger")


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (slow(TOO_SLOW_S), TIMED_OUT),
        (lambda event: "not an event", GARBAGE),
        (verified_email("legacy-g", finalUserStatus="BOGUS"), GARBAGE),
        (verified_email("legacy-g", messageAction="RESEND"), GARBAGE),
        (verified_email("legacy-g", desiredDeliveryMediums=["PIGEON"]), GARBAGE),
        (verified_email("legacy-g", forceAliasCreation=7), GARBAGE),
    ],
    ids=["timeout", "not-an-event", "status", "action", "medium", "flag"],
)
def test_forgot_password_migration_failures_leave_no_user(
    cognito: Any, public: Any, functions: FunctionHost, handler: Any, expected: Any
) -> None:
    name = fn("http")
    functions.on(name, handler)
    pool_id, client_id = migrating_pool(cognito, name)
    assert failure(public.forgot_password, ClientId=client_id, Username="legacy-g") == expected
    assert absent(cognito, pool_id, "legacy-g")


@pytest.mark.parametrize(
    "attributes",
    [
        {"email": "g@legacy.example.com", "email_verified": "true", "shoe_size": "9"},
        {"email": "g@legacy.example.com", "email_verified": "true", "sub": str(uuid.uuid4())},
        {"email": "not-an-email", "email_verified": "true"},
        {"email_verified": "true"},
    ],
    ids=["unknown-attribute", "sub", "bad-email", "verified-nothing"],
)
def test_attributes_the_pool_refuses_fail_the_migration(
    cognito: Any, public: Any, functions: FunctionHost, attributes: dict[str, str]
) -> None:
    name = fn("http")
    functions.on(name, answering(userAttributes=attributes))
    pool_id, client_id = migrating_pool(cognito, name)
    assert failure(public.forgot_password, ClientId=client_id, Username="legacy-g") == (
        "UserNotFoundException",
        f"Exception migrating user in app client {client_id}",
    )
    assert absent(cognito, pool_id, "legacy-g")


def test_welcome_message_unless_suppressed(
    cognito: Any, public: Any, functions: FunctionHost, server: CognateServer
) -> None:
    name = fn("http")
    functions.on(
        name,
        answering(
            userAttributes={"email": "w@legacy.example.com", "email_verified": "true"},
            desiredDeliveryMediums=["EMAIL"],
        ),
    )
    pool_id, client_id = migrating_pool(cognito, name)
    public.forgot_password(ClientId=client_id, Username="legacy-w")
    sent = messages(server.endpoint, pool_id, "legacy-w")
    assert [(m["kind"], m["channel"], m["destination"]) for m in sent] == [
        ("invitation", "EMAIL", "w@legacy.example.com"),
        ("forgot_password", "EMAIL", "w@legacy.example.com"),
    ]
    assert "legacy-w" in sent[0]["body"]
    assert sent[0]["code"] is None  # no password in a migrated user's welcome


def test_enable_sms_mfa(cognito: Any, public: Any, functions: FunctionHost) -> None:
    name = fn("http")
    functions.on(
        name,
        answering(
            userAttributes={
                "email": "m@legacy.example.com",
                "email_verified": "true",
                "phone_number": "+15555550100",
            },
            messageAction="SUPPRESS",
            enableSMSMFA=True,
        ),
    )
    pool_id, client_id = migrating_pool(cognito, name)
    public.forgot_password(ClientId=client_id, Username="legacy-m")
    assert user_of(cognito, pool_id, "legacy-m")["UserMFASettingList"] == ["SMS_MFA"]


def test_force_alias_creation(cognito: Any, public: Any, functions: FunctionHost) -> None:
    forced, plain = fn("http"), fn("http")
    shared = {"email": "shared@example.com", "email_verified": "true"}
    functions.on(forced, answering(userAttributes=shared, forceAliasCreation=True))
    functions.on(plain, answering(userAttributes=shared))
    for name, force in ((plain, False), (forced, True)):
        pool_id, client_id = migrating_pool(cognito, name, AliasAttributes=["email"])
        new_user(cognito, pool_id, "holder", attributes=shared)
        if not force:
            assert failure(public.forgot_password, ClientId=client_id, Username="legacy-a") == (
                "UserNotFoundException",
                f"Exception migrating user in app client {client_id}",
            )
            assert absent(cognito, pool_id, "legacy-a")
            assert attributes_of(user_of(cognito, pool_id, "holder"))["email_verified"] == "true"
            continue
        public.forgot_password(ClientId=client_id, Username="legacy-a")
        assert attributes_of(user_of(cognito, pool_id, "holder"))["email_verified"] == "false"
        assert user_of(cognito, pool_id, "shared@example.com")["Username"] == "legacy-a"


# ----------------------------------------------------------------------------- sign-in


def test_sign_in_migrates_with_the_typed_password(
    cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = fn("http")
    functions.on(name, verified_email("legacy-bo"))
    pool_id, client_id = migrating_pool(cognito, name)
    response = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "legacy-bo", "PASSWORD": WEAK},
        ClientMetadata={"device": "kiosk"},
    )
    assert response["AuthenticationResult"]["AccessToken"]
    assert functions.events(name) == [
        envelope(
            "UserMigration_Authentication",
            region,
            pool_id,
            "legacy-bo",
            client_id,
            {
                "password": WEAK,
                "validationData": {"device": "kiosk"},
                "clientMetadata": {"device": "kiosk"},
            },
        )
    ]
    user = user_of(cognito, pool_id, "legacy-bo")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["email"] == "legacy-bo@legacy.example.com"
    # The typed password is the user's now; the function is not asked again.
    assert sign_in(cognito, client_id, "legacy-bo", WEAK)["AccessToken"]
    assert failure(password_auth, cognito=cognito, client_id=client_id, username="legacy-bo") == (
        INCORRECT
    )
    assert len(functions.events(name)) == 1
    assert Srp(cognito, pool_id, client_id, "legacy-bo", WEAK).initiate()["ChallengeName"] == (
        "PASSWORD_VERIFIER"
    )


def test_admin_sign_in_with_the_python_invoker(
    cognito: Any, region: str, server: CognateServer
) -> None:
    pool_id, client_id = migrating_pool(cognito, "py_migrate_user")

    def admin_auth(username: str, password: str) -> Any:
        return cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )

    assert failure(admin_auth, username="legacy-cy", password="wrong") == BAD_PASSWORD
    assert absent(cognito, pool_id, "legacy-cy")
    assert admin_auth("legacy-cy", LEGACY_PASSWORD)["AuthenticationResult"]["IdToken"]
    events = [e for e in python_events(server, "py_migrate_user") if e["userPoolId"] == pool_id]
    assert [e["request"]["password"] for e in events] == ["wrong", LEGACY_PASSWORD]
    assert events[1] == envelope(
        "UserMigration_Authentication",
        region,
        pool_id,
        "legacy-cy",
        client_id,
        {"password": LEGACY_PASSWORD, "validationData": {}, "clientMetadata": {}},
    )
    assert user_of(cognito, pool_id, "legacy-cy")["UserStatus"] == "CONFIRMED"


def test_sign_in_migration_through_the_lambda_api(cognito: Any, functions: FunctionHost) -> None:
    name = fn("lambda")
    functions.on(name, verified_email("legacy-la", finalUserStatus="CONFIRMED"))
    _pool_id, client_id = migrating_pool(cognito, name)
    assert sign_in(cognito, client_id, "legacy-la", WEAK)["AccessToken"]
    (event,) = functions.events(name)
    assert event["triggerSource"] == "UserMigration_Authentication"
    assert event["request"]["password"] == WEAK


def test_reset_required_migration(
    cognito: Any, public: Any, functions: FunctionHost, server: CognateServer
) -> None:
    name = fn("http")
    functions.on(name, verified_email("legacy-rr", finalUserStatus="RESET_REQUIRED"))
    pool_id, client_id = migrating_pool(cognito, name)
    assert failure(password_auth, cognito=cognito, client_id=client_id, username="legacy-rr") == (
        RESET_REQUIRED
    )
    assert user_of(cognito, pool_id, "legacy-rr")["UserStatus"] == "RESET_REQUIRED"
    public.forgot_password(ClientId=client_id, Username="legacy-rr")
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="legacy-rr",
        ConfirmationCode=last_code(server.endpoint, pool_id, "legacy-rr"),
        Password=NEW_PASSWORD,
    )
    assert sign_in(cognito, client_id, "legacy-rr", NEW_PASSWORD)["AccessToken"]
    assert len(functions.events(name)) == 1


def test_sign_in_declined_and_failing(cognito: Any, functions: FunctionHost) -> None:
    declining, failing = fn("http"), fn("http")
    functions.on(failing, slow(TOO_SLOW_S))
    for name, expected in ((declining, USER_NOT_FOUND), (failing, TIMED_OUT)):
        pool_id, client_id = migrating_pool(cognito, name)
        outcome = failure(password_auth, cognito=cognito, client_id=client_id, username="legacy-no")
        assert outcome == expected
        assert absent(cognito, pool_id, "legacy-no")


def test_srp_sign_in_does_not_migrate(cognito: Any, functions: FunctionHost) -> None:
    name = fn("http")
    functions.on(name, verified_email("legacy-srp"))
    pool_id, client_id = migrating_pool(cognito, name)
    with pytest.raises(ClientError) as exc:
        Srp(cognito, pool_id, client_id, "legacy-srp", WEAK).initiate()
    assert error(exc) == USER_NOT_FOUND
    assert functions.events(name) == []


def test_email_username_pool_migrates_under_a_generated_username(
    cognito: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    functions.on(
        name,
        answering(userAttributes={"email": "eve@example.com", "email_verified": "true"}),
    )
    pool_id, client_id = migrating_pool(cognito, name, UsernameAttributes=["email"])
    assert sign_in(cognito, client_id, "eve@example.com", WEAK)["AccessToken"]
    user = user_of(cognito, pool_id, "eve@example.com")
    assert user["Username"] == attributes_of(user)["sub"]
    assert functions.events(name)[0]["userName"] == "eve@example.com"


# ----------------------------------------------------------------------------- from another Cognate


def test_lazy_migration_from_another_cognate(
    cognito: Any,
    public: Any,
    functions: FunctionHost,
    old_server: CognateServer,
    server: CognateServer,
) -> None:
    old = make_client(old_server.endpoint, "eu-west-1")
    old_pool = new_pool(
        old,
        "legacy",
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )
    old_client = new_client(old, old_pool)["ClientId"]
    for username in ("dana", "ezra"):
        new_user(
            old,
            old_pool,
            username,
            attributes={
                "email": f"{username}@corp.example.com",
                "email_verified": "true",
                "custom:team": "blue",
            },
        )

    def migrate(event: dict[str, Any]) -> dict[str, Any]:
        """The function a developer writes: ask the old pool about the user."""
        username = event["userName"]
        try:
            if event["triggerSource"] == "UserMigration_Authentication":
                old.admin_initiate_auth(
                    UserPoolId=old_pool,
                    ClientId=old_client,
                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": username, "PASSWORD": event["request"]["password"]},
                )
            found = old.admin_get_user(UserPoolId=old_pool, Username=username)
        except ClientError as exc:
            raise Fail("Bad password") from exc
        attributes = {a["Name"]: a["Value"] for a in found["UserAttributes"] if a["Name"] != "sub"}
        response = {"userAttributes": attributes, "messageAction": "SUPPRESS"}
        return {**event, "response": {**event["response"], **response}}

    name = fn("http")
    functions.on(name, migrate)
    pool_id, client_id = migrating_pool(
        cognito,
        name,
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )
    # dana signs in with her old password; ezra has forgotten his.
    wrong = failure(
        password_auth, cognito=cognito, client_id=client_id, username="dana", password="not-hers"
    )
    assert wrong == BAD_PASSWORD
    tokens = sign_in(cognito, client_id, "dana", PASSWORD)
    me = cognito.get_user(AccessToken=tokens["AccessToken"])
    values = attributes_of(me)
    old_sub = attributes_of(old.admin_get_user(UserPoolId=old_pool, Username="dana"))["sub"]
    assert values["custom:team"] == "blue"
    assert values["email"] == "dana@corp.example.com"
    assert values["sub"] != old_sub
    public.forgot_password(ClientId=client_id, Username="ezra")
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="ezra",
        ConfirmationCode=last_code(server.endpoint, pool_id, "ezra"),
        Password=NEW_PASSWORD,
    )
    assert sign_in(cognito, client_id, "ezra", NEW_PASSWORD)["AccessToken"]
    assert failure(public.forgot_password, ClientId=client_id, Username="nobody") == BAD_PASSWORD
