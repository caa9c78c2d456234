"""What signed-in users do to their own account with their access token, through boto3:
UpdateUserAttributes, DeleteUserAttributes, GetUserAttributeVerificationCode,
VerifyUserAttribute and DeleteUser. Codes are read from the developer outbox API.
Messages are Cognito's, as researched in /work/research/signup_recovery.md (§5, §6) and
users.md (§3); section numbers in comments refer to them.

The module's server has a clock the tests can move (verification codes expire after a day).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import (
    PASSWORD,
    attributes_of,
    claims,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
    unsigned_client,
)
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.outbox_api import SIX_DIGITS, last_code, messages, other_code
from tests.support.server import CognateServer

MISMATCH = ("CodeMismatchException", "Invalid verification code provided, please try again.")
EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
UNAUTHORIZED = ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
NOT_VERIFIABLE = (
    "InvalidParameterException",
    "Invalid attribute name. Only phone_number and email can be verified.",
)
USER_GONE = ("UserNotFoundException", "User does not exist.")
REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
INVALID_TOKEN = ("NotAuthorizedException", "Invalid Access Token")
SMS_CONFIGURATION = {
    "SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms",
    "ExternalId": "cognate-tests",
}
TENANT = {"Name": "tenant", "AttributeDataType": "String", "Mutable": False}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"self-attributes-{request.param}")
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


@dataclass
class Account:
    """A signed-in user: their pool, app client, username and tokens, and a public client."""

    server: CognateServer
    cognito: Any
    public: Any
    pool_id: str
    client_id: str
    username: str
    tokens: dict[str, Any]

    @property
    def access(self) -> str:
        token: str = self.tokens["AccessToken"]
        return token

    def update(self, **values: str) -> dict[str, Any]:
        response: dict[str, Any] = self.public.update_user_attributes(
            AccessToken=self.access,
            UserAttributes=[{"Name": k, "Value": v} for k, v in values.items()],
        )
        return body(response)

    def delete(self, *names: str) -> dict[str, Any]:
        response = self.public.delete_user_attributes(
            AccessToken=self.access, UserAttributeNames=list(names)
        )
        return body(response)

    def request_code(self, name: str) -> dict[str, Any]:
        response = self.public.get_user_attribute_verification_code(
            AccessToken=self.access, AttributeName=name
        )
        return body(response)

    def verify(self, name: str, code: str) -> dict[str, Any]:
        response = self.public.verify_user_attribute(
            AccessToken=self.access, AttributeName=name, Code=code
        )
        return body(response)

    def attributes(self) -> dict[str, str]:
        """What GetUser shows the user."""
        return attributes_of(self.public.get_user(AccessToken=self.access))

    def admin_attributes(self) -> dict[str, str]:
        return attributes_of(
            self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=self.username)
        )

    def refreshed_id_token(self) -> dict[str, Any]:
        """The claims of a new ID token, by REFRESH_TOKEN_AUTH."""
        result = self.public.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": self.tokens["RefreshToken"]},
        )["AuthenticationResult"]
        return claims(result["IdToken"])

    def sign_in_error(self, name: str) -> tuple[str, str]:
        """How signing in as `name` with the user's password fails."""
        return refused(lambda: password_auth(self.public, self.client_id, name))

    def code(self) -> str:
        return last_code(self.server.endpoint, self.pool_id, self.username)

    def outbox(self) -> list[dict[str, Any]]:
        return messages(self.server.endpoint, self.pool_id, self.username)


