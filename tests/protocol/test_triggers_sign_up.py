"""The sign-up and confirmation triggers end to end: PreSignUp (PreSignUp_SignUp,
PreSignUp_AdminCreateUser) and PostConfirmation (PostConfirmation_ConfirmSignUp from
ConfirmSignUp, AdminConfirmSignUp and an auto-confirmed SignUp;
PostConfirmation_ConfirmForgotPassword from ConfirmForgotPassword).

Functions are served by the test process (tests/support/functions.py) through the HTTP
invoker (`http_*`) and the Lambda Invoke API (`lambda_*`), or run inside the server by the
Python invoker (`py_*`, tests/support/python_functions.py). Each test checks the exact
event Cognate sent, that the reply is honoured, and the three ways a function fails
(it raises, it times out, it answers garbage) with no user left behind.

Behaviour where Cognito is undocumented, as Cognate chose it: a failing PostConfirmation
fails the call but the confirmation stands (it runs after the change is committed);
PostConfirmation runs after a PreSignUp auto-confirmation too (the Developer Guide lists
SignUp among the operations whose ClientMetadata reaches PostConfirmation).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    attributes_of,
    error,
    new_client,
    new_pool,
    new_user,
    sign_in,
    unsigned_client,
)
from tests.support.functions import Fail, FunctionHost, arn, function_host, slow
from tests.support.outbox_api import last_code, messages, no_code
from tests.support.server import CognateServer
from tests.support.trigger_server import python_events, trigger_server

SDK = "aws-sdk-unknown-unknown"
NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
PRE_DEFAULTS = {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
REJECTED = (
    "UserLambdaValidationException",
    "PreSignUp failed with error Registration from this domain is not allowed..",
)
TIMED_OUT = "invocation failed due to error Socket timeout while invoking Lambda function."
GARBAGE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
VERIFY_WITHOUT_CONFIRM = (
    "InvalidParameterException",
    "Phone or email cannot be auto verified, when user is not being auto confirmed.",
)
USER_NOT_FOUND = ("UserNotFoundException", "User does not exist.")


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
    workdir = tmp_path_factory.mktemp(f"triggers-sign-up-{request.param}")
    with trigger_server(request.param, workdir, functions) as (srv, _clock):
        yield srv


@pytest.fixture
def public(server: CognateServer, region: str) -> Any:
    return unsigned_client(server.endpoint, region)


def answering(**fields: Any) -> Any:
    """A handler replying with these response fields, leaving the recorded event as sent
    (FunctionHost.respond fills in the very dict it recorded)."""

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {**event, "response": {**event["response"], **fields}}

    return handler


def fn(kind: str) -> str:
    """A function name of the test's own (`http`, `lambda`)."""
    return f"{kind}_su_{uuid.uuid4().hex[:10]}"


def pool_with(cognito: Any, alias: bool = False, **lambda_config: str) -> str:
    """A pool with these triggers (trigger name -> function name) that sends email
    verification codes (and signs in with an email alias when `alias`)."""
    return new_pool(
        cognito,
        "triggers",
        LambdaConfig={trigger: arn(name) for trigger, name in lambda_config.items()},
        AutoVerifiedAttributes=["email"],
        **({"AliasAttributes": ["email"]} if alias else {}),
    )


def sign_up(public: Any, client_id: str, username: str = "jane", **extra: Any) -> Any:
    return public.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"},
            {"Name": "name", "Value": username.title()},
        ],
        **extra,
    )


def envelope(
    source: str, region: str, pool_id: str, username: str, client_id: str, **parts: Any
) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "region": region,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": SDK, "clientId": client_id},
        **parts,
    }


def user_of(cognito: Any, pool_id: str, username: str) -> dict[str, Any]:
    user: dict[str, Any] = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return user


def absent(cognito: Any, pool_id: str, username: str) -> bool:
    with pytest.raises(ClientError) as exc:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return error(exc) == USER_NOT_FOUND


def of_pool(events: list[dict[str, Any]], pool_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["userPoolId"] == pool_id]


# ----------------------------------------------------------------------------- SignUp


