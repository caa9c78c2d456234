"""Tests of accounts.py against a real Cognito-compatible server: the `cognate` fixture
(installed with Cognate) starts one per session and gives each test a region of its own.
"""

from __future__ import annotations

import time

import pytest
from accounts import Accounts, cognito_client
from botocore.exceptions import ClientError

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def accounts(cognate):
    pool = cognate.create_pool()  # emails auto-verified: sign-up sends a code
    client = cognate.create_client(pool)
    app = Accounts(cognito_client(**cognate.client_kwargs), client["ClientId"])
    app.pool = pool
    return app


def test_sign_up_confirm_and_sign_in(cognate, accounts):
    accounts.register("ana@example.com", PASSWORD)
    code = cognate.last_code(accounts.pool, "ana@example.com")  # the emailed code
    accounts.confirm("ana@example.com", code)

    tokens = accounts.sign_in("ana@example.com", PASSWORD)
    assert accounts.email_of(tokens["AccessToken"]) == "ana@example.com"


def test_sign_in_retries_when_throttled(cognate, accounts):
    cognate.create_user(accounts.pool, "bo@example.com", PASSWORD, {"email": "bo@example.com"})
    throttled = cognate.fault("InitiateAuth", "TooManyRequestsException", times=2)

    assert accounts.sign_in("bo@example.com", PASSWORD)["AccessToken"]
    assert throttled.hits == 2  # two refused attempts, the third got in


def test_sign_in_gives_up_after_three_attempts(cognate, accounts):
    cognate.create_user(accounts.pool, "cy@example.com", PASSWORD, {"email": "cy@example.com"})
    throttled = cognate.fault("InitiateAuth", "TooManyRequestsException")  # until cleared

    with pytest.raises(ClientError) as raised:
        accounts.sign_in("cy@example.com", PASSWORD)
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.hits == 3


def test_slow_sign_in_still_works(cognate, accounts):
    cognate.create_user(accounts.pool, "di@example.com", PASSWORD, {"email": "di@example.com"})
    cognate.fault("InitiateAuth", latency_ms=500, times=1)

    started = time.monotonic()
    assert accounts.sign_in("di@example.com", PASSWORD)["AccessToken"]
    assert time.monotonic() - started >= 0.5


def test_confirmation_code_expires_after_a_day(cognate, accounts):
    accounts.register("ed@example.com", PASSWORD)
    code = cognate.last_code(accounts.pool, "ed@example.com")
    cognate.clock.advance(hours=24, seconds=1)

    with pytest.raises(ClientError) as raised:
        accounts.confirm("ed@example.com", code)
    assert raised.value.response["Error"]["Code"] == "ExpiredCodeException"


def test_access_token_expires_after_an_hour(cognate, accounts):
    cognate.create_user(accounts.pool, "fa@example.com", PASSWORD, {"email": "fa@example.com"})
    tokens = accounts.sign_in("fa@example.com", PASSWORD)
    cognate.clock.advance(hours=1, seconds=1)

    with pytest.raises(ClientError) as raised:
        accounts.email_of(tokens["AccessToken"])
    assert raised.value.response["Error"]["Code"] == "NotAuthorizedException"
