"""Self-service sign-up, password recovery, attribute verification and account deletion with
amazon-cognito-identity-js (tests/js/identity_signup.mjs), against a Cognate that emails
the codes to an SMTP sink (tests/support/smtp_sink.py): every code the script is given was
read from an email the sink received, as a user would read it.

A script run starts with no session, so each run that needs one signs in first; the
runs are the steps between two emails. Needs Node.js and tests/js/node_modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_js_auth import results_by_action, run_js, targets
from tests.support.delivery import backend_params, code_in, serve, smtp_args, wait_until
from tests.support.server import CognateServer
from tests.support.smtp_sink import ReceivedMail, SmtpSink

pytestmark = pytest.mark.node

PASSWORD = "Corr3ct-Horse!"
NEW_PASSWORD = "N3w-Battery-Staple!"
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
MISMATCH = "Invalid verification code provided, please try again."


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture(scope="module")
def server(
    backend: str, sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    """A server emailing through the sink (overrides tests/conftest.py's `server`)."""
    with serve(backend, tmp_path_factory.mktemp("js-signup"), smtp_args(sink.port)) as srv:
        yield srv


@pytest.fixture
def app(cognito: Any) -> dict[str, str]:
    """A pool verifying email (required) and a public app client allowing SRP sign-in."""
    pool_id = cognito.create_user_pool(
        PoolName="js-sign-up",
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "email", "Required": True, "Mutable": True}],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="js-sign-up", ExplicitAuthFlows=FLOWS
    )["UserPoolClient"]["ClientId"]
    return {"pool": pool_id, "client": client_id}


class Mailbox:
    """The emails one address received, read in order."""

    def __init__(self, sink: SmtpSink, address: str) -> None:
        self.sink = sink
        self.address = address
        self.read = 0

    def mails(self) -> list[ReceivedMail]:
        return [m for m in self.sink.messages if self.address in m.rcpt_tos]

    def next(self) -> ReceivedMail:
        """The next email to this address (waiting for it)."""
        self.read += 1
        n = self.read

        def arrived() -> ReceivedMail | None:
            mails = self.mails()
            return mails[n - 1] if len(mails) >= n else None

        return wait_until(arrived, what=f"email #{n} to {self.address}")

    def next_code(self) -> str:
        """The code in the next email (Cognito's default verification message)."""
        mail = self.next()
        assert mail.subject == "Your verification code"
        return code_in(mail.text)


def signup_js(
    server: CognateServer, app: dict[str, str], username: str, actions: list[Any]
) -> list[dict[str, Any]]:
    observed = run_js(
        "identity_signup.mjs",
        {
            "endpoint": server.endpoint,
            "poolId": app["pool"],
            "clientId": app["client"],
            "username": username,
            "password": PASSWORD,
            "newPassword": NEW_PASSWORD,
            "actions": actions,
        },
    )
    results = results_by_action(observed, "amazon-cognito-identity-js")
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results


def check_error(record: dict[str, Any], name: str, message: str | None = None) -> None:
    assert record["ok"] is False, record
    assert record["error"]["name"] == name, record["error"]
    assert record["error"]["code"] == name, record["error"]
    if message is not None:
        assert record["error"]["message"] == message, record["error"]


def email_delivery(address: str) -> dict[str, str]:
    local, _, domain = address.partition("@")
    return {
        "AttributeName": "email",
        "DeliveryMedium": "EMAIL",
        "Destination": f"{local[0]}***@{domain[0]}***",
    }