def test_pre_sign_up_event_and_default_reply(
    cognito: Any, public: Any, functions: FunctionHost, region: str, server: CognateServer
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    response = sign_up(
        public,
        client_id,
        ValidationData=[{"Name": "invite", "Value": "abc"}, {"Name": "source", "Value": "web"}],
        ClientMetadata={"campaign": "spring"},
    )
    assert functions.events(name) == [
        envelope(
            "PreSignUp_SignUp",
            region,
            pool_id,
            "jane",
            client_id,
            request={
                "userAttributes": {"email": "jane@example.com", "name": "Jane"},
                "validationData": {"invite": "abc", "source": "web"},
                "clientMetadata": {"campaign": "spring"},
            },
            response=PRE_DEFAULTS,
        )
    ]
    # The function answered the event unchanged: an ordinary sign-up.
    assert response["UserConfirmed"] is False
    assert response["CodeDeliveryDetails"]["AttributeName"] == "email"
    assert user_of(cognito, pool_id, "jane")["UserStatus"] == "UNCONFIRMED"
    last_code(server.endpoint, pool_id, "jane")


def test_pre_sign_up_without_request_data_sends_empty_maps(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sign_up(public, client_id)
    (event,) = functions.events(name)
    assert event["request"]["validationData"] == {}
    assert event["request"]["clientMetadata"] == {}


def test_auto_confirm_and_verify_over_http(
    cognito: Any, public: Any, functions: FunctionHost, server: CognateServer
) -> None:
    name = fn("http")
    functions.on(name, answering(autoConfirmUser=True, autoVerifyEmail=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    response = sign_up(public, client_id)
    assert response["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in response
    user = user_of(cognito, pool_id, "jane")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["email_verified"] == "true"
    assert no_code(server.endpoint, pool_id, "jane")
    assert sign_in(cognito, client_id, "jane")["AccessToken"]


def test_auto_confirm_without_verification_leaves_email_unverified(
    cognito: Any, public: Any, functions: FunctionHost, server: CognateServer
) -> None:
    name = fn("http")
    functions.on(name, answering(autoConfirmUser=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    assert sign_up(public, client_id)["UserConfirmed"] is True
    user = user_of(cognito, pool_id, "jane")
    assert user["UserStatus"] == "CONFIRMED"
    assert "email_verified" not in attributes_of(user)
    assert no_code(server.endpoint, pool_id, "jane")  # confirmed: no confirmation code


def test_auto_confirm_with_the_python_invoker(
    cognito: Any, public: Any, region: str, server: CognateServer
) -> None:
    pool_id = pool_with(cognito, PreSignUp="py_auto_confirm")
    client_id = new_client(cognito, pool_id)["ClientId"]
    response = sign_up(public, client_id, ClientMetadata={"k": "v"})
    assert response["UserConfirmed"] is True
    assert of_pool(python_events(server, "py_auto_confirm"), pool_id) == [
        envelope(
            "PreSignUp_SignUp",
            region,
            pool_id,
            "jane",
            client_id,
            request={
                "userAttributes": {"email": "jane@example.com", "name": "Jane"},
                "validationData": {},
                "clientMetadata": {"k": "v"},
            },
            response=PRE_DEFAULTS,
        )
    ]
    assert attributes_of(user_of(cognito, pool_id, "jane"))["email_verified"] == "true"


def test_auto_confirm_through_the_lambda_api(
    cognito: Any, public: Any, functions: FunctionHost, region: str
) -> None:
    name = fn("lambda")
    functions.on(name, answering(autoConfirmUser=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    assert sign_up(public, client_id)["UserConfirmed"] is True
    (event,) = functions.events(name)
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert event["userPoolId"] == pool_id
    assert event["region"] == region
    assert user_of(cognito, pool_id, "jane")["UserStatus"] == "CONFIRMED"


def test_email_as_username_pool_names_the_generated_username(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    pool_id = new_pool(cognito, LambdaConfig={"PreSignUp": arn(name)}, UsernameAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    response = public.sign_up(ClientId=client_id, Username="ann@example.com", Password=PASSWORD)
    (event,) = functions.events(name)
    assert event["userName"] == response["UserSub"]
    assert event["request"]["userAttributes"] == {"email": "ann@example.com"}


def test_auto_verify_needs_auto_confirm(cognito: Any, public: Any, functions: FunctionHost) -> None:
    name = fn("http")
    functions.on(name, answering(autoVerifyEmail=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc) == VERIFY_WITHOUT_CONFIRM
    assert absent(cognito, pool_id, "jane")


def test_auto_verify_needs_the_attribute(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    functions.on(name, answering(autoConfirmUser=True, autoVerifyPhone=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert "phone_number" in message
    assert absent(cognito, pool_id, "jane")


def test_auto_verify_moves_an_email_alias(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    functions.on(name, answering(autoConfirmUser=True, autoVerifyEmail=True))
    pool_id = pool_with(cognito, alias=True, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(
        cognito,
        pool_id,
        "first",
        attributes={"email": "jane@example.com", "email_verified": "true"},
    )
    assert sign_in(cognito, client_id, "jane@example.com")["AccessToken"]  # first's alias
    assert sign_up(public, client_id)["UserConfirmed"] is True
    # The alias is jane's now; the first user's email is no longer verified.
    tokens = sign_in(cognito, client_id, "jane@example.com")
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "jane"
    assert attributes_of(user_of(cognito, pool_id, "first"))["email_verified"] == "false"


def test_validation_happens_before_the_function(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        public.sign_up(ClientId=client_id, Username="jane", Password="short")
    assert error(exc)[0] == "InvalidPasswordException"
    sign_up(public, client_id)
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc)[0] == "UsernameExistsException"
    assert len(functions.events(name)) == 1  # only the sign-up that could succeed


@pytest.mark.parametrize("kind", ["http", "lambda"])
def test_pre_sign_up_rejects(cognito: Any, public: Any, functions: FunctionHost, kind: str) -> None:
    name = fn(kind)

    def reject(event: dict[str, Any]) -> dict[str, Any]:
        raise Fail("Registration from this domain is not allowed.")

    functions.on(name, reject)
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc) == REJECTED
    assert absent(cognito, pool_id, "jane")


def test_pre_sign_up_rejects_with_the_python_invoker(cognito: Any, public: Any) -> None:
    pool_id = pool_with(cognito, PreSignUp="py_reject")
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc) == REJECTED
    assert absent(cognito, pool_id, "jane")


def test_pre_sign_up_times_out(cognito: Any, public: Any, functions: FunctionHost) -> None:
    name = fn("http")
    functions.on(name, slow(2))
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc) == ("UnexpectedLambdaException", f"PreSignUp {TIMED_OUT}")
    assert absent(cognito, pool_id, "jane")


@pytest.mark.parametrize("reply", ["not an event", {"response": {"autoConfirmUser": "yes"}}])
def test_pre_sign_up_answers_garbage(
    cognito: Any, public: Any, functions: FunctionHost, reply: Any
) -> None:
    name = fn("http")
    functions.on(name, lambda event: reply)
    pool_id = pool_with(cognito, PreSignUp=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as exc:
        sign_up(public, client_id)
    assert error(exc) == GARBAGE
    assert absent(cognito, pool_id, "jane")


def test_python_function_timeout_and_garbage(cognito: Any, public: Any) -> None:
    for function, expected in (
        ("py_slow", ("UnexpectedLambdaException", f"PreSignUp {TIMED_OUT}")),
        ("py_garbage", GARBAGE),
    ):
        pool_id = pool_with(cognito, PreSignUp=function)
        client_id = new_client(cognito, pool_id)["ClientId"]
        with pytest.raises(ClientError) as exc:
            sign_up(public, client_id)
        assert error(exc) == expected
        assert absent(cognito, pool_id, "jane")


# ----------------------------------------------------------------------------- AdminCreateUser


def admin_create(cognito: Any, pool_id: str, username: str = "bob", **extra: Any) -> Any:
    return cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        MessageAction="SUPPRESS",
        **extra,
    )["User"]


def test_admin_create_user_event_and_ignored_reply(
    cognito: Any, functions: FunctionHost, region: str
) -> None:
    name = fn("http")
    functions.on(name, answering(autoConfirmUser=True, autoVerifyEmail=True))
    pool_id = pool_with(cognito, PreSignUp=name)
    user = admin_create(
        cognito,
        pool_id,
        ValidationData=[{"Name": "ticket", "Value": "42"}],
        ClientMetadata={"by": "support"},
    )
    assert functions.events(name) == [
        envelope(
            "PreSignUp_AdminCreateUser",
            region,
            pool_id,
            "bob",
            NO_CLIENT,
            request={
                "userAttributes": {"email": "bob@example.com"},
                "validationData": {"ticket": "42"},
                "clientMetadata": {"by": "support"},
            },
            response=PRE_DEFAULTS,
        )
    ]
    # Cognito ignores the reply's flags for AdminCreateUser.
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert "email_verified" not in attributes_of(user)


def test_admin_create_user_rejected(cognito: Any, functions: FunctionHost) -> None:
    name = fn("lambda")

    def reject(event: dict[str, Any]) -> dict[str, Any]:
        raise Fail("Registration from this domain is not allowed.")

    functions.on(name, reject)
    pool_id = pool_with(cognito, PreSignUp=name)
    with pytest.raises(ClientError) as exc:
        admin_create(cognito, pool_id)
    assert error(exc) == REJECTED
    assert absent(cognito, pool_id, "bob")


def test_admin_create_user_with_the_python_invoker(
    cognito: Any, region: str, server: CognateServer
) -> None:
    pool_id = pool_with(cognito, PreSignUp="py_echo")
    admin_create(cognito, pool_id)
    (event,) = of_pool(python_events(server, "py_echo"), pool_id)
    assert event == envelope(
        "PreSignUp_AdminCreateUser",
        region,
        pool_id,
        "bob",
        NO_CLIENT,
        request={
            "userAttributes": {"email": "bob@example.com"},
            "validationData": {},
            "clientMetadata": {},
        },
        response=PRE_DEFAULTS,
    )
    rejecting = pool_with(cognito, PreSignUp="py_reject")
    with pytest.raises(ClientError) as exc:
        admin_create(cognito, rejecting)
    assert error(exc) == REJECTED


def test_admin_create_user_failures_leave_no_user(cognito: Any, functions: FunctionHost) -> None:
    slow_name, garbage_name = fn("http"), fn("http")
    functions.on(slow_name, slow(2))
    functions.on(garbage_name, lambda event: ["not", "an", "event"])
    for name, expected in (
        (slow_name, ("UnexpectedLambdaException", f"PreSignUp {TIMED_OUT}")),
        (garbage_name, GARBAGE),
    ):
        pool_id = pool_with(cognito, PreSignUp=name)
        with pytest.raises(ClientError) as exc:
            admin_create(cognito, pool_id)
        assert error(exc) == expected
        assert absent(cognito, pool_id, "bob")


def test_admin_create_user_checks_before_the_function(
    cognito: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PreSignUp=name)
    admin_create(cognito, pool_id)
    with pytest.raises(ClientError) as exc:
        admin_create(cognito, pool_id)
    assert error(exc)[0] == "UsernameExistsException"
    # RESEND re-invites an existing user: not a sign-up.
    cognito.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="RESEND")
    assert len(functions.events(name)) == 1


# ----------------------------------------------------------------------------- PostConfirmation


def test_confirm_sign_up_runs_post_confirmation(
    cognito: Any, public: Any, functions: FunctionHost, region: str, server: CognateServer
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PostConfirmation=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sub = sign_up(public, client_id)["UserSub"]
    assert functions.events(name) == []
    public.confirm_sign_up(
        ClientId=client_id,
        Username="jane",
        ConfirmationCode=last_code(server.endpoint, pool_id, "jane"),
        ClientMetadata={"step": "confirm"},
    )
    assert functions.events(name) == [
        envelope(
            "PostConfirmation_ConfirmSignUp",
            region,
            pool_id,
            "jane",
            client_id,
            request={
                "userAttributes": {
                    "sub": sub,
                    "email": "jane@example.com",
                    "email_verified": "true",
                    "name": "Jane",
                    "cognito:user_status": "CONFIRMED",
                },
                "clientMetadata": {"step": "confirm"},
            },
            response={},
        )
    ]


def test_wrong_code_runs_no_post_confirmation(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    name = fn("http")
    pool_id = pool_with(cognito, PostConfirmation=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sign_up(public, client_id)
    with pytest.raises(ClientError) as exc:
        public.confirm_sign_up(ClientId=client_id, Username="jane", ConfirmationCode="000000")
    assert error(exc)[0] in ("CodeMismatchException", "ExpiredCodeException")
    assert functions.events(name) == []


def test_admin_confirm_sign_up_with_the_python_invoker(
    cognito: Any, public: Any, region: str, server: CognateServer
) -> None:
    pool_id = pool_with(cognito, PostConfirmation="py_echo")
    client_id = new_client(cognito, pool_id)["ClientId"]
    sub = sign_up(public, client_id)["UserSub"]
    cognito.admin_confirm_sign_up(
        UserPoolId=pool_id, Username="jane", ClientMetadata={"by": "admin"}
    )
    assert of_pool(python_events(server, "py_echo"), pool_id) == [
        envelope(
            "PostConfirmation_ConfirmSignUp",
            region,
            pool_id,
            "jane",
            NO_CLIENT,
            request={
                "userAttributes": {
                    "sub": sub,
                    "email": "jane@example.com",
                    "name": "Jane",
                    "cognito:user_status": "CONFIRMED",
                },
                "clientMetadata": {"by": "admin"},
            },
            response={},
        )
    ]


def test_auto_confirmed_sign_up_runs_post_confirmation(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    pre, post = fn("http"), fn("http")
    functions.on(pre, answering(autoConfirmUser=True, autoVerifyEmail=True))
    pool_id = pool_with(cognito, PreSignUp=pre, PostConfirmation=post)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sign_up(public, client_id, ClientMetadata={"from": "sign-up"})
    (event,) = functions.events(post)
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["clientMetadata"] == {"from": "sign-up"}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["userAttributes"]["email_verified"] == "true"


def test_unconfirmed_sign_up_runs_no_post_confirmation(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    post = fn("http")
    pool_id = pool_with(cognito, PreSignUp=fn("http"), PostConfirmation=post)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sign_up(public, client_id)
    assert functions.events(post) == []


def test_confirm_forgot_password_through_the_lambda_api(
    cognito: Any, public: Any, functions: FunctionHost, region: str, server: CognateServer
) -> None:
    name = fn("lambda")
    pool_id = pool_with(cognito, PostConfirmation=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(
        cognito, pool_id, "kim", attributes={"email": "kim@example.com", "email_verified": "true"}
    )
    sub = attributes_of(user_of(cognito, pool_id, "kim"))["sub"]
    public.forgot_password(ClientId=client_id, Username="kim")
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="kim",
        ConfirmationCode=last_code(server.endpoint, pool_id, "kim"),
        Password=NEW_PASSWORD,
        ClientMetadata={"reason": "forgot"},
    )
    assert functions.events(name) == [
        envelope(
            "PostConfirmation_ConfirmForgotPassword",
            region,
            pool_id,
            "kim",
            client_id,
            request={
                "userAttributes": {
                    "sub": sub,
                    "email": "kim@example.com",
                    "email_verified": "true",
                    "cognito:user_status": "CONFIRMED",
                },
                "clientMetadata": {"reason": "forgot"},
            },
            response={},
        )
    ]


def test_failing_post_confirmation_reports_but_confirmation_stands(
    cognito: Any, public: Any, functions: FunctionHost, server: CognateServer
) -> None:
    name = fn("http")

    def fail(event: dict[str, Any]) -> dict[str, Any]:
        raise Fail("could not write the profile")

    functions.on(name, fail)
    pool_id = pool_with(cognito, PostConfirmation=name)
    client_id = new_client(cognito, pool_id)["ClientId"]
    sign_up(public, client_id)
    code = last_code(server.endpoint, pool_id, "jane")
    with pytest.raises(ClientError) as exc:
        public.confirm_sign_up(ClientId=client_id, Username="jane", ConfirmationCode=code)
    assert error(exc) == (
        "UserLambdaValidationException",
        "PostConfirmation failed with error could not write the profile.",
    )
    user = user_of(cognito, pool_id, "jane")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["email_verified"] == "true"
    assert sign_in(cognito, client_id, "jane")["AccessToken"]


def test_post_confirmation_timeout_and_garbage_after_admin_confirm(
    cognito: Any, public: Any, functions: FunctionHost
) -> None:
    slow_name, garbage_name = fn("http"), fn("lambda")
    functions.on(slow_name, slow(2))
    functions.on(garbage_name, lambda event: 42)
    for name, expected in (
        (slow_name, ("UnexpectedLambdaException", f"PostConfirmation {TIMED_OUT}")),
        (garbage_name, GARBAGE),
    ):
        pool_id = pool_with(cognito, PostConfirmation=name)
        client_id = new_client(cognito, pool_id)["ClientId"]
        sign_up(public, client_id)
        with pytest.raises(ClientError) as exc:
            cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username="jane")
        assert error(exc) == expected
        assert user_of(cognito, pool_id, "jane")["UserStatus"] == "CONFIRMED"


def test_python_post_confirmation_failure_on_confirm_forgot_password(
    cognito: Any, public: Any, server: CognateServer
) -> None:
    pool_id = pool_with(cognito, PostConfirmation="py_reject")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(
        cognito, pool_id, "kim", attributes={"email": "kim@example.com", "email_verified": "true"}
    )
    public.forgot_password(ClientId=client_id, Username="kim")
    with pytest.raises(ClientError) as exc:
        public.confirm_forgot_password(
            ClientId=client_id,
            Username="kim",
            ConfirmationCode=last_code(server.endpoint, pool_id, "kim"),
            Password=NEW_PASSWORD,
        )
    assert error(exc) == (
        "UserLambdaValidationException",
        "PostConfirmation failed with error Registration from this domain is not allowed..",
    )
    # The new password is in place all the same.
    assert sign_in(cognito, client_id, "kim", NEW_PASSWORD)["AccessToken"]
    assert [m["kind"] for m in messages(server.endpoint, pool_id, "kim")] == ["forgot_password"]
