"""The MFA step of sign-in through boto3, after USER_PASSWORD_AUTH, USER_SRP_AUTH (pycognito)
and ADMIN_USER_PASSWORD_AUTH (with AdminRespondToAuthChallenge): SOFTWARE_TOKEN_MFA answered
with pyotp codes (each time step once, one step of drift either way), SMS_MFA and EMAIL_OTP
with the codes the server queued (read from its outbox), SELECT_MFA_TYPE when several factors
are enabled and none is preferred, MFA_SETUP in a pool where MFA is required (TOTP set up with
the challenge's session), wrong codes (CodeMismatchException, the same session answerable
again) and the pools and users that owe no MFA at all. Setting MFA up is test_mfa_setup.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import error
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import (
    BASE32,
    FLOWS,
    Authenticator,
    MfaPool,
    assert_tokens,
    challenge_of,
    mfa_pool,
    set_up_totp,
)
from tests.support.server import CognateServer

PHONE = "+15555551234"
MISMATCH = ("CodeMismatchException", "Invalid code or auth state for the user.")
INVALID_SESSION = ("NotAuthorizedException", "Invalid session for the user.")
USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)
SMS_SENT = {
    "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
    "CODE_DELIVERY_DESTINATION": "+*******1234",
    "USER_ID_FOR_SRP": "alice",
}
EMAIL_SENT = {
    "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
    "CODE_DELIVERY_DESTINATION": "a***@e***",
    "USER_ID_FOR_SRP": "alice",
}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"mfa-sign-in-{request.param}")
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
def optional(server: CognateServer, cognito: Any) -> MfaPool:
    """An OPTIONAL-MFA pool offering SMS and TOTP, with alice (a phone number, no MFA yet)."""
    pool = mfa_pool(server, cognito, "OPTIONAL", sms=True)
    pool.user("alice", phone_number=PHONE, email="alice@example.com")
    return pool


@pytest.fixture
def totp_user(optional: MfaPool, clock: ShiftedClock) -> Authenticator:
    """alice's authenticator ("alice's phone"), verified and her preferred factor."""
    return set_up_totp(optional.cognito, optional.access_token(), clock, name="alice's phone")


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def other(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def attribute(pool: MfaPool, name: str, username: str = "alice") -> str | None:
    user = pool.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    values = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return values.get(name)


def enable(pool: MfaPool, username: str = "alice", **settings: dict[str, bool]) -> None:
    pool.cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id, Username=username, **settings
    )


# ----------------------------------------------------------------------------- SOFTWARE_TOKEN_MFA


@pytest.mark.parametrize("flow", FLOWS)
def test_software_token_mfa(optional: MfaPool, totp_user: Authenticator, flow: str) -> None:
    challenge = optional.start(flow)
    assert challenge_of(challenge, "SOFTWARE_TOKEN_MFA") == {
        "FRIENDLY_DEVICE_NAME": "alice's phone",
        "USER_ID_FOR_SRP": "alice",
    }
    signed_in = optional.answer(challenge, flow, SOFTWARE_TOKEN_MFA_CODE=totp_user.code())
    assert_tokens(signed_in, optional.client_id)


@pytest.mark.parametrize("flow", FLOWS)
def test_wrong_totp_code_then_a_retry_on_the_same_session(
    optional: MfaPool, totp_user: Authenticator, flow: str
) -> None:
    challenge = optional.start(flow)
    code = totp_user.code()
    wrong = refused(lambda: optional.answer(challenge, flow, SOFTWARE_TOKEN_MFA_CODE=other(code)))
    assert wrong == MISMATCH
    assert_tokens(
        optional.answer(challenge, flow, SOFTWARE_TOKEN_MFA_CODE=code), optional.client_id
    )
    # a session that ended in tokens is used up
    again = refused(lambda: optional.answer(challenge, flow, SOFTWARE_TOKEN_MFA_CODE=code))
    assert again == USED_SESSION


def test_a_totp_code_is_accepted_once(optional: MfaPool, clock: ShiftedClock) -> None:
    access = optional.access_token()
    secret = optional.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    app = Authenticator(secret, clock)
    verify_code = app.code()
    optional.cognito.verify_software_token(AccessToken=access, UserCode=verify_code)
    enable(optional, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    # the code that verified the authenticator does not sign in
    challenge = optional.start()
    used = refused(lambda: optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=verify_code))
    assert used == MISMATCH
    code = app.code()
    assert_tokens(optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=code), optional.client_id)
    # nor does a code that signed in once
    second = optional.start()
    assert refused(lambda: optional.answer(second, SOFTWARE_TOKEN_MFA_CODE=code)) == MISMATCH