def test_sign_up_recover_change_email_and_delete(
    server: CognateServer, cognito: Any, app: dict[str, str], sink: SmtpSink, region: str
) -> None:
    first_address = f"ann.{region}@example.com"
    second_address = f"ann.new.{region}@example.org"
    inbox = Mailbox(sink, first_address)
    new_inbox = Mailbox(sink, second_address)

    # Sign up: the confirmation code goes to the address.
    (signed_up,) = signup_js(
        server, app, "ann", [{"action": "signUp", "attributes": {"email": first_address}}]
    )
    assert signed_up["ok"] is True, signed_up
    assert targets(signed_up) == ["SignUp"]
    assert signed_up["userConfirmed"] is False
    assert signed_up["username"] == "ann"
    assert signed_up["codeDeliveryDetails"] == email_delivery(first_address)
    user = cognito.admin_get_user(UserPoolId=app["pool"], Username="ann")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert signed_up["userSub"] == {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]
    confirmation = inbox.next_code()

    # Confirm, sign in, and ask for a password reset.
    confirmed, signed_in, forgot = signup_js(
        server,
        app,
        "ann",
        [{"action": "confirmRegistration", "code": confirmation}, "authenticate", "forgotPassword"],
    )
    assert (confirmed["ok"], confirmed["result"]) == (True, "SUCCESS"), confirmed
    assert targets(confirmed) == ["ConfirmSignUp"]
    assert signed_in["ok"] is True, signed_in
    assert targets(signed_in) == ["InitiateAuth", "RespondToAuthChallenge"]
    claims = signed_in["idToken"]["payload"]
    assert (claims["cognito:username"], claims["email"]) == ("ann", first_address)
    assert claims["email_verified"] is True
    assert forgot["ok"] is True, forgot
    assert forgot["callback"] == "inputVerificationCode"
    assert forgot["codeDeliveryDetails"] == email_delivery(first_address)
    assert targets(forgot) == ["ForgotPassword"]
    reset_code = inbox.next_code()

    # Set the new password with the emailed code; only the new password signs in now.
    reset, old_password, new_password, updated, attributes = signup_js(
        server,
        app,
        "ann",
        [
            {"action": "confirmPassword", "code": reset_code},
            "authenticate",
            {"action": "authenticate", "password": NEW_PASSWORD},
            {"action": "updateAttributes", "attributes": {"email": second_address}},
            "getUserAttributes",
        ],
    )
    assert (reset["ok"], reset["callback"], reset["result"]) == (True, "onSuccess", "SUCCESS")
    assert targets(reset) == ["ConfirmForgotPassword"]
    check_error(old_password, "NotAuthorizedException", "Incorrect username or password.")
    assert new_password["ok"] is True, new_password
    # The email changes at once, unverified, and a code goes to the new address.
    assert (updated["ok"], updated["result"]) == (True, "SUCCESS"), updated
    assert updated["codeDeliveryDetailsList"] == [email_delivery(second_address)]
    assert targets(updated) == ["UpdateUserAttributes", "GetUser"]
    assert attributes["attributes"]["email"] == second_address
    assert attributes["attributes"]["email_verified"] == "false"
    verification = new_inbox.next_code()
    assert len(inbox.mails()) == 2  # nothing more to the old address

    # Verify the new address with its code, then delete the account.
    signed_in_again, verified, after, deleted = signup_js(
        server,
        app,
        "ann",
        [
            {"action": "authenticate", "password": NEW_PASSWORD},
            {"action": "verifyAttribute", "attribute": "email", "code": verification},
            "getUserAttributes",
            "deleteUser",
        ],
    )
    assert signed_in_again["ok"] is True, signed_in_again
    assert signed_in_again["idToken"]["payload"]["email"] == second_address
    assert signed_in_again["idToken"]["payload"]["email_verified"] is False
    assert (verified["ok"], verified["result"]) == (True, "SUCCESS"), verified
    assert targets(verified) == ["VerifyUserAttribute"]
    assert after["attributes"]["email_verified"] == "true"
    assert (deleted["ok"], deleted["result"]) == (True, "SUCCESS"), deleted
    assert targets(deleted) == ["DeleteUser"]

    with pytest.raises(ClientError) as exc:
        cognito.admin_get_user(UserPoolId=app["pool"], Username="ann")
    assert exc.value.response["Error"]["Code"] == "UserNotFoundException"
    (gone,) = signup_js(server, app, "ann", [{"action": "authenticate", "password": NEW_PASSWORD}])
    check_error(gone, "UserNotFoundException")


