"""Passwordless sign-in with one-time codes through boto3: USER_AUTH's EMAIL_OTP and SMS_OTP
first factors, preferred (PREFERRED_CHALLENGE) or chosen from SELECT_CHALLENGE, by
InitiateAuth and AdminInitiateAuth. Covered: the challenge and the message queued in the
outbox (an 8-digit email code, a 6-digit SMS code), wrong codes (CodeMismatchException, the
session can be answered again), codes bound to their session, expired sessions, which users
are offered the factors (verified email / phone, the pool's SignInPolicy, no code factors
where MFA is required), a one-time code standing in for MFA in an OPTIONAL pool, disabled
users, and (Admin)GetUserAuthFactors' ConfiguredUserAuthFactors.

The module's server has a clock the tests move (tests/support/clock.py): for TOTP codes and
session expiry, without sleeping. Passkeys (WEB_AUTHN) are test_passkeys.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import PASSWORD, error
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import assert_tokens, challenge_of, set_up_totp
from tests.support.server import CognateServer
from tests.support.user_auth import (
    EMAIL,
    PHONE,
    VERIFIED_EMAIL,
    VERIFIED_PHONE,
    ChoicePool,
    choice_pool,
    digits,
)

MISMATCH = ("CodeMismatchException", "Invalid code or auth state for the user.")
USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)
EXPIRED_SESSION = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
DISABLED = ("NotAuthorizedException", "User is disabled.")
CODE_KEY = {"EMAIL_OTP": "EMAIL_OTP_CODE", "SMS_OTP": "SMS_OTP_CODE"}
CODE_LENGTH = {"EMAIL_OTP": 8, "SMS_OTP": 6}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"passwordless-{request.param}")
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
def pool(server: CognateServer, cognito: Any) -> ChoicePool:
    """A pool allowing every first factor, with alice (a verified email and phone)."""
    made = choice_pool(server, cognito)
    made.user("alice", **VERIFIED_EMAIL, **VERIFIED_PHONE)
    return made


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def code_for(pool: ChoicePool, factor: str, username: str = "alice") -> str:
    return pool.last_code(username, CODE_LENGTH[factor])


def answer_code(
    pool: ChoicePool, challenge: dict[str, Any], code: str, *, admin: bool = False
) -> Any:
    key = CODE_KEY[challenge["ChallengeName"]]
    return pool.answer(challenge, admin=admin, **{key: code})


# ----------------------------------------------------------------------------- email codes


@pytest.mark.parametrize("admin", [False, True], ids=["public", "admin"])
def test_email_otp_preferred(pool: ChoicePool, admin: bool) -> None:
    challenge = pool.start(admin=admin, PREFERRED_CHALLENGE="EMAIL_OTP")
    parameters = challenge_of(challenge, "EMAIL_OTP")
    assert parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert parameters["CODE_DELIVERY_DESTINATION"] == "a***@e***"
    [message] = pool.codes()
    assert (message.channel, message.destination) == ("EMAIL", EMAIL)
    assert message.subject
    found = digits(8).findall(message.body)
    assert len(found) == 1, message.body
    done = answer_code(pool, challenge, found[0], admin=admin)
    assert_tokens(done, pool.client_id)
    assert "RefreshToken" in done["AuthenticationResult"]


def test_email_otp_from_the_menu(pool: ChoicePool) -> None:
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"]
    assert pool.codes() == []  # the menu sends nothing
    challenge = pool.select("EMAIL_OTP")
    challenge_of(challenge, "EMAIL_OTP")
    assert_tokens(answer_code(pool, challenge, code_for(pool, "EMAIL_OTP")), pool.client_id)


def test_wrong_code_and_retry(pool: ChoicePool) -> None:
    challenge = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    code = code_for(pool, "EMAIL_OTP")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    assert refused(lambda: answer_code(pool, challenge, wrong)) == MISMATCH
    assert refused(lambda: answer_code(pool, challenge, code[:6])) == MISMATCH
    # the same session can be answered again, with the right code
    assert_tokens(answer_code(pool, challenge, code), pool.client_id)
    assert refused(lambda: answer_code(pool, challenge, code)) == USED_SESSION
    assert len(pool.codes()) == 1  # no new code was sent for the retries


def test_a_code_belongs_to_its_sign_in(pool: ChoicePool) -> None:
    first = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    first_code = code_for(pool, "EMAIL_OTP")
    second = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    second_code = code_for(pool, "EMAIL_OTP")
    assert first_code != second_code
    assert refused(lambda: answer_code(pool, second, first_code)) == MISMATCH
    assert_tokens(answer_code(pool, first, first_code), pool.client_id)
    assert_tokens(answer_code(pool, second, second_code), pool.client_id)


def test_a_missing_code(pool: ChoicePool) -> None:
    challenge = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    assert refused(lambda: pool.answer(challenge)) == (
        "InvalidParameterException",
        "Missing required parameter EMAIL_OTP_CODE",
    )
    # the question is still open: the same session takes the code
    assert_tokens(answer_code(pool, challenge, code_for(pool, "EMAIL_OTP")), pool.client_id)


def test_code_session_expires(pool: ChoicePool, clock: ShiftedClock) -> None:
    challenge = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    code = code_for(pool, "EMAIL_OTP")
    clock.shift(minutes=3, seconds=5)  # the client's AuthSessionValidity: 3 minutes
    assert refused(lambda: answer_code(pool, challenge, code)) == EXPIRED_SESSION


# ----------------------------------------------------------------------------- SMS codes


@pytest.mark.parametrize("admin", [False, True], ids=["public", "admin"])
def test_sms_otp_preferred(pool: ChoicePool, admin: bool) -> None:
    challenge = pool.start(admin=admin, PREFERRED_CHALLENGE="SMS_OTP")
    parameters = challenge_of(challenge, "SMS_OTP")
    assert parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    masked = parameters["CODE_DELIVERY_DESTINATION"]
    assert masked.startswith("+*")
    assert masked.endswith("34")
    assert PHONE not in masked
    [message] = pool.codes()
    assert (message.channel, message.destination) == ("SMS", PHONE)
    found = digits(6).findall(message.body)
    assert len(found) == 1, message.body
    wrong = f"{(int(found[0]) + 1) % 10**6:06d}"
    assert refused(lambda: answer_code(pool, challenge, wrong, admin=admin)) == MISMATCH
    assert_tokens(answer_code(pool, challenge, found[0], admin=admin), pool.client_id)


def test_sms_otp_from_the_menu(pool: ChoicePool) -> None:
    challenge = pool.select("SMS_OTP")
    challenge_of(challenge, "SMS_OTP")
    assert_tokens(answer_code(pool, challenge, code_for(pool, "SMS_OTP")), pool.client_id)


# ----------------------------------------------------------------------------- who is offered codes


def test_unverified_email_and_phone_are_not_offered(pool: ChoicePool) -> None:
    pool.user("bob", email="bob@example.com", phone_number="+15555550100")
    assert pool.available("bob") == ["PASSWORD", "PASSWORD_SRP"]
    for factor in ("EMAIL_OTP", "SMS_OTP"):
        menu = pool.start("bob", PREFERRED_CHALLENGE=factor)  # not usable: the menu instead
        assert menu["ChallengeName"] == "SELECT_CHALLENGE"
        with pytest.raises(ClientError) as exc:
            pool.answer(menu, "bob", ANSWER=factor)
        assert error(exc)[0] == "InvalidParameterException"
    assert pool.codes("bob") == []
    # once the email is verified, email codes are offered
    pool.cognito.admin_update_user_attributes(
        UserPoolId=pool.pool_id,
        Username="bob",
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )
    assert pool.available("bob") == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]


def test_only_the_factors_the_pool_allows(server: CognateServer, cognito: Any) -> None:
    pool = choice_pool(server, cognito, ["PASSWORD", "SMS_OTP"])
    pool.user("alice", **VERIFIED_EMAIL, **VERIFIED_PHONE)
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP", "SMS_OTP"]
    menu = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    assert menu["ChallengeName"] == "SELECT_CHALLENGE"
    assert pool.codes() == []
    challenge_of(pool.start(PREFERRED_CHALLENGE="SMS_OTP"), "SMS_OTP")


def test_no_code_factors_where_mfa_is_required(pool: ChoicePool) -> None:
    pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP"]
    for factor in ("EMAIL_OTP", "SMS_OTP"):
        menu = pool.start(PREFERRED_CHALLENGE=factor)
        assert menu["ChallengeName"] == "SELECT_CHALLENGE"
        with pytest.raises(ClientError) as exc:
            pool.answer(menu, ANSWER=factor)
        assert error(exc)[0] == "InvalidParameterException"
    assert pool.codes() == []
    # the password still works, and leads to MFA
    password = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert password["ChallengeName"] == "SMS_MFA"  # alice has a phone number


def test_code_sign_in_skips_optional_mfa(pool: ChoicePool, clock: ShiftedClock) -> None:
    pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    app = set_up_totp(pool.cognito, pool.access_token(), clock)
    # a password sign-in owes the TOTP code
    password = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    challenge_of(password, "SOFTWARE_TOKEN_MFA")
    assert_tokens(pool.answer(password, SOFTWARE_TOKEN_MFA_CODE=app.code()), pool.client_id)
    # a one-time code is a sign-in of its own: no MFA challenge follows it
    for factor in ("EMAIL_OTP", "SMS_OTP"):
        challenge = pool.start(PREFERRED_CHALLENGE=factor)
        assert_tokens(answer_code(pool, challenge, code_for(pool, factor)), pool.client_id)


def test_disabled_user(pool: ChoicePool) -> None:
    menu = pool.start()  # the menu was shown before the user was disabled
    pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username="alice")
    assert refused(lambda: pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")) == DISABLED
    assert refused(lambda: pool.start(PREFERRED_CHALLENGE="SMS_OTP")) == DISABLED
    assert refused(lambda: pool.answer(menu, ANSWER="EMAIL_OTP")) == DISABLED
    assert pool.codes() == []


def test_disabled_after_the_code_was_sent(pool: ChoicePool) -> None:
    challenge = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username="alice")
    assert refused(lambda: answer_code(pool, challenge, code_for(pool, "EMAIL_OTP"))) == DISABLED


# ----------------------------------------------------------------------------- auth factors


def test_configured_auth_factors(pool: ChoicePool, server: CognateServer, cognito: Any) -> None:
    def factors(target: ChoicePool, username: str) -> list[str]:
        token = target.access_token(username)
        own = target.cognito.get_user_auth_factors(AccessToken=token)
        admin = target.cognito.admin_get_user_auth_factors(
            UserPoolId=target.pool_id, Username=username
        )
        assert own["ConfiguredUserAuthFactors"] == admin["ConfiguredUserAuthFactors"]
        found: list[str] = own["ConfiguredUserAuthFactors"]
        return found

    assert factors(pool, "alice") == ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]
    pool.user("bob", email="bob@example.com", phone_number="+15555550100")
    assert factors(pool, "bob") == ["PASSWORD"]
    # a pool allowing passwords only: verified contacts are no sign-in factors there
    password_only = choice_pool(server, cognito, ["PASSWORD"])
    password_only.user("alice", **VERIFIED_EMAIL, **VERIFIED_PHONE)
    assert factors(password_only, "alice") == ["PASSWORD"]
