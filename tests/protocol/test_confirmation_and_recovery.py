"""Self-service sign-up and account recovery through boto3, as an app without AWS
credentials calls them: SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword and
ConfirmForgotPassword, with the codes read from the developer outbox API as a test suite
would. Messages are Cognito's own, as researched in /work/research/signup_recovery.md (the
section numbers in comments refer to it).

The module's server has a clock the tests can move (codes expire: a day for sign-up codes,
an hour for password resets), so nothing sleeps.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import (
    ALL_FLOWS,
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    TEMPORARY_PASSWORD,
    attributes_of,
    claims,
    error,
    new_user,
    password_auth,
    secret_hash,
    sign_in,
    unsigned_client,
)
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.outbox_api import SIX_DIGITS, last_code, messages, other_code
from tests.support.server import CognateServer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MISMATCH = ("CodeMismatchException", "Invalid verification code provided, please try again.")
EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
LIMITED = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
NOT_FOUND = ("UserNotFoundException", "Username/client id combination not found.")
CONFIRMED_ALREADY = (
    "NotAuthorizedException",
    "User cannot be confirmed. Current status is CONFIRMED",
)
NO_RECOVERY = (
    "InvalidParameterException",
    "Cannot reset password for the user as there is no registered/verified email or phone_number",
)
CANNOT_RESET = ("NotAuthorizedException", "User password cannot be reset in the current state.")
NOT_CONFIRMED = ("UserNotConfirmedException", "User is not confirmed.")
SMS_CONFIGURATION = {
    "SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms",
    "ExternalId": "cognate-tests",
}
DEFAULT_SUBJECT = "Your verification code"
DEFAULT_BODY = re.compile(r"Your verification code is ([0-9]{6})\. ")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"recovery-{request.param}")
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
def public(server: CognateServer, region: str) -> Any:
    """Unsigned, like a browser app: these operations are authorized by the app client."""
    return unsigned_client(server.endpoint, region)


@dataclass
class App:
    """A pool and an app client, with what a test needs to call the public operations."""

    server: CognateServer
    public: Any
    pool_id: str
    client_id: str
    secret: str | None = None

    def hash(self, username: str) -> dict[str, str]:
        if self.secret is None:
            return {}
        return {"SecretHash": secret_hash(self.secret, username, self.client_id)}

    def sign_up(
        self,
        username: str = "jane",
        email: str | None = "jane@example.com",
        password: str = PASSWORD,
        attributes: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        values = {**({"email": email} if email else {}), **(attributes or {})}
        response: dict[str, Any] = self.public.sign_up(
            ClientId=self.client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in values.items()],
            **self.hash(username),
        )
        return response

    def code(self, username: str = "jane") -> str:
        return last_code(self.server.endpoint, self.pool_id, username)

    def confirm(self, code: str, username: str = "jane", **extra: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.public.confirm_sign_up(
            ClientId=self.client_id,
            Username=username,
            ConfirmationCode=code,
            **self.hash(username),
            **extra,
        )
        return response

    def resend(self, username: str = "jane") -> dict[str, Any]:
        response: dict[str, Any] = self.public.resend_confirmation_code(
            ClientId=self.client_id, Username=username, **self.hash(username)
        )
        return response

    def forgot(self, username: str = "jane") -> dict[str, Any]:
        response: dict[str, Any] = self.public.forgot_password(
            ClientId=self.client_id, Username=username, **self.hash(username)
        )
        return response

    def confirm_forgot(
        self, code: str, username: str = "jane", password: str = NEW_PASSWORD
    ) -> dict[str, Any]:
        response: dict[str, Any] = self.public.confirm_forgot_password(
            ClientId=self.client_id,
            Username=username,
            ConfirmationCode=code,
            Password=password,
            **self.hash(username),
        )
        return response

    def user(self, cognito: Any, username: str = "jane") -> dict[str, Any]:
        user: dict[str, Any] = cognito.admin_get_user(UserPoolId=self.pool_id, Username=username)
        return user

    def outbox(self, username: str | None = None) -> list[dict[str, Any]]:
        return messages(self.server.endpoint, self.pool_id, username)


def make_app(
    server: CognateServer,
    cognito: Any,
    public: Any,
    *,
    secret: bool = False,
    prevent: bool = False,
    **pool: Any,
) -> App:
    pool.setdefault("AutoVerifiedAttributes", ["email"])
    pool_id = cognito.create_user_pool(PoolName="recovery", **pool)["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=ALL_FLOWS,
        GenerateSecret=secret,
        PreventUserExistenceErrors="ENABLED" if prevent else "LEGACY",
    )["UserPoolClient"]
    return App(server, public, pool_id, client["ClientId"], client.get("ClientSecret"))


@pytest.fixture
def app(server: CognateServer, cognito: Any, public: Any) -> App:
    """A pool that verifies email addresses, and a client without a secret (LEGACY)."""
    return make_app(server, cognito, public)


@pytest.fixture
def enabled(server: CognateServer, cognito: Any, public: Any) -> App:
    """The same, with PreventUserExistenceErrors ENABLED."""
    return make_app(server, cognito, public, prevent=True)


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def body(response: dict[str, Any]) -> dict[str, Any]:
    """A response without boto3's ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def email_details(destination: str) -> dict[str, str]:
    return {"Destination": destination, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def sms_details(destination: str) -> dict[str, str]:
    return {"Destination": destination, "DeliveryMedium": "SMS", "AttributeName": "phone_number"}


def verified_user(cognito: Any, app: App, username: str = "jane", **attributes: str) -> str:
    """A CONFIRMED user (password PASSWORD) created by the administrator."""
    values = attributes or {"email": f"{username}@example.com", "email_verified": "true"}
    return new_user(cognito, app.pool_id, username, attributes=values)


# ----------------------------------------------------------------------------- SignUp


def test_sign_up_answers_where_the_code_went(cognito: Any, app: App) -> None:
    response = app.sign_up("jane", "jane@example.com")
    assert response["UserConfirmed"] is False
    assert UUID.fullmatch(response["UserSub"])
    assert response["CodeDeliveryDetails"] == email_details("j***@e***")  # §8.1: no TLD
    assert "Session" not in response  # the client does not allow USER_AUTH (§1.9)
    user = app.user(cognito)
    assert user["UserStatus"] == "UNCONFIRMED"
    assert attributes_of(user)["sub"] == response["UserSub"]
    assert attributes_of(user).get("email_verified") != "true"
    # an unconfirmed user cannot sign in yet, even with the right password
    assert refused(lambda: password_auth(cognito, app.client_id, "jane")) == NOT_CONFIRMED


def test_sign_up_message_is_cognitos_default(app: App) -> None:
    app.sign_up("jane", "jane@example.com")
    (message,) = app.outbox("jane")
    assert message["pool_id"] == app.pool_id
    assert (message["kind"], message["channel"], message["destination"]) == (
        "confirm_sign_up",
        "EMAIL",
        "jane@example.com",
    )
    assert message["subject"] == DEFAULT_SUBJECT
    # §7.2: "Your verification code is {####}. ", with the trailing space
    assert message["body"] == f"Your verification code is {message['code']}. "
    assert SIX_DIGITS.fullmatch(message["code"])
    assert message["status"] == "held"  # no SMTP: the email waits in the outbox
    assert app.code("jane") == message["code"]


def test_sign_up_codes_are_random_six_digit_numbers(app: App) -> None:
    sent: set[str] = set()
    for index in range(6):
        app.sign_up(f"user{index}", f"user{index}@example.com")
        sent.add(app.code(f"user{index}"))
    assert all(SIX_DIGITS.fullmatch(code) for code in sent)
    assert len(sent) > 1


def test_sign_up_by_sms_when_the_phone_is_verified_automatically(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    # §1.10: with both email and phone auto-verified, the code goes by SMS
    app = make_app(
        server,
        cognito,
        public,
        AutoVerifiedAttributes=["email", "phone_number"],
        SmsConfiguration=SMS_CONFIGURATION,
    )
    response = app.sign_up("jane", "jane@example.com", attributes={"phone_number": "+15555550008"})
    assert response["CodeDeliveryDetails"] == sms_details("+*******0008")  # §8.3
    (message,) = app.outbox("jane")
    assert (message["channel"], message["destination"]) == ("SMS", "+15555550008")
    assert message["subject"] is None
    assert message["body"] == f"Your verification code is {message['code']}. "
    app.confirm(message["code"])
    values = attributes_of(app.user(cognito))
    # only the phone the code went to is verified
    assert values["phone_number_verified"] == "true"
    assert values.get("email_verified") != "true"


def test_sign_up_without_auto_verification_sends_nothing(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(server, cognito, public, AutoVerifiedAttributes=[])
    response = app.sign_up()
    assert response["UserConfirmed"] is False
    assert "CodeDeliveryDetails" not in response
    assert app.outbox() == []
    # no code was ever issued: any code is "expired" (§0.3)
    assert refused(lambda: app.confirm("123456")) == EXPIRED
    assert app.user(cognito)["UserStatus"] == "UNCONFIRMED"


def test_sign_up_is_closed_when_only_administrators_create_users(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(
        server, cognito, public, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True}
    )
    assert refused(app.sign_up) == (
        "NotAuthorizedException",
        "SignUp is not permitted for this user pool",
    )
    assert cognito.list_users(UserPoolId=app.pool_id)["Users"] == []
    assert app.outbox() == []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("n0-upper-case!", "Password must have uppercase characters"),
        ("N0-LOWER-CASE!", "Password must have lowercase characters"),
        ("No-Numbers-Here!", "Password must have numeric characters"),
        ("N0Symb0lsHere", "Password must have symbol characters"),
    ],
)
def test_sign_up_password_policy(
    cognito: Any, server: CognateServer, public: Any, password: str, rule: str
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )
    assert refused(lambda: app.sign_up(password=password)) == (
        "InvalidPasswordException",
        f"Password did not conform with policy: {rule}",  # SignUp's own prefix (users.md §5)
    )
    assert cognito.list_users(UserPoolId=app.pool_id)["Users"] == []
    assert app.outbox() == []


def test_sign_up_needs_the_required_attributes(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        Schema=[{"Name": "email", "Required": True}, {"Name": "name", "Required": True}],
    )
    assert refused(lambda: app.sign_up(email="jane@example.com")) == (
        "InvalidParameterException",
        "Attributes did not conform to the schema: name: The attribute is required\n",
    )
    response = app.sign_up(email="jane@example.com", attributes={"name": "Jane"})
    assert response["UserConfirmed"] is False


def test_sign_up_does_not_let_the_user_verify_their_own_email(app: App, cognito: Any) -> None:
    assert refused(lambda: app.sign_up(attributes={"email_verified": "true"})) == (
        "NotAuthorizedException",
        "A client attempted to write unauthorized attribute",
    )
    assert cognito.list_users(UserPoolId=app.pool_id)["Users"] == []


# ----------------------------------------------------------------------------- SECRET_HASH


def _sign_up_call(app: App, username: str, extra: dict[str, str]) -> Any:
    return app.public.sign_up(
        ClientId=app.client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        **extra,
    )


def _confirm_call(app: App, username: str, extra: dict[str, str]) -> Any:
    return app.public.confirm_sign_up(
        ClientId=app.client_id, Username=username, ConfirmationCode="123456", **extra
    )


def _resend_call(app: App, username: str, extra: dict[str, str]) -> Any:
    return app.public.resend_confirmation_code(ClientId=app.client_id, Username=username, **extra)


def _forgot_call(app: App, username: str, extra: dict[str, str]) -> Any:
    return app.public.forgot_password(ClientId=app.client_id, Username=username, **extra)


def _confirm_forgot_call(app: App, username: str, extra: dict[str, str]) -> Any:
    return app.public.confirm_forgot_password(
        ClientId=app.client_id,
        Username=username,
        ConfirmationCode="123456",
        Password=NEW_PASSWORD,
        **extra,
    )


SECRET_CALLS = {
    "SignUp": _sign_up_call,
    "ConfirmSignUp": _confirm_call,
    "ResendConfirmationCode": _resend_call,
    "ForgotPassword": _forgot_call,
    "ConfirmForgotPassword": _confirm_forgot_call,
}


@pytest.mark.parametrize("operation", list(SECRET_CALLS))
def test_secret_hash_is_checked(
    cognito: Any, server: CognateServer, public: Any, operation: str
) -> None:
    app = make_app(server, cognito, public, secret=True)
    assert app.secret is not None
    call = SECRET_CALLS[operation]
    if operation != "SignUp":
        app.sign_up("jane", "jane@example.com")
    with pytest.raises(ClientError) as exc:
        call(app, "jane", {})
    assert error(exc) == (
        "NotAuthorizedException",
        f"Client {app.client_id} is configured with secret but SECRET_HASH was not received",
    )
    # a hash of another username, or under another secret, is wrong
    for wrong in (
        secret_hash(app.secret, "someone-else", app.client_id),
        secret_hash("not-the-secret", "jane", app.client_id),
    ):
        with pytest.raises(ClientError) as exc:
            call(app, "jane", {"SecretHash": wrong})
        assert error(exc) == (
            "NotAuthorizedException",
            f"Unable to verify secret hash for client {app.client_id}",
        )
    # the right hash gets past the check, to the operation's own answer for an
    # unconfirmed user
    right = {"SecretHash": secret_hash(app.secret, "jane", app.client_id)}
    after_check = {
        "ConfirmSignUp": MISMATCH,
        "ForgotPassword": NO_RECOVERY,
        "ConfirmForgotPassword": EXPIRED,  # no reset was requested
    }
    if operation in after_check:
        assert refused(lambda: call(app, "jane", right)) == after_check[operation]
    else:
        assert call(app, "jane", right)["CodeDeliveryDetails"] == email_details("j***@e***")


@pytest.mark.parametrize("operation", list(SECRET_CALLS))
def test_secret_hash_refused_for_a_client_without_secret(app: App, operation: str) -> None:
    with pytest.raises(ClientError) as exc:
        SECRET_CALLS[operation](app, "jane", {"SecretHash": "c2VjcmV0LWhhc2g="})
    assert error(exc) == (
        "InvalidParameterException",
        f"App client {app.client_id} is not configured for secret but secret hash was received",
    )


# ----------------------------------------------------------------------------- ConfirmSignUp


def test_confirm_sign_up(cognito: Any, app: App) -> None:
    app.sign_up()
    response = app.confirm(app.code())
    assert body(response) == {}  # §1.9
    user = app.user(cognito)
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["email_verified"] == "true"
    tokens = sign_in(cognito, app.client_id, "jane")
    assert claims(tokens["IdToken"])["email_verified"] is True
    # confirming again: the user is no longer UNCONFIRMED (§1.3), whatever the code. (The
    # same code presented again later gets this too: amplify-ui#219, in §1.3. Two
    # simultaneous submissions: tests/storage/test_code_races.py.)
    assert refused(lambda: app.confirm(app.code())) == CONFIRMED_ALREADY
    assert refused(lambda: app.confirm("000000")) == CONFIRMED_ALREADY


def test_wrong_code_then_right_code(cognito: Any, app: App) -> None:
    app.sign_up()
    code = app.code()
    assert refused(lambda: app.confirm(other_code(code))) == MISMATCH
    assert refused(lambda: app.confirm("not-a-code")) == MISMATCH
    assert app.user(cognito)["UserStatus"] == "UNCONFIRMED"
    # a wrong attempt does not use the code up
    app.confirm(code)
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def test_sixth_attempt_is_refused_even_with_the_right_code(cognito: Any, app: App) -> None:
    app.sign_up()
    code = app.code()
    for _ in range(5):
        assert refused(lambda: app.confirm(other_code(code))) == MISMATCH
    assert refused(lambda: app.confirm(code)) == LIMITED  # §0.5
    assert refused(lambda: app.confirm(other_code(code))) == LIMITED
    assert app.user(cognito)["UserStatus"] == "UNCONFIRMED"


def test_resend_confirmation_code(cognito: Any, app: App) -> None:
    app.sign_up()
    first = app.code()
    response = app.resend()
    assert body(response) == {"CodeDeliveryDetails": email_details("j***@e***")}  # §2.1
    second = app.code()
    sent = [m for m in app.outbox("jane") if m["kind"] == "confirm_sign_up"]
    assert [m["code"] for m in sent] == [first, second]
    assert sent[1]["destination"] == "jane@example.com"
    assert sent[1]["body"] == f"Your verification code is {second}. "
    if first != second:  # (equal once in a million)
        # the first code no longer confirms: it is an expired code now
        assert refused(lambda: app.confirm(first)) == EXPIRED
        assert app.user(cognito)["UserStatus"] == "UNCONFIRMED"
    app.confirm(second)
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def resend_until_new(app: App, old: str, username: str = "jane") -> str:
    """Resend until the new code differs from `old` (they are equal once in a million)."""
    while True:
        app.resend(username)
        new = app.code(username)
        if new != old:
            return new


def test_a_sign_up_code_superseded_by_a_resend_is_expired(cognito: Any, app: App) -> None:
    app.sign_up()
    first = app.code()
    second = resend_until_new(app, first)
    assert refused(lambda: app.confirm(first)) == EXPIRED
    app.confirm(second)
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def test_sign_up_code_lives_a_day(cognito: Any, app: App, clock: ShiftedClock) -> None:
    app.sign_up()
    code = app.code()
    clock.shift(hours=23, minutes=50)
    # still alive: a wrong code is only wrong
    assert refused(lambda: app.confirm(other_code(code))) == MISMATCH
    clock.shift(minutes=11)
    assert refused(lambda: app.confirm(code)) == EXPIRED  # §0.9
    assert app.user(cognito)["UserStatus"] == "UNCONFIRMED"
    # a new code starts a new day
    app.resend()
    app.confirm(app.code())
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def test_confirm_unknown_user(app: App, enabled: App) -> None:
    assert refused(lambda: app.confirm("123456", "nobody")) == NOT_FOUND  # §1.4
    # existence errors prevented: the answer a wrong code gets (§1.5)
    assert refused(lambda: enabled.confirm("123456", "nobody")) == MISMATCH


def test_confirm_with_prevented_existence_errors_still_confirms(cognito: Any, enabled: App) -> None:
    enabled.sign_up()
    code = enabled.code()
    assert refused(lambda: enabled.confirm(other_code(code))) == MISMATCH
    enabled.confirm(code)
    assert enabled.user(cognito)["UserStatus"] == "CONFIRMED"


def test_confirm_in_an_email_username_pool_by_email_or_sub(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(server, cognito, public, UsernameAttributes=["email"])
    jane = app.sign_up("jane@example.com", email=None)
    assert jane["CodeDeliveryDetails"] == email_details("j***@e***")
    john = app.sign_up("john@example.com", email=None)
    # the outbox knows the user by the name they signed up with, and by their username
    app.confirm(app.code("jane@example.com"), "jane@example.com")
    app.confirm(app.code(john["UserSub"]), john["UserSub"])  # §1.11: the sub also names them
    for email in ("jane@example.com", "john@example.com"):
        user = app.user(cognito, email)
        assert user["UserStatus"] == "CONFIRMED"
        assert attributes_of(user)["email_verified"] == "true"
    tokens = sign_in(cognito, app.client_id, "john@example.com")
    assert claims(tokens["AccessToken"])["username"] == john["UserSub"]


def test_alias_conflict_on_confirmation(cognito: Any, server: CognateServer, public: Any) -> None:
    app = make_app(server, cognito, public, AliasAttributes=["email"])
    app.sign_up("alice", "shared@example.com")
    app.confirm(app.code("alice"), "alice")
    assert (
        claims(sign_in(cognito, app.client_id, "shared@example.com")["IdToken"])["cognito:username"]
        == "alice"
    )
    # the email is only an alias once verified: bob may sign up with it (§1.7) ...
    app.sign_up("bob", "shared@example.com")
    code = app.code("bob")
    # ... but confirming it would take alice's alias
    assert refused(lambda: app.confirm(code, "bob")) == (
        "AliasExistsException",
        "An account with the email already exists.",
    )
    assert app.user(cognito, "bob")["UserStatus"] == "UNCONFIRMED"
    assert attributes_of(app.user(cognito, "alice"))["email_verified"] == "true"
    assert (
        claims(sign_in(cognito, app.client_id, "shared@example.com")["IdToken"])["cognito:username"]
        == "alice"
    )
    # ForceAliasCreation moves the alias (§1.8); the refused attempt left the code usable
    assert body(app.confirm(code, "bob", ForceAliasCreation=True)) == {}
    bob = app.user(cognito, "bob")
    assert bob["UserStatus"] == "CONFIRMED"
    assert attributes_of(bob)["email_verified"] == "true"
    alice = attributes_of(app.user(cognito, "alice"))
    assert (alice["email"], alice["email_verified"]) == ("shared@example.com", "false")
    assert (
        claims(sign_in(cognito, app.client_id, "shared@example.com")["IdToken"])["cognito:username"]
        == "bob"
    )
    # alice still signs in with her username
    assert claims(sign_in(cognito, app.client_id, "alice")["IdToken"])["email_verified"] is False


# ------------------------------------------------------------------------ ResendConfirmationCode


def test_resend_to_a_confirmed_user(app: App) -> None:
    app.sign_up()
    app.confirm(app.code())
    before = len(app.outbox())
    assert refused(app.resend) == ("InvalidParameterException", "User is already confirmed.")
    assert len(app.outbox()) == before


def test_resend_without_auto_verification(cognito: Any, server: CognateServer, public: Any) -> None:
    app = make_app(server, cognito, public, AutoVerifiedAttributes=[])
    app.sign_up()
    assert refused(app.resend) == (
        "NotAuthorizedException",
        "Cannot resend codes. Auto verification not turned on.",
    )
    assert app.outbox() == []


def test_resend_to_unknown_users(app: App, enabled: App) -> None:
    assert refused(lambda: app.resend("nobody")) == NOT_FOUND  # §2.4
    # §2.5/§8.4: a simulated delivery, the same whatever the name
    first = body(enabled.resend("nobody"))
    second = body(enabled.resend("somebody-else"))
    assert first == second
    details = first["CodeDeliveryDetails"]
    assert (details["DeliveryMedium"], details["AttributeName"]) == ("EMAIL", "email")
    assert re.fullmatch(r".\*\*\*@.\*\*\*", details["Destination"])
    assert enabled.outbox() == []


def test_resend_to_a_confirmed_user_with_prevented_existence_errors(enabled: App) -> None:
    # §2.3 (probable): no error that would tell a confirmed account from an unknown one
    enabled.sign_up()
    enabled.confirm(enabled.code())
    before = len(enabled.outbox())
    answer = body(enabled.resend())
    assert answer == body(enabled.resend("nobody"))
    assert len(enabled.outbox()) == before


# ----------------------------------------------------------------------------- ForgotPassword


def test_forgot_password(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    response = app.forgot()
    assert body(response) == {"CodeDeliveryDetails": email_details("j***@e***")}  # §3.1
    (message,) = app.outbox("jane")
    assert (message["kind"], message["channel"], message["destination"]) == (
        "forgot_password",
        "EMAIL",
        "jane@example.com",
    )
    # §7.7: the verification template, not a password-reset text of its own
    assert message["subject"] == DEFAULT_SUBJECT
    assert message["body"] == f"Your verification code is {message['code']}. "
    assert SIX_DIGITS.fullmatch(message["code"])
    # §3.12: the status does not change, and the old password still works until reset
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"
    sign_in(cognito, app.client_id, "jane", PASSWORD)


RECOVERY = {
    "email-first": {
        "RecoveryMechanisms": [
            {"Name": "verified_email", "Priority": 1},
            {"Name": "verified_phone_number", "Priority": 2},
        ]
    },
    "phone-first": {
        "RecoveryMechanisms": [
            {"Name": "verified_phone_number", "Priority": 1},
            {"Name": "verified_email", "Priority": 2},
        ]
    },
}


@pytest.mark.parametrize(
    ("setting", "email_verified", "medium"),
    [
        (None, "true", "SMS"),  # §3.10: no setting, a verified phone first
        ("email-first", "true", "EMAIL"),
        ("phone-first", "true", "SMS"),
        ("email-first", "false", "SMS"),  # the next mechanism when the first is not verified
    ],
)
def test_recovery_channel(
    cognito: Any,
    server: CognateServer,
    public: Any,
    setting: str | None,
    email_verified: str,
    medium: str,
) -> None:
    extra = {"AccountRecoverySetting": RECOVERY[setting]} if setting else {}
    app = make_app(server, cognito, public, SmsConfiguration=SMS_CONFIGURATION, **extra)
    verified_user(
        cognito,
        app,
        email="jane@example.com",
        email_verified=email_verified,
        phone_number="+15555550123",
        phone_number_verified="true",
    )
    details = app.forgot()["CodeDeliveryDetails"]
    (message,) = app.outbox("jane")
    if medium == "SMS":
        assert details == sms_details("+*******0123")
        assert (message["channel"], message["destination"]) == ("SMS", "+15555550123")
    else:
        assert details == email_details("j***@e***")
        assert (message["channel"], message["destination"]) == ("EMAIL", "jane@example.com")
    assert message["kind"] == "forgot_password"


def test_forgot_password_needs_a_verified_contact(cognito: Any, app: App) -> None:
    # §3.2: an unverified email does not count ...
    verified_user(cognito, app, "unverified", email="u@example.com", email_verified="false")
    assert refused(lambda: app.forgot("unverified")) == NO_RECOVERY
    verified_user(cognito, app, "nocontact", name="No Contact")
    assert refused(lambda: app.forgot("nocontact")) == NO_RECOVERY
    # ... nor does the email of a user who has not confirmed their sign-up
    app.sign_up("jane", "jane@example.com")
    assert refused(lambda: app.forgot("jane")) == NO_RECOVERY
    assert [m["kind"] for m in app.outbox()] == ["confirm_sign_up"]


def test_forgot_password_without_a_verified_contact_when_existence_is_hidden(
    cognito: Any, enabled: App
) -> None:
    # §3.3: a simulated delivery, as for an unknown user
    verified_user(cognito, enabled, "unverified", email="u@example.com", email_verified="false")
    assert body(enabled.forgot("unverified")) == body(enabled.forgot("nobody"))
    assert enabled.outbox() == []


def test_forgot_password_of_an_invited_user(cognito: Any, app: App) -> None:
    new_user(
        cognito,
        app.pool_id,
        "invited",
        None,
        attributes={"email": "i@example.com", "email_verified": "true"},
    )
    assert refused(lambda: app.forgot("invited")) == CANNOT_RESET  # §3.4
    user = app.user(cognito, "invited")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert app.outbox() == []
    # the temporary password still leads to the new-password challenge
    started = password_auth(cognito, app.client_id, "invited", TEMPORARY_PASSWORD)
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_forgot_password_when_only_administrators_recover(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]},
    )
    verified_user(cognito, app)
    # §3.11: the message is not documented; this is the state refusal Cognito uses
    assert refused(app.forgot) == CANNOT_RESET
    assert app.outbox() == []
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def test_forgot_password_of_unknown_users(app: App, enabled: App) -> None:
    assert refused(lambda: app.forgot("nobody")) == NOT_FOUND  # §3.7
    first = body(enabled.forgot("nobody"))
    second = body(enabled.forgot("somebody-else"))
    assert first == second  # §3.8: the same fake destination for every name
    details = first["CodeDeliveryDetails"]
    assert (details["DeliveryMedium"], details["AttributeName"]) == ("EMAIL", "email")
    assert re.fullmatch(r".\*\*\*@.\*\*\*", details["Destination"])
    assert enabled.outbox() == []


def test_forgot_password_of_a_disabled_user_with_hidden_existence(
    cognito: Any, enabled: App
) -> None:
    verified_user(cognito, enabled)
    cognito.admin_disable_user(UserPoolId=enabled.pool_id, Username="jane")
    # §3.6: a disabled user looks like an unknown one
    assert body(enabled.forgot()) == body(enabled.forgot("nobody"))
    assert enabled.outbox() == []


def test_simulated_delivery_follows_the_pool_medium(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        prevent=True,
        AutoVerifiedAttributes=["phone_number"],
        SmsConfiguration=SMS_CONFIGURATION,
    )
    for answer in (app.forgot("nobody"), app.resend("nobody")):
        details = answer["CodeDeliveryDetails"]
        assert (details["DeliveryMedium"], details["AttributeName"]) == ("SMS", "phone_number")
        assert re.fullmatch(r"\+\*+[0-9]{4}", details["Destination"])
    assert app.outbox() == []


def test_forgot_password_with_prevented_existence_errors_still_sends(
    cognito: Any, enabled: App
) -> None:
    verified_user(cognito, enabled)
    assert body(enabled.forgot()) == {"CodeDeliveryDetails": email_details("j***@e***")}
    code = enabled.code()
    enabled.confirm_forgot(code)
    sign_in(cognito, enabled.client_id, "jane", NEW_PASSWORD)


# ------------------------------------------------------------------------- ConfirmForgotPassword


def test_confirm_forgot_password(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    assert body(app.confirm_forgot(app.code(), password=NEW_PASSWORD)) == {}  # §4.8
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)
    assert refused(lambda: password_auth(cognito, app.client_id, "jane", PASSWORD)) == INCORRECT
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"


def test_confirm_forgot_password_code_is_single_use(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    code = app.code()
    app.confirm_forgot(code, password=NEW_PASSWORD)
    assert refused(lambda: app.confirm_forgot(code, password="An0ther-Passw0rd!")) == EXPIRED
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_confirm_forgot_password_without_a_request(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    assert refused(lambda: app.confirm_forgot("123456")) == EXPIRED  # §4.2: never requested
    sign_in(cognito, app.client_id, "jane", PASSWORD)


def test_confirm_forgot_password_wrong_code(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    code = app.code()
    assert refused(lambda: app.confirm_forgot(other_code(code))) == MISMATCH  # §4.1
    sign_in(cognito, app.client_id, "jane", PASSWORD)
    # a wrong attempt does not use the code up
    app.confirm_forgot(code)
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_a_second_forgot_password_sends_a_new_code(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    app.forgot()
    sent = app.outbox("jane")
    assert [m["kind"] for m in sent] == ["forgot_password", "forgot_password"]
    assert app.code() == sent[1]["code"]
    app.confirm_forgot(sent[1]["code"])
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_a_superseded_password_reset_code_is_expired(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    first = app.code()
    second = first
    while second == first:
        app.forgot()
        second = app.code()
    assert refused(lambda: app.confirm_forgot(first)) == EXPIRED
    sign_in(cognito, app.client_id, "jane", PASSWORD)
    app.confirm_forgot(second)
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_confirm_forgot_password_attempt_limit(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    code = app.code()
    for _ in range(5):
        assert refused(lambda: app.confirm_forgot(other_code(code))) == MISMATCH
    assert refused(lambda: app.confirm_forgot(code)) == LIMITED  # §4.7: the 6th attempt
    sign_in(cognito, app.client_id, "jane", PASSWORD)
    assert refused(lambda: password_auth(cognito, app.client_id, "jane", NEW_PASSWORD)) == (
        INCORRECT
    )


def test_forgot_password_code_lives_an_hour(cognito: Any, app: App, clock: ShiftedClock) -> None:
    verified_user(cognito, app)
    app.forgot()
    code = app.code()
    clock.shift(minutes=58)
    assert refused(lambda: app.confirm_forgot(other_code(code))) == MISMATCH
    clock.shift(minutes=3)
    assert refused(lambda: app.confirm_forgot(code)) == EXPIRED  # §0.9: an hour
    sign_in(cognito, app.client_id, "jane", PASSWORD)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("n0-upper-case!", "Password must have uppercase characters"),
        ("No-Numbers-Here!", "Password must have numeric characters"),
    ],
)
def test_confirm_forgot_password_policy(
    cognito: Any, server: CognateServer, public: Any, password: str, rule: str
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireNumbers": True,
            }
        },
    )
    verified_user(cognito, app)
    app.forgot()
    code = app.code()
    assert refused(lambda: app.confirm_forgot(code, password=password)) == (
        "InvalidPasswordException",
        f"Password does not conform to policy: {rule}",  # users.md §5: this operation's prefix
    )
    # the refused password did not use the code up
    app.confirm_forgot(code, password=NEW_PASSWORD)
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_confirm_forgot_password_history(cognito: Any, server: CognateServer, public: Any) -> None:
    app = make_app(
        server,
        cognito,
        public,
        Policies={"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 2}},
    )
    verified_user(cognito, app)  # PASSWORD, set permanently by the administrator
    app.forgot()
    code = app.code()
    with pytest.raises(ClientError) as exc:
        app.confirm_forgot(code, password=PASSWORD)
    assert error(exc)[0] == "PasswordHistoryPolicyViolationException"  # §4.6 (type only)
    sign_in(cognito, app.client_id, "jane", PASSWORD)
    # the refusal did not use the code up
    app.confirm_forgot(code, password=NEW_PASSWORD)
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)
    # the previous password is remembered too
    app.forgot()
    with pytest.raises(ClientError) as exc:
        app.confirm_forgot(app.code(), password=PASSWORD)
    assert error(exc)[0] == "PasswordHistoryPolicyViolationException"


def test_confirm_forgot_password_after_an_administrator_reset(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    cognito.admin_reset_user_password(UserPoolId=app.pool_id, Username="jane")
    assert app.user(cognito)["UserStatus"] == "RESET_REQUIRED"
    assert refused(lambda: password_auth(cognito, app.client_id, "jane", PASSWORD)) == (
        "PasswordResetRequiredException",
        "Password reset required for the user",
    )
    (message,) = app.outbox("jane")
    assert message["kind"] == "forgot_password"
    app.confirm_forgot(message["code"], password=NEW_PASSWORD)
    assert app.user(cognito)["UserStatus"] == "CONFIRMED"  # §4.9
    sign_in(cognito, app.client_id, "jane", NEW_PASSWORD)


def test_a_password_reset_does_not_end_other_sessions(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    before = sign_in(cognito, app.client_id, "jane", PASSWORD)
    app.forgot()
    app.confirm_forgot(app.code(), password=NEW_PASSWORD)
    # §4.10: the tokens issued before keep working
    assert cognito.get_user(AccessToken=before["AccessToken"])["Username"] == "jane"
    renewed = cognito.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": before["RefreshToken"]},
    )["AuthenticationResult"]
    assert cognito.get_user(AccessToken=renewed["AccessToken"])["Username"] == "jane"


def test_confirm_forgot_password_for_unknown_users(app: App, enabled: App) -> None:
    assert refused(lambda: app.confirm_forgot("123456", "nobody")) == NOT_FOUND  # §4.4
    assert refused(lambda: enabled.confirm_forgot("123456", "nobody")) == MISMATCH  # §4.3


def test_recovery_in_an_email_username_pool(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(server, cognito, public, UsernameAttributes=["email"])
    app.sign_up("jane@example.com", email=None)
    app.confirm(app.code("jane@example.com"), "jane@example.com")
    assert app.forgot("jane@example.com")["CodeDeliveryDetails"] == email_details("j***@e***")
    app.confirm_forgot(app.code("jane@example.com"), "jane@example.com", NEW_PASSWORD)
    sign_in(cognito, app.client_id, "jane@example.com", NEW_PASSWORD)


# ----------------------------------------------------------------------------- templates


def test_custom_verification_template(cognito: Any, server: CognateServer, public: Any) -> None:
    app = make_app(
        server,
        cognito,
        public,
        AutoVerifiedAttributes=["email", "phone_number"],
        SmsConfiguration=SMS_CONFIGURATION,
        VerificationMessageTemplate={
            "EmailSubject": "Acme code {####}",
            "EmailMessage": "Welcome to Acme! Your code: {####}.",
            "SmsMessage": "Acme code {####}",
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
        },
    )
    app.sign_up("bysms", "sms@example.com", attributes={"phone_number": "+15555550199"})
    (sms,) = app.outbox("bysms")
    assert (sms["channel"], sms["body"]) == ("SMS", f"Acme code {sms['code']}")
    app.sign_up("bymail", "mail@example.com")
    (mail,) = app.outbox("bymail")
    assert mail["channel"] == "EMAIL"
    assert mail["body"] == f"Welcome to Acme! Your code: {mail['code']}."
    # §0.11: the subject's {####} is not replaced
    assert mail["subject"] == "Acme code {####}"
    # the password-reset code uses the same template (§7.7)
    verified_user(cognito, app, "reset", email="reset@example.com", email_verified="true")
    app.forgot("reset")
    (reset,) = app.outbox("reset")
    assert reset["body"] == f"Welcome to Acme! Your code: {reset['code']}."


def test_legacy_verification_message_members(
    cognito: Any, server: CognateServer, public: Any
) -> None:
    app = make_app(
        server,
        cognito,
        public,
        EmailVerificationSubject="Please verify",
        EmailVerificationMessage="Code: {####}",
    )
    app.sign_up()
    (message,) = app.outbox("jane")
    assert (message["subject"], message["body"]) == ("Please verify", f"Code: {message['code']}")
    app.confirm(message["code"])


# ----------------------------------------------------------------------------- wire form


def post(endpoint: str, operation: str, payload: dict[str, Any]) -> tuple[int, bytes]:
    """An unsigned request as a browser app sends it; the status and the raw body."""
    request = urllib.request.Request(
        endpoint + "/", data=json.dumps(payload).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    request.add_header("X-Amz-Target", f"AWSCognitoIdentityProviderService.{operation}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as failure:
        return failure.code, failure.read()


def test_wire_form_of_code_delivery(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    status, raw = post(
        app.server.endpoint, "ForgotPassword", {"ClientId": app.client_id, "Username": "jane"}
    )
    assert status == 200
    # Cognito's body, byte for byte (100 bytes)
    assert raw == (
        b'{"CodeDeliveryDetails":{"AttributeName":"email","DeliveryMedium":"EMAIL",'
        b'"Destination":"j***@e***"}}'
    )


def test_wire_form_of_code_errors(cognito: Any, app: App) -> None:
    verified_user(cognito, app)
    app.forgot()
    request = {"ClientId": app.client_id, "Username": "jane", "Password": NEW_PASSWORD}
    status, raw = post(
        app.server.endpoint,
        "ConfirmForgotPassword",
        {**request, "ConfirmationCode": other_code(app.code())},
    )
    assert (status, json.loads(raw)) == (400, {"__type": MISMATCH[0], "message": MISMATCH[1]})
    app.confirm_forgot(app.code())
    status, raw = post(
        app.server.endpoint, "ConfirmForgotPassword", {**request, "ConfirmationCode": app.code()}
    )
    # §0.2: the 97 bytes real clients received
    assert (status, raw) == (
        400,
        b'{"__type":"ExpiredCodeException","message":"Invalid code provided, please request a '
        b'code again."}',
    )