def test_wrong_codes_are_code_mismatch_errors(
    server: CognateServer, cognito: Any, app: dict[str, str], sink: SmtpSink, region: str
) -> None:
    address = f"bob.{region}@example.com"
    inbox = Mailbox(sink, address)
    signup_js(server, app, "bob", [{"action": "signUp", "attributes": {"email": address}}])
    code = inbox.next_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    unconfirmed, mismatch, confirmed = signup_js(
        server,
        app,
        "bob",
        [
            "authenticate",
            {"action": "confirmRegistration", "code": wrong},
            {"action": "confirmRegistration", "code": code},
        ],
    )
    check_error(unconfirmed, "UserNotConfirmedException", "User is not confirmed.")
    check_error(mismatch, "CodeMismatchException", MISMATCH)
    assert mismatch["calls"][0]["status"] == 400
    assert mismatch["calls"][0]["errorType"] == "CodeMismatchException"
    assert confirmed["ok"] is True, confirmed

    # A wrong password-reset code, then a wrong attribute verification code.
    (forgot,) = signup_js(server, app, "bob", [{"action": "forgotPassword"}])
    reset_code = inbox.next_code()
    bad_reset, signed_in, asked = signup_js(
        server,
        app,
        "bob",
        [
            {"action": "confirmPassword", "code": f"{(int(reset_code) + 1) % 10**6:06d}"},
            "authenticate",  # the password did not change
            {"action": "getAttributeVerificationCode", "attribute": "email"},
        ],
    )
    assert forgot["ok"] is True, forgot
    check_error(bad_reset, "CodeMismatchException", MISMATCH)
    assert signed_in["ok"] is True, signed_in
    assert asked["ok"] is True, asked
    assert asked["callback"] == "inputVerificationCode"
    assert asked["codeDeliveryDetails"] == email_delivery(address)
    verify_code = inbox.next_code()
    _, bad_verify, good_verify = signup_js(
        server,
        app,
        "bob",
        [
            "authenticate",
            {
                "action": "verifyAttribute",
                "attribute": "email",
                "code": f"{(int(verify_code) + 1) % 10**6:06d}",
            },
            {"action": "verifyAttribute", "attribute": "email", "code": verify_code},
        ],
    )
    check_error(bad_verify, "CodeMismatchException", MISMATCH)
    assert good_verify["ok"] is True, good_verify


def test_resent_confirmation_code_replaces_the_first(
    server: CognateServer, app: dict[str, str], sink: SmtpSink, region: str
) -> None:
    address = f"cy.{region}@example.com"
    inbox = Mailbox(sink, address)
    (signed_up, resent) = signup_js(
        server,
        app,
        "cy",
        [{"action": "signUp", "attributes": {"email": address}}, "resendConfirmationCode"],
    )
    assert signed_up["ok"] is True, signed_up
    assert resent["ok"] is True, resent
    assert resent["codeDeliveryDetails"] == email_delivery(address)
    assert targets(resent) == ["ResendConfirmationCode"]
    first, second = inbox.next_code(), inbox.next_code()

    attempts = []
    if first != second:  # one chance in a million that they are equal
        attempts.append({"action": "confirmRegistration", "code": first})
    attempts.append({"action": "confirmRegistration", "code": second})
    *old, new = signup_js(server, app, "cy", attempts)
    for record in old:  # the replaced code no longer works
        assert record["ok"] is False, record
        assert record["error"]["name"] in ("CodeMismatchException", "ExpiredCodeException")
    assert new["ok"] is True, new


def test_forgot_password_without_input_verification_code_calls_on_success(
    server: CognateServer, cognito: Any, app: dict[str, str], sink: SmtpSink, region: str
) -> None:
    address = f"di.{region}@example.com"
    cognito.admin_create_user(
        UserPoolId=app["pool"],
        Username="di",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": address},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_password(
        UserPoolId=app["pool"], Username="di", Password=PASSWORD, Permanent=True
    )
    (forgot,) = signup_js(
        server, app, "di", [{"action": "forgotPassword", "inputVerificationCode": False}]
    )
    assert forgot["ok"] is True, forgot
    assert forgot["callback"] == "onSuccess"
    assert forgot["codeDeliveryDetails"] == email_delivery(address)
    Mailbox(sink, address).next_code()


def test_sign_up_errors_surface_through_the_library(
    server: CognateServer, app: dict[str, str], sink: SmtpSink, region: str
) -> None:
    address = f"ed.{region}@example.com"
    first, again, weak = signup_js(
        server,
        app,
        "ed",
        [
            {"action": "signUp", "attributes": {"email": address}},
            {"action": "signUp", "attributes": {"email": address}},
            {
                "action": "signUp",
                "username": "ed2",
                "password": "short",
                "attributes": {"email": f"ed2.{region}@example.com"},
            },
        ],
    )
    assert first["ok"] is True, first
    check_error(again, "UsernameExistsException", "User already exists")
    check_error(weak, "InvalidPasswordException")
    inbox = Mailbox(sink, address)
    inbox.next_code()
    assert len(inbox.mails()) == 1  # for the first sign-up only
