"""Setting email MFA up during sign-in through boto3, as Amplify JS v6 does it: in a pool
where MFA is required, a user without any factor gets MFA_SETUP listing EMAIL_OTP; the answer
{USERNAME, EMAIL: address} sends a code there and asks for it in an EMAIL_OTP challenge; the
right code (after a wrong one) signs the user in, makes the address their verified email and
turns email MFA on, so that the next sign-in asks for an email code directly. After
USER_PASSWORD_AUTH, USER_SRP_AUTH (pycognito) and ADMIN_USER_PASSWORD_AUTH (with
AdminRespondToAuthChallenge). Also the answers refused (email MFA not offered, a malformed
address, another user's verified alias) and what a user who already has an email address
or a phone number gets where MFA is required.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import claims, error
from tests.support.mfa import (
    EMAIL_MFA,
    FLOWS,
    MfaPool,
    assert_tokens,
    challenge_of,
    mfa_pool,
)
from tests.support.server import CognateServer

ADDRESS = "alice@example.com"
PHONE = "+15555551234"
MISMATCH = ("CodeMismatchException", "Invalid code or auth state for the user.")
USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)
EMAIL_SENT = {
    "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
    "CODE_DELIVERY_DESTINATION": "a***@e***",
    "USER_ID_FOR_SRP": "alice",
}
NOT_OFFERED = (
    "InvalidParameterException",
    "EMAIL_OTP is not one of the MFA types the user can set up (MFAS_CAN_SETUP).",
)
BAD_ADDRESS = ("InvalidParameterException", "Invalid email address format.")
TAKEN = ("AliasExistsException", "An account with the email already exists.")


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def other(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def attributes(pool: MfaPool, username: str = "alice") -> dict[str, str]:
    user = pool.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def mfa_settings(pool: MfaPool, username: str = "alice") -> dict[str, Any]:
    user = pool.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    return {k: user[k] for k in ("UserMFASettingList", "PreferredMfaSetting") if k in user}


@pytest.fixture
def required(server: CognateServer, cognito: Any) -> MfaPool:
    """A pool requiring MFA, offering TOTP and email MFA, with alice (no email, no MFA)."""
    pool = mfa_pool(server, cognito, "ON", email=True)
    pool.user("alice")
    return pool


# ----------------------------------------------------------------------------- setting it up


@pytest.mark.parametrize("flow", FLOWS)
def test_email_mfa_set_up_at_sign_in(required: MfaPool, flow: str) -> None:
    pool = required
    setup = pool.start(flow)
    parameters = challenge_of(setup, "MFA_SETUP")
    assert json.loads(parameters["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]
    assert pool.codes() == []
    challenge = pool.answer(setup, flow, EMAIL=ADDRESS)
    assert challenge_of(challenge, "EMAIL_OTP") == EMAIL_SENT
    assert challenge["Session"] != setup["Session"]
    [message] = pool.codes()
    code = pool.last_code()
    assert (message.channel, message.destination) == ("EMAIL", ADDRESS)
    assert (message.subject, message.body) == (EMAIL_MFA["Subject"], f"Your sign-in code: {code}")
    # nothing is set before the code comes back, and the set-up session served once
    assert "email" not in attributes(pool)
    assert mfa_settings(pool) == {}
    assert refused(lambda: pool.answer(setup, flow, EMAIL=ADDRESS)) == USED_SESSION
    assert refused(lambda: pool.answer(challenge, flow, EMAIL_OTP_CODE=other(code))) == MISMATCH
    assert "email" not in attributes(pool)
    done = pool.answer(challenge, flow, EMAIL_OTP_CODE=code)
    assert_tokens(done, pool.client_id)
    id_token = claims(done["AuthenticationResult"]["IdToken"])
    assert (id_token["email"], id_token["email_verified"]) == (ADDRESS, True)
    stored = attributes(pool)
    assert (stored["email"], stored["email_verified"]) == (ADDRESS, "true")
    assert mfa_settings(pool) == {
        "UserMFASettingList": ["EMAIL_OTP"],
        "PreferredMfaSetting": "EMAIL_OTP",
    }
    own = pool.cognito.get_user(AccessToken=done["AuthenticationResult"]["AccessToken"])
    assert (own["UserMFASettingList"], own["PreferredMfaSetting"]) == (["EMAIL_OTP"], "EMAIL_OTP")
    # the next sign-in asks for an email code straight away
    again = pool.start(flow)
    assert challenge_of(again, "EMAIL_OTP") == EMAIL_SENT
    assert len(pool.codes()) == 2
    assert_tokens(pool.answer(again, flow, EMAIL_OTP_CODE=pool.last_code()), pool.client_id)


def test_five_wrong_codes_spend_the_set_up(required: MfaPool) -> None:
    pool = required
    challenge = pool.answer(pool.start(), EMAIL=ADDRESS)
    code = pool.last_code()
    for _ in range(5):
        assert refused(lambda: pool.answer(challenge, EMAIL_OTP_CODE=other(code))) == MISMATCH
    spent = refused(lambda: pool.answer(challenge, EMAIL_OTP_CODE=code))
    assert spent[0] == "NotAuthorizedException"
    assert "email" not in attributes(pool)
    assert mfa_settings(pool) == {}
    # a new sign-in starts the set-up again
    challenge_of(pool.start(), "MFA_SETUP")


def test_a_totp_set_up_session_can_still_set_up_email(required: MfaPool) -> None:
    """AssociateSoftwareToken's session is an MFA_SETUP session too: the user may change
    their mind and give an email address instead."""
    setup = required.start()
    associated = required.cognito.associate_software_token(Session=setup["Session"])
    challenge = required.answer({**setup, "Session": associated["Session"]}, EMAIL=ADDRESS)
    assert challenge_of(challenge, "EMAIL_OTP") == EMAIL_SENT
    done = required.answer(challenge, EMAIL_OTP_CODE=required.last_code())
    assert_tokens(done, required.client_id)
    assert mfa_settings(required)["UserMFASettingList"] == ["EMAIL_OTP"]


# ----------------------------------------------------------------------------- refused answers


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_email_mfa_not_offered(server: CognateServer, cognito: Any, flow: str) -> None:
    pool = mfa_pool(server, cognito, "ON")  # TOTP only
    pool.user("alice")
    setup = pool.start(flow)
    assert json.loads(challenge_of(setup, "MFA_SETUP")["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    assert refused(lambda: pool.answer(setup, flow, EMAIL=ADDRESS)) == NOT_OFFERED
    assert pool.codes() == []
    # the session stays usable for the set-up the pool does offer
    associated = cognito.associate_software_token(Session=setup["Session"])
    assert associated["SecretCode"]


def test_a_malformed_address_can_be_corrected(required: MfaPool) -> None:
    setup = required.start()

    def give(address: str) -> Callable[[], Any]:
        return lambda: required.answer(setup, EMAIL=address)

    for address in ("not-an-address", "", "alice@"):
        assert refused(give(address)) == BAD_ADDRESS, address
    assert required.codes() == []
    challenge = required.answer(setup, EMAIL=ADDRESS)
    assert_tokens(
        required.answer(challenge, EMAIL_OTP_CODE=required.last_code()), required.client_id
    )


def test_another_users_verified_alias_is_refused(server: CognateServer, cognito: Any) -> None:
    pool = mfa_pool(server, cognito, "ON", email=True, AliasAttributes=["email"])
    pool.user("alice")
    pool.user("bob", email=ADDRESS, email_verified="true")
    pool.user("carol", email="carol@example.com")  # unverified: not her alias
    setup = pool.start()
    assert refused(lambda: pool.answer(setup, EMAIL=ADDRESS)) == TAKEN
    assert pool.codes() == []
    # the same session takes an address nobody signs in with, even one another user has
    challenge = pool.answer(setup, EMAIL="carol@example.com")
    challenge_of(challenge, "EMAIL_OTP")
    assert_tokens(pool.answer(challenge, EMAIL_OTP_CODE=pool.last_code()), pool.client_id)
    # now alice signs in with her verified address; carol's is no alias of anyone else's
    assert attributes(pool)["email_verified"] == "true"
    assert attributes(pool, "bob")["email_verified"] == "true"
    via_alias = pool.start(username="carol@example.com")
    assert challenge_of(via_alias, "EMAIL_OTP")["USER_ID_FOR_SRP"] == "alice"


# ----------------------------------------------------------------------------- already addressed


def test_required_mfa_with_an_email_address_is_email_mfa(
    server: CognateServer, cognito: Any
) -> None:
    """As with a phone number and SMS: a user with an email address and no MFA preference
    has email MFA where the pool requires MFA and offers it (the developer guide: "SMS and
    email message MFA require no additional configuration after your user adds an email
    address or phone number to their profile")."""
    pool = mfa_pool(server, cognito, "ON", sms=True, email=True)
    pool.user("alice", email=ADDRESS)
    pool.user("dan", email="dan@example.com", phone_number=PHONE)
    challenge = pool.start()
    assert challenge_of(challenge, "EMAIL_OTP") == EMAIL_SENT
    assert_tokens(pool.answer(challenge, EMAIL_OTP_CODE=pool.last_code()), pool.client_id)
    assert attributes(pool)["email_verified"] == "true"  # the code proved the address
    assert mfa_settings(pool) == {}  # no preference was stored: it is the pool's default
    # both addresses: both factors, none preferred, so the user chooses
    menu = pool.start(username="dan")
    assert challenge_of(menu, "SELECT_MFA_TYPE")["MFAS_CAN_CHOOSE"] == '["SMS_MFA","EMAIL_OTP"]'
    chosen = pool.answer(menu, username="dan", ANSWER="EMAIL_OTP")
    challenge_of(chosen, "EMAIL_OTP")
    done = pool.answer(chosen, username="dan", EMAIL_OTP_CODE=pool.last_code("dan"))
    assert_tokens(done, pool.client_id, "dan")


def test_optional_mfa_with_an_email_address_signs_in_directly(
    server: CognateServer, cognito: Any
) -> None:
    pool = mfa_pool(server, cognito, "OPTIONAL", email=True)
    pool.user("alice", email=ADDRESS)
    assert_tokens(pool.start(), pool.client_id)