def test_totp_codes_one_step_away_are_accepted(
    optional: MfaPool, totp_user: Authenticator, clock: ShiftedClock
) -> None:
    clock.shift(seconds=3 * 30)  # three steps after the one that verified the authenticator
    challenge = optional.start()
    stale = refused(lambda: optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=totp_user.at(-2)))
    assert stale == MISMATCH
    previous = optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=totp_user.at(-1))
    assert_tokens(previous, optional.client_id)
    ahead = optional.answer(optional.start(), SOFTWARE_TOKEN_MFA_CODE=totp_user.at(1))
    assert_tokens(ahead, optional.client_id)
    # after a step ahead was used, the current one (earlier) is refused
    current = optional.start()
    assert (
        refused(lambda: optional.answer(current, SOFTWARE_TOKEN_MFA_CODE=totp_user.at(0)))
        == MISMATCH
    )


def test_answers_that_do_not_fit_the_challenge(optional: MfaPool, totp_user: Authenticator) -> None:
    challenge = optional.start()
    as_sms = {**challenge, "ChallengeName": "SMS_MFA"}
    assert refused(lambda: optional.answer(as_sms, SMS_MFA_CODE="123456")) == INVALID_SESSION
    # an answer to another challenge does not use the session up
    signed_in = optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=totp_user.code())
    assert_tokens(signed_in, optional.client_id)
    missing = refused(lambda: optional.answer(optional.start(), SMS_MFA_CODE="123456"))
    assert missing == (
        "InvalidParameterException",
        "Missing required parameter SOFTWARE_TOKEN_MFA_CODE",
    )


def test_an_answer_without_its_code_leaves_the_session_usable(
    optional: MfaPool, totp_user: Authenticator
) -> None:
    challenge = optional.start()
    missing = refused(lambda: optional.answer(challenge, SMS_MFA_CODE="123456"))
    assert missing[0] == "InvalidParameterException"
    signed_in = optional.answer(challenge, SOFTWARE_TOKEN_MFA_CODE=totp_user.code())
    assert_tokens(signed_in, optional.client_id)


def test_without_its_authenticator_sign_in_asks_for_another_factor(
    optional: MfaPool, totp_user: Authenticator
) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True})
    challenge_of(optional.start(), "SOFTWARE_TOKEN_MFA")  # TOTP is still the preferred factor
    optional.cognito.admin_delete_software_token(UserPoolId=optional.pool_id, Username="alice")
    assert challenge_of(optional.start(), "SMS_MFA") == SMS_SENT


# ----------------------------------------------------------------------------- SMS and email codes


@pytest.mark.parametrize("flow", FLOWS)
def test_sms_mfa(optional: MfaPool, flow: str) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    challenge = optional.start(flow)
    assert challenge_of(challenge, "SMS_MFA") == SMS_SENT
    [message] = optional.codes()
    assert (message.channel, message.destination) == ("SMS", PHONE)
    code = optional.last_code()
    assert message.body == f"Your code is {code}"  # the pool's SmsAuthenticationMessage
    assert attribute(optional, "phone_number_verified") is None
    assert_tokens(optional.answer(challenge, flow, SMS_MFA_CODE=code), optional.client_id)
    # the code reached the phone: its number is verified now
    assert attribute(optional, "phone_number_verified") == "true"


def test_wrong_sms_code_then_a_retry(optional: MfaPool) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True})
    challenge = optional.start("ADMIN_USER_PASSWORD_AUTH")
    code = optional.last_code()
    flow = "ADMIN_USER_PASSWORD_AUTH"
    assert refused(lambda: optional.answer(challenge, flow, SMS_MFA_CODE=other(code))) == MISMATCH
    assert len(optional.codes()) == 1  # a wrong answer sends no new code
    assert_tokens(optional.answer(challenge, flow, SMS_MFA_CODE=code), optional.client_id)