def body(response: dict[str, Any]) -> dict[str, Any]:
    """A response without boto3's ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def email_details(destination: str) -> dict[str, str]:
    return {"Destination": destination, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def sms_details(destination: str) -> dict[str, str]:
    return {"Destination": destination, "DeliveryMedium": "SMS", "AttributeName": "phone_number"}


def make_account(
    server: CognateServer,
    cognito: Any,
    region: str,
    *,
    username: str = "alice",
    attributes: dict[str, str] | None = None,
    client: dict[str, Any] | None = None,
    **pool: Any,
) -> Account:
    """A pool (email auto-verified unless told otherwise), a client allowing every flow, and
    a CONFIRMED user signed in through it."""
    pool.setdefault("AutoVerifiedAttributes", ["email"])
    pool_id = new_pool(cognito, "self", **pool)
    client_id: str = new_client(cognito, pool_id, **(client or {}))["ClientId"]
    values = (
        attributes
        if attributes is not None
        else {"email": "alice@example.com", "email_verified": "true", "given_name": "Alice"}
    )
    name = new_user(cognito, pool_id, username, attributes=values)
    public = unsigned_client(server.endpoint, region)
    tokens = sign_in(public, client_id, username)
    return Account(server, cognito, public, pool_id, client_id, name, tokens)


@pytest.fixture
def alice(server: CognateServer, cognito: Any, region: str) -> Account:
    """alice@example.com (verified), in a pool that verifies email addresses."""
    return make_account(
        server,
        cognito,
        region,
        Schema=[TENANT],
        attributes={
            "email": "alice@example.com",
            "email_verified": "true",
            "given_name": "Alice",
            "custom:tenant": "acme",
        },
    )


# ----------------------------------------------------------------------------- UpdateUserAttributes


def test_new_email_applies_at_once_unverified_and_gets_a_code(alice: Account) -> None:
    response = alice.update(email="new.address@example.net")
    # §5.1
    assert response == {"CodeDeliveryDetailsList": [email_details("n***@e***")]}
    values = alice.attributes()
    # §5.2: the new value is in force at once, unverified
    assert (values["email"], values["email_verified"]) == ("new.address@example.net", "false")
    identity = alice.refreshed_id_token()
    assert (identity["email"], identity["email_verified"]) == ("new.address@example.net", False)
    (message,) = alice.outbox()
    assert (message["channel"], message["destination"]) == ("EMAIL", "new.address@example.net")
    assert message["subject"] == "Your verification code"
    assert message["body"] == f"Your verification code is {message['code']}. "
    assert SIX_DIGITS.fullmatch(message["code"])
    assert alice.verify("email", message["code"]) == {}
    assert alice.attributes()["email_verified"] == "true"
    assert alice.refreshed_id_token()["email_verified"] is True


def test_other_attributes_need_no_code(alice: Account) -> None:
    assert alice.update(given_name="Alicia", family_name="Liddell") == {}
    values = alice.attributes()
    assert (values["given_name"], values["family_name"]) == ("Alicia", "Liddell")
    assert values["email_verified"] == "true"
    assert alice.outbox() == []
    identity = alice.refreshed_id_token()
    assert (identity["given_name"], identity["family_name"]) == ("Alicia", "Liddell")


def test_the_same_email_again_sends_no_code(alice: Account) -> None:
    # §5.3
    assert alice.update(email="alice@example.com") == {}
    assert alice.outbox() == []
    values = alice.attributes()
    assert (values["email"], values["email_verified"]) == ("alice@example.com", "true")


def test_new_email_without_auto_verification(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(server, cognito, region, AutoVerifiedAttributes=[])
    assert account.update(email="new@example.net") == {}
    values = account.attributes()
    assert (values["email"], values["email_verified"]) == ("new@example.net", "false")
    assert account.outbox() == []


def test_new_phone_number_gets_a_code_by_sms(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        AutoVerifiedAttributes=["email", "phone_number"],
        SmsConfiguration=SMS_CONFIGURATION,
        attributes={"phone_number": "+15555550100", "phone_number_verified": "true"},
    )
    response = account.update(phone_number="+15555550123")
    assert response == {"CodeDeliveryDetailsList": [sms_details("+*******0123")]}
    values = account.attributes()
    assert (values["phone_number"], values["phone_number_verified"]) == ("+15555550123", "false")
    (message,) = account.outbox()
    assert (message["channel"], message["destination"]) == ("SMS", "+15555550123")
    assert message["body"] == f"Your verification code is {message['code']}. "
    account.verify("phone_number", message["code"])
    assert account.attributes()["phone_number_verified"] == "true"


def test_new_email_signs_in_at_once_in_an_email_username_pool(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        username="alice@example.com",
        attributes={"email_verified": "true"},
        UsernameAttributes=["email"],
    )
    account.update(email="new@example.net")
    # §5.2: the new, unverified email is the sign-in name at once; the old one is gone
    tokens = sign_in(account.public, account.client_id, "new@example.net")
    assert claims(tokens["AccessToken"])["username"] == account.username
    assert account.sign_in_error("alice@example.com") == USER_GONE


def test_unverified_email_is_no_alias(server: CognateServer, cognito: Any, region: str) -> None:
    account = make_account(server, cognito, region, AliasAttributes=["email"])
    sign_in(account.public, account.client_id, "alice@example.com")
    account.update(email="new@example.net")
    # §5.2: in an alias pool, an unverified email does not sign in
    for email in ("alice@example.com", "new@example.net"):
        assert account.sign_in_error(email) == USER_GONE
    account.verify("email", account.code())
    tokens = sign_in(account.public, account.client_id, "new@example.net")
    assert claims(tokens["AccessToken"])["username"] == "alice"


def test_a_code_sent_to_the_old_email_does_not_verify_the_new_one(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(server, cognito, region, AutoVerifiedAttributes=[])
    account.request_code("email")  # to alice@example.com
    code = account.code()
    account.update(email="someone.else@example.net")
    with pytest.raises(ClientError) as exc:
        account.verify("email", code)
    assert error(exc)[0] in {"ExpiredCodeException", "CodeMismatchException"}
    values = account.attributes()
    assert (values["email"], values["email_verified"]) == ("someone.else@example.net", "false")


@pytest.fixture
def keeps_original(server: CognateServer, cognito: Any, region: str) -> Account:
    """A pool where users sign in with their email, which must be verified before a new
    one replaces it."""
    return make_account(
        server,
        cognito,
        region,
        username="alice@example.com",
        attributes={"email_verified": "true"},
        UsernameAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )


def test_email_waits_for_verification_before_it_replaces_the_old(
    keeps_original: Account,
) -> None:
    account = keeps_original
    response = account.update(email="new@example.net")
    assert response == {"CodeDeliveryDetailsList": [email_details("n***@e***")]}
    # §5.4/§5.5: the old, verified email stays in force ...
    for values in (account.attributes(), account.admin_attributes()):
        assert (values["email"], values["email_verified"]) == ("alice@example.com", "true")
    identity = account.refreshed_id_token()
    assert (identity["email"], identity["email_verified"]) == ("alice@example.com", True)
    # ... for signing in too, while the new one does not sign in yet
    sign_in(account.public, account.client_id, "alice@example.com")
    assert account.sign_in_error("new@example.net") == USER_GONE
    # the code went to the new address
    (message,) = account.outbox()
    assert (message["channel"], message["destination"]) == ("EMAIL", "new@example.net")
    assert account.verify("email", message["code"]) == {}
    values = account.attributes()
    assert (values["email"], values["email_verified"]) == ("new@example.net", "true")
    identity = account.refreshed_id_token()
    assert (identity["email"], identity["email_verified"]) == ("new@example.net", True)
    tokens = sign_in(account.public, account.client_id, "new@example.net")
    assert claims(tokens["AccessToken"])["username"] == account.username
    assert account.sign_in_error("alice@example.com") == USER_GONE


def test_pending_email_with_a_wrong_code_changes_nothing(keeps_original: Account) -> None:
    account = keeps_original
    account.update(email="new@example.net")
    code = account.code()
    assert refused(lambda: account.verify("email", other_code(code))) == MISMATCH
    assert account.attributes()["email"] == "alice@example.com"
    sign_in(account.public, account.client_id, "alice@example.com")
    account.verify("email", code)
    assert account.attributes()["email"] == "new@example.net"


def test_client_write_attributes_limit_updates(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server, cognito, region, client={"WriteAttributes": ["email", "given_name"]}
    )
    assert refused(lambda: account.update(family_name="Liddell")) == UNAUTHORIZED  # §5.14
    # one unauthorized attribute refuses the whole request
    assert refused(lambda: account.update(given_name="Alicia", family_name="Liddell")) == (
        UNAUTHORIZED
    )
    assert account.attributes()["given_name"] == "Alice"
    assert refused(lambda: account.delete("family_name")) == UNAUTHORIZED
    assert account.update(given_name="Alicia") == {}
    assert account.attributes()["given_name"] == "Alicia"


@pytest.mark.parametrize("flag", ["email_verified", "phone_number_verified"])
def test_users_cannot_verify_by_writing_the_flag(alice: Account, flag: str) -> None:
    alice.update(email="new@example.net")
    assert refused(lambda: alice.update(**{flag: "true"})) == UNAUTHORIZED
    assert alice.attributes()["email_verified"] == "false"
    assert refused(lambda: alice.update(email="x@example.net", **{flag: "true"})) == UNAUTHORIZED
    assert alice.attributes()["email"] == "new@example.net"


def test_immutable_attribute(alice: Account) -> None:
    assert refused(lambda: alice.update(**{"custom:tenant": "other"})) == (
        "InvalidParameterException",
        "user.custom:tenant: Attribute cannot be updated.\n",  # users.md 3.7
    )
    assert alice.attributes()["custom:tenant"] == "acme"


def test_unknown_attribute(alice: Account) -> None:
    assert refused(lambda: alice.update(**{"custom:nope": "1"})) == (
        "InvalidParameterException",
        "user.custom:nope: Attribute does not exist in the schema.\n",  # users.md §3
    )
    assert "custom:nope" not in alice.attributes()


def test_required_attribute_cannot_be_deleted(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(server, cognito, region, Schema=[{"Name": "email", "Required": True}])
    required = (
        "InvalidParameterException",
        "Invalid user attributes: email: Required attribute cannot be deleted.",  # §5.9
    )
    assert refused(lambda: account.update(email="")) == required
    assert refused(lambda: account.delete("email")) == required
    assert account.attributes()["email"] == "alice@example.com"
    # other attributes can be emptied: that deletes them
    assert account.update(given_name="") == {}
    assert "given_name" not in account.attributes()


def test_email_taken_in_an_email_username_pool(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        username="alice@example.com",
        attributes={"email_verified": "true"},
        UsernameAttributes=["email"],
    )
    new_user(cognito, account.pool_id, "bob@example.com", attributes={"email_verified": "true"})
    # §5.12: the message is not documented
    assert refused(lambda: account.update(email="bob@example.com"))[0] == "AliasExistsException"
    assert account.attributes()["email"] == "alice@example.com"


# ----------------------------------------------------------------------------- DeleteUserAttributes


def test_delete_user_attributes(alice: Account) -> None:
    assert alice.delete("given_name") == {}  # §6.1
    values = alice.attributes()
    assert "given_name" not in values
    assert values["email"] == "alice@example.com"
    # the email goes with its verification flag
    alice.delete("email")
    values = alice.attributes()
    assert "email" not in values
    assert "email_verified" not in values
    # §6.2 (users.md 3.11): attributes not set are no error, nor is an empty list
    assert alice.delete("nickname") == {}
    assert alice.delete() == {}
    assert set(alice.attributes()) == {"sub", "custom:tenant"}
    # and the deletions are in the next ID token
    identity = alice.refreshed_id_token()
    assert "email" not in identity
    assert "given_name" not in identity


def test_deleting_an_attribute_outside_the_schema_is_no_error(alice: Account) -> None:
    assert alice.delete("custom:nope") == {}
    assert alice.delete("given_name", "custom:nope") == {}
    assert "given_name" not in alice.attributes()


def test_deleting_the_email_alias_frees_it(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(server, cognito, region, AliasAttributes=["email"])
    sign_in(account.public, account.client_id, "alice@example.com")
    account.delete("email")
    assert account.sign_in_error("alice@example.com") == USER_GONE
    new_user(
        cognito,
        account.pool_id,
        "bob",
        attributes={"email": "alice@example.com", "email_verified": "true"},
    )
    tokens = sign_in(account.public, account.client_id, "alice@example.com")
    assert claims(tokens["AccessToken"])["username"] == "bob"


# ----------------------------------------------------------------------------- verification codes


def test_get_verification_code_for_email(alice: Account) -> None:
    alice.update(email="new@example.net")
    alice.request_code("email")
    first, second = alice.outbox()
    response = alice.request_code("email")
    assert response == {"CodeDeliveryDetails": email_details("n***@e***")}
    third = alice.outbox()[-1]
    assert (third["channel"], third["destination"]) == ("EMAIL", "new@example.net")
    assert third["body"] == f"Your verification code is {third['code']}. "
    assert len({first["id"], second["id"], third["id"]}) == 3
    alice.verify("email", third["code"])
    assert alice.attributes()["email_verified"] == "true"


def test_get_verification_code_for_phone_number(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        SmsConfiguration=SMS_CONFIGURATION,
        attributes={"phone_number": "+15555550123"},
    )
    assert account.request_code("phone_number") == {
        "CodeDeliveryDetails": sms_details("+*******0123")
    }
    (message,) = account.outbox()
    assert (message["channel"], message["destination"]) == ("SMS", "+15555550123")
    assert message["body"] == f"Your verification code is {message['code']}. "
    assert account.verify("phone_number", message["code"]) == {}
    values = account.attributes()
    assert values["phone_number_verified"] == "true"


@pytest.mark.parametrize("name", ["given_name", "sub", "email_verified", "custom:tenant"])
def test_only_email_and_phone_can_be_verified(alice: Account, name: str) -> None:
    assert refused(lambda: alice.request_code(name)) == NOT_VERIFIABLE  # §5.6
    assert refused(lambda: alice.verify(name, "123456")) == NOT_VERIFIABLE
    assert alice.outbox() == []


def test_verify_user_attribute_codes(alice: Account) -> None:
    alice.update(email="new@example.net")
    code = alice.code()
    assert refused(lambda: alice.verify("email", other_code(code))) == MISMATCH  # §5.8
    assert alice.attributes()["email_verified"] == "false"
    alice.verify("email", code)
    assert alice.attributes()["email_verified"] == "true"
    # used up
    assert refused(lambda: alice.verify("email", code)) == EXPIRED


def test_verify_without_a_code_sent(alice: Account) -> None:
    assert refused(lambda: alice.verify("email", "123456")) == EXPIRED
    assert alice.attributes()["email_verified"] == "true"


def test_a_code_for_one_attribute_does_not_verify_another(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        SmsConfiguration=SMS_CONFIGURATION,
        attributes={"email": "alice@example.com", "phone_number": "+15555550123"},
    )
    account.request_code("email")
    code = account.code()
    assert refused(lambda: account.verify("phone_number", code)) == EXPIRED
    assert account.attributes().get("phone_number_verified") != "true"
    account.verify("email", code)
    assert account.attributes()["email_verified"] == "true"


def test_a_superseded_verification_code_is_expired(alice: Account) -> None:
    alice.update(email="new@example.net")
    first = second = alice.code()
    while second == first:
        alice.request_code("email")
        second = alice.code()
    assert refused(lambda: alice.verify("email", first)) == EXPIRED
    alice.verify("email", second)


def test_verification_code_lives_a_day(alice: Account, clock: ShiftedClock) -> None:
    alice.update(email="new@example.net")
    code = alice.code()
    clock.shift(hours=23, minutes=50)
    alice.tokens = sign_in(alice.public, alice.client_id, "alice")  # the first token expired
    assert refused(lambda: alice.verify("email", other_code(code))) == MISMATCH
    clock.shift(minutes=11)
    assert refused(lambda: alice.verify("email", code)) == EXPIRED  # §0.9: 24 hours
    assert alice.attributes()["email_verified"] == "false"
    alice.request_code("email")
    alice.verify("email", alice.code())
    assert alice.attributes()["email_verified"] == "true"


# ----------------------------------------------------------------------------- DeleteUser


def test_delete_user(alice: Account, cognito: Any) -> None:
    assert body(alice.public.delete_user(AccessToken=alice.access)) == {}
    assert refused(lambda: alice.public.get_user(AccessToken=alice.access)) == USER_GONE
    assert refused(alice.refreshed_id_token) == USER_GONE  # auth.md: refresh after deletion
    assert (
        refused(lambda: cognito.admin_get_user(UserPoolId=alice.pool_id, Username="alice"))
        == USER_GONE
    )
    # the username (and the email) can be signed up again
    response = alice.public.sign_up(
        ClientId=alice.client_id,
        Username="alice",
        Password=PASSWORD,
        UserAttributes=[
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "custom:tenant", "Value": "other"},
        ],
    )
    assert response["UserConfirmed"] is False
    again = cognito.admin_get_user(UserPoolId=alice.pool_id, Username="alice")
    assert again["UserStatus"] == "UNCONFIRMED"
    assert attributes_of(again)["sub"] == response["UserSub"] != claims(alice.access)["sub"]
    # the old tokens do not become the new user's
    assert refused(lambda: alice.public.get_user(AccessToken=alice.access)) == USER_GONE


def test_delete_user_in_an_email_username_pool_frees_the_email(
    server: CognateServer, cognito: Any, region: str
) -> None:
    account = make_account(
        server,
        cognito,
        region,
        username="alice@example.com",
        attributes={"email_verified": "true"},
        UsernameAttributes=["email"],
    )
    account.public.delete_user(AccessToken=account.access)
    response = account.public.sign_up(
        ClientId=account.client_id, Username="alice@example.com", Password=PASSWORD
    )
    assert response["UserSub"] != account.username
    assert response["CodeDeliveryDetails"] == email_details("a***@e***")


# ----------------------------------------------------------------------------- token checks


SELF_SERVICE: dict[str, Callable[[Account, str], Any]] = {
    "UpdateUserAttributes": lambda a, token: a.public.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "given_name", "Value": "Mallory"}]
    ),
    "DeleteUserAttributes": lambda a, token: a.public.delete_user_attributes(
        AccessToken=token, UserAttributeNames=["given_name"]
    ),
    "GetUserAttributeVerificationCode": lambda a, token: (
        a.public.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    ),
    "VerifyUserAttribute": lambda a, token: a.public.verify_user_attribute(
        AccessToken=token, AttributeName="email", Code="123456"
    ),
    "DeleteUser": lambda a, token: a.public.delete_user(AccessToken=token),
}


@pytest.mark.parametrize("operation", list(SELF_SERVICE))
def test_revoked_access_token_is_refused(alice: Account, operation: str) -> None:
    alice.public.global_sign_out(AccessToken=alice.access)
    assert refused(lambda: SELF_SERVICE[operation](alice, alice.access)) == REVOKED
    values = alice.admin_attributes()
    assert values["given_name"] == "Alice"
    assert alice.outbox() == []


@pytest.mark.parametrize("operation", list(SELF_SERVICE))
@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
)
def test_invalid_access_token_is_refused(alice: Account, operation: str, token: str) -> None:
    assert refused(lambda: SELF_SERVICE[operation](alice, token)) == INVALID_TOKEN
    assert alice.admin_attributes()["given_name"] == "Alice"
    assert alice.outbox() == []