def test_five_wrong_codes_spend_the_session(optional: MfaPool) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True})
    challenge = optional.start()
    code = optional.last_code()
    for _ in range(5):
        assert refused(lambda: optional.answer(challenge, SMS_MFA_CODE=other(code))) == MISMATCH
    # the session is spent: even the right code is refused, and a new sign-in sends a new code
    assert refused(lambda: optional.answer(challenge, SMS_MFA_CODE=code)) == USED_SESSION
    again = optional.start()
    assert_tokens(optional.answer(again, SMS_MFA_CODE=optional.last_code()), optional.client_id)


def test_each_sign_in_sends_its_own_code(optional: MfaPool) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True})
    first = optional.start()
    first_code = optional.last_code()
    second = optional.start()
    second_code = optional.last_code()
    assert len(optional.codes()) == 2
    if first_code != second_code:  # one chance in a million that they are the same
        refused_first = refused(lambda: optional.answer(second, SMS_MFA_CODE=first_code))
        assert refused_first == MISMATCH
    assert_tokens(optional.answer(first, SMS_MFA_CODE=first_code), optional.client_id)
    assert_tokens(optional.answer(second, SMS_MFA_CODE=second_code), optional.client_id)


@pytest.mark.parametrize("flow", FLOWS)
def test_email_otp(server: CognateServer, cognito: Any, flow: str) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", email=True)
    pool.user("alice", email="alice@example.com")
    enable(pool, EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    challenge = pool.start(flow)
    assert challenge_of(challenge, "EMAIL_OTP") == EMAIL_SENT
    [message] = pool.codes()
    code = pool.last_code()
    assert (message.channel, message.destination) == ("EMAIL", "alice@example.com")
    assert (message.subject, message.body) == ("Sign-in code", f"Your sign-in code: {code}")
    wrong = refused(lambda: pool.answer(challenge, flow, EMAIL_OTP_CODE=other(code)))
    assert wrong == MISMATCH
    assert attribute(pool, "email_verified") is None  # a wrong code proves nothing
    assert_tokens(pool.answer(challenge, flow, EMAIL_OTP_CODE=code), pool.client_id)
    assert attribute(pool, "email_verified") == "true"


# ----------------------------------------------------------------------------- choosing a factor


@pytest.mark.parametrize("flow", FLOWS)
def test_select_mfa_type(optional: MfaPool, clock: ShiftedClock, flow: str) -> None:
    app = set_up_totp(optional.cognito, optional.access_token(), clock, prefer=False)
    enable(optional, SMSMfaSettings={"Enabled": True}, SoftwareTokenMfaSettings={"Enabled": True})
    menu = optional.start(flow)
    parameters = challenge_of(menu, "SELECT_MFA_TYPE")
    assert parameters == {
        "MFAS_CAN_CHOOSE": '["SMS_MFA","SOFTWARE_TOKEN_MFA"]',
        "USER_ID_FOR_SRP": "alice",
    }
    assert optional.codes() == []  # nothing is sent before the user chooses
    # a factor not on the menu is refused, and the menu stays answerable
    assert refused(lambda: optional.answer(menu, flow, ANSWER="EMAIL_OTP")) == (
        "InvalidParameterException",
        "Invalid MFA type: EMAIL_OTP",
    )
    totp = optional.answer(menu, flow, ANSWER="SOFTWARE_TOKEN_MFA")
    challenge_of(totp, "SOFTWARE_TOKEN_MFA")
    assert_tokens(
        optional.answer(totp, flow, SOFTWARE_TOKEN_MFA_CODE=app.code()), optional.client_id
    )
    # another sign-in chooses SMS: the code is sent then
    sms = optional.answer(optional.start(flow), flow, ANSWER="SMS_MFA")
    assert challenge_of(sms, "SMS_MFA") == SMS_SENT
    signed_in = optional.answer(sms, flow, SMS_MFA_CODE=optional.last_code())
    assert_tokens(signed_in, optional.client_id)


def test_a_preferred_factor_skips_the_choice(optional: MfaPool, totp_user: Authenticator) -> None:
    enable(optional, SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert challenge_of(optional.start(), "SMS_MFA") == SMS_SENT
    enable(optional, SoftwareTokenMfaSettings={"PreferredMfa": True})
    challenge_of(optional.start(), "SOFTWARE_TOKEN_MFA")


# ----------------------------------------------------------------------------- MFA required


@pytest.mark.parametrize("flow", FLOWS)
def test_mfa_setup(server: CognateServer, cognito: Any, clock: ShiftedClock, flow: str) -> None:
    pool = mfa_pool(server, cognito, "ON")
    pool.user("alice")
    setup = pool.start(flow)
    parameters = challenge_of(setup, "MFA_SETUP")
    assert "SOFTWARE_TOKEN_MFA" in json.loads(parameters["MFAS_CAN_SETUP"])
    assert parameters["USER_ID_FOR_SRP"] == "alice"
    associated = cognito.associate_software_token(Session=setup["Session"])
    assert set(associated) - {"ResponseMetadata"} == {"SecretCode", "Session"}
    assert BASE32.fullmatch(associated["SecretCode"])
    assert associated["Session"] != setup["Session"]
    # each step's session serves once
    reused = refused(lambda: cognito.associate_software_token(Session=setup["Session"]))
    assert reused == USED_SESSION
    app = Authenticator(associated["SecretCode"], clock)
    verified = cognito.verify_software_token(
        Session=associated["Session"], UserCode=app.code(), FriendlyDeviceName="alice's phone"
    )
    assert verified["Status"] == "SUCCESS"
    assert verified["Session"] not in (setup["Session"], associated["Session"])
    done = pool.answer({**setup, "Session": verified["Session"]}, flow)
    assert_tokens(done, pool.client_id)
    # TOTP became alice's MFA: the next sign-in asks for it
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="alice")
    assert (user["UserMFASettingList"], user["PreferredMfaSetting"]) == (
        ["SOFTWARE_TOKEN_MFA"],
        "SOFTWARE_TOKEN_MFA",
    )
    challenge = pool.start(flow)
    assert challenge_of(challenge, "SOFTWARE_TOKEN_MFA")["FRIENDLY_DEVICE_NAME"] == "alice's phone"
    assert_tokens(pool.answer(challenge, flow, SOFTWARE_TOKEN_MFA_CODE=app.code()), pool.client_id)


def test_mfa_setup_with_a_mistyped_code(
    server: CognateServer, cognito: Any, clock: ShiftedClock
) -> None:
    pool = mfa_pool(server, cognito, "ON")
    pool.user("alice")
    setup = pool.start()
    associated = cognito.associate_software_token(Session=setup["Session"])
    app = Authenticator(associated["SecretCode"], clock)
    code = app.code()
    mismatch = refused(
        lambda: cognito.verify_software_token(Session=associated["Session"], UserCode=other(code))
    )
    assert mismatch == (
        "EnableSoftwareTokenMFAException",
        "Code mismatch and fail enable Software Token MFA",
    )
    # answering MFA_SETUP with a session whose authenticator is not verified is refused
    premature = refused(lambda: pool.answer({**setup, "Session": associated["Session"]}))
    assert premature == INVALID_SESSION
    # the mistyped code left the session usable for the right one
    retry = pool.start()
    associated = cognito.associate_software_token(Session=retry["Session"])
    app = Authenticator(associated["SecretCode"], clock)
    code = app.code()
    with pytest.raises(ClientError):
        cognito.verify_software_token(Session=associated["Session"], UserCode=other(code))
    verified = cognito.verify_software_token(Session=associated["Session"], UserCode=code)
    assert_tokens(pool.answer({**retry, "Session": verified["Session"]}), pool.client_id)


def test_required_mfa_with_a_phone_number_is_sms(server: CognateServer, cognito: Any) -> None:
    pool = mfa_pool(server, cognito, "ON", sms=True)
    pool.user("alice", phone_number=PHONE)
    pool.user("bob")
    # no preference at all: a user with a phone number gets SMS MFA, one without sets MFA up
    challenge = pool.start()
    assert challenge_of(challenge, "SMS_MFA") == SMS_SENT
    assert_tokens(pool.answer(challenge, SMS_MFA_CODE=pool.last_code()), pool.client_id)
    challenge_of(pool.start(username="bob"), "MFA_SETUP")


# ----------------------------------------------------------------------------- no MFA due


@pytest.mark.parametrize("flow", FLOWS)
def test_optional_mfa_without_user_factors_signs_in_directly(optional: MfaPool, flow: str) -> None:
    assert_tokens(optional.start(flow), optional.client_id)


def test_mfa_off_ignores_the_users_factors(optional: MfaPool, totp_user: Authenticator) -> None:
    challenge_of(optional.start(), "SOFTWARE_TOKEN_MFA")
    optional.cognito.set_user_pool_mfa_config(UserPoolId=optional.pool_id, MfaConfiguration="OFF")
    assert_tokens(optional.start("USER_SRP_AUTH"), optional.client_id)
