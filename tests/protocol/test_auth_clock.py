"""Authentication rules that depend on time passing, on a server whose clock the test moves
(tests/support/clock.py): expired temporary passwords, challenge sessions, access and
refresh tokens, the SRP TIMESTAMP's day of month, and the lockout's doubling and
forgetting. No sleeping: the server's clock jumps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import POSTGRES_URL, make_client
from tests.support.auth import (
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    TEMPORARY_PASSWORD,
    WRONG_PASSWORD,
    Srp,
    claims,
    cognito_timestamp,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.clock import ShiftedClock
from tests.support.server import CognateServer, postgres_database, start_server

ATTEMPTS_EXCEEDED = ("NotAuthorizedException", "Password attempts exceeded")
EXPIRED_TEMPORARY = (
    "NotAuthorizedException",
    "Temporary password has expired and must be reset by an administrator.",
)
EXPIRED_SESSION = ("NotAuthorizedException", "Invalid session for the user, session is expired.")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"clocked-{request.param}")
    clock = ShiftedClock(workdir)
    if request.param == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", env=clock.env()) as srv:
            yield srv, clock
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with (
        postgres_database(POSTGRES_URL) as url,
        start_server(workdir, db=url, env=clock.env()) as srv,
    ):
        yield srv, clock


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def cognito(clocked: tuple[CognateServer, ShiftedClock], region: str) -> Any:
    return make_client(clocked[0].endpoint, region)


@pytest.fixture
def pool_id(cognito: Any) -> str:
    return new_pool(cognito, "clocked")


@pytest.fixture
def client_id(cognito: Any, pool_id: str) -> str:
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return client_id


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def refresh(cognito: Any, client_id: str, token: str) -> dict[str, Any]:
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
    )["AuthenticationResult"]
    return result


def test_the_server_clock_moves(
    cognito: Any, clock: ShiftedClock, client_id: str, pool_id: str
) -> None:
    new_user(cognito, pool_id)
    before = claims(sign_in(cognito, client_id)["AccessToken"])["iat"]
    clock.shift(days=3)
    after = claims(sign_in(cognito, client_id)["AccessToken"])["iat"]
    assert abs(after - before - 3 * 86400) < 60


# ----------------------------------------------------------------------------- temporary password


def test_expired_temporary_password(cognito: Any, clock: ShiftedClock) -> None:
    pool_id = new_pool(
        cognito, "temporary", Policies={"PasswordPolicy": {"TemporaryPasswordValidityDays": 2}}
    )
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "bob", None)
    clock.shift(days=1)
    assert password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)["ChallengeName"] == (
        "NEW_PASSWORD_REQUIRED"
    )
    clock.shift(days=1, minutes=1)
    assert refused(lambda: password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)) == (
        EXPIRED_TEMPORARY
    )
    assert refused(lambda: srp_run(cognito, pool_id, client_id, clock)) == EXPIRED_TEMPORARY
    # a wrong password is still just a wrong password
    assert refused(lambda: password_auth(cognito, client_id, "bob", WRONG_PASSWORD)) == INCORRECT
    # the administrator sets a new temporary password: it is good for two more days
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="bob", Password=TEMPORARY_PASSWORD, Permanent=False
    )
    challenge = password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_default_temporary_password_validity_is_seven_days(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id, "bob", None)
    clock.shift(days=6, hours=23)
    assert password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)["ChallengeName"] == (
        "NEW_PASSWORD_REQUIRED"
    )
    clock.shift(hours=2)
    assert refused(lambda: password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)) == (
        EXPIRED_TEMPORARY
    )


def srp_run(cognito: Any, pool_id: str, client_id: str, clock: ShiftedClock) -> dict[str, Any]:
    """SRP for bob with the temporary password, timestamped with the server's time."""
    srp = Srp(cognito, pool_id, client_id, "bob", TEMPORARY_PASSWORD)
    started = srp.initiate()
    return srp.respond(
        srp.responses(started["ChallengeParameters"], timestamp=cognito_timestamp(clock.now()))
    )


# ----------------------------------------------------------------------------- SRP timestamp


def test_zero_padded_day_is_a_wrong_proof(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    # move the server to the 5th of a month, at this time of day
    now = dt.datetime.now(dt.UTC)
    target = now.replace(day=5)
    if target <= now:
        target = (now.replace(day=1) + dt.timedelta(days=32)).replace(day=5)
    clock.shift(seconds=(target - now).total_seconds())
    server_now = clock.now()
    assert server_now.day == 5
    padded = f"{server_now:%a %b %d %H:%M:%S} UTC {server_now:%Y}"
    assert " 05 " in padded
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    answer = srp.responses(started["ChallengeParameters"], timestamp=padded)
    assert refused(lambda: srp.respond(answer)) == INCORRECT
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    answer = srp.responses(started["ChallengeParameters"], timestamp=cognito_timestamp(server_now))
    assert "AccessToken" in srp.respond(answer)["AuthenticationResult"]


def test_timestamp_far_from_the_server_time_fails(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    clock.shift(hours=2)
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    # the client's own clock, two hours behind the server's
    stale = cognito_timestamp(dt.datetime.now(dt.UTC))
    answer = srp.responses(started["ChallengeParameters"], timestamp=stale)
    assert refused(lambda: srp.respond(answer)) == INCORRECT


# ----------------------------------------------------------------------------- challenge sessions


def test_challenge_session_expires(cognito: Any, clock: ShiftedClock, pool_id: str) -> None:
    default = new_client(cognito, pool_id)["ClientId"]
    patient = new_client(cognito, pool_id, AuthSessionValidity=15)["ClientId"]
    new_user(cognito, pool_id, "bob", None)
    new_user(cognito, pool_id, "carl", None)
    short = password_auth(cognito, default, "bob", TEMPORARY_PASSWORD)["Session"]
    long = password_auth(cognito, patient, "carl", TEMPORARY_PASSWORD)["Session"]

    def answer(client_id: str, session: str, username: str) -> dict[str, Any]:
        response: dict[str, Any] = cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": NEW_PASSWORD},
        )
        return response

    clock.shift(minutes=3, seconds=10)  # the default AuthSessionValidity is 3 minutes
    assert refused(lambda: answer(default, short, "bob")) == EXPIRED_SESSION
    clock.shift(minutes=10)
    assert "AccessToken" in answer(patient, long, "carl")["AuthenticationResult"]


def test_srp_secret_block_expires(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    clock.shift(minutes=4)
    answer = srp.responses(started["ChallengeParameters"], timestamp=cognito_timestamp(clock.now()))
    assert refused(lambda: srp.respond(answer))[0] == "NotAuthorizedException"


# ----------------------------------------------------------------------------- tokens


def test_access_token_expires(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    signed_in = sign_in(cognito, client_id)
    clock.shift(minutes=59)
    assert cognito.get_user(AccessToken=signed_in["AccessToken"])["Username"] == "alice"
    clock.shift(minutes=1, seconds=5)
    assert refused(lambda: cognito.get_user(AccessToken=signed_in["AccessToken"])) == (
        "NotAuthorizedException",
        "Access Token has expired",
    )
    # the refresh token outlives it; auth_time stays the sign-in's
    renewed = refresh(cognito, client_id, signed_in["RefreshToken"])
    first, second = claims(signed_in["AccessToken"]), claims(renewed["AccessToken"])
    assert second["auth_time"] == first["auth_time"]
    assert second["iat"] - first["iat"] >= 3600
    assert claims(renewed["IdToken"])["auth_time"] == first["auth_time"]
    assert cognito.get_user(AccessToken=renewed["AccessToken"])["Username"] == "alice"


def test_short_access_tokens_expire_sooner(cognito: Any, clock: ShiftedClock, pool_id: str) -> None:
    client_id = new_client(
        cognito,
        pool_id,
        AccessTokenValidity=5,
        TokenValidityUnits={"AccessToken": "minutes"},
    )["ClientId"]
    new_user(cognito, pool_id)
    token = sign_in(cognito, client_id)["AccessToken"]
    clock.shift(minutes=5, seconds=5)
    assert refused(lambda: cognito.get_user(AccessToken=token)) == (
        "NotAuthorizedException",
        "Access Token has expired",
    )


def test_refresh_token_expires(cognito: Any, clock: ShiftedClock, pool_id: str) -> None:
    client_id = new_client(
        cognito,
        pool_id,
        RefreshTokenValidity=60,
        TokenValidityUnits={"RefreshToken": "minutes"},
    )["ClientId"]
    new_user(cognito, pool_id)
    token = sign_in(cognito, client_id)["RefreshToken"]
    clock.shift(minutes=59)
    assert "AccessToken" in refresh(cognito, client_id, token)
    clock.shift(minutes=2)
    assert refused(lambda: refresh(cognito, client_id, token))[0] == "NotAuthorizedException"
    assert refused(
        lambda: cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
    )[0] == ("NotAuthorizedException")


def test_rotation_grace_period_ends(cognito: Any, clock: ShiftedClock, pool_id: str) -> None:
    client_id = new_client(
        cognito,
        pool_id,
        ["ALLOW_USER_PASSWORD_AUTH"],
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
    )["ClientId"]
    new_user(cognito, pool_id)
    first = sign_in(cognito, client_id)["RefreshToken"]
    cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)
    clock.shift(seconds=20)
    cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)
    clock.shift(seconds=15)
    assert refused(
        lambda: cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)
    )[0] == ("RefreshTokenReuseException")


# ----------------------------------------------------------------------------- lockout


def wrong(cognito: Any, client_id: str) -> tuple[str, str]:
    return refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD))


def right(cognito: Any, client_id: str) -> tuple[str, str]:
    return refused(lambda: password_auth(cognito, client_id, password=PASSWORD))


def test_lockout_doubles(cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str) -> None:
    new_user(cognito, pool_id)
    for _ in range(5):
        assert wrong(cognito, client_id) == INCORRECT
    assert right(cognito, client_id) == ATTEMPTS_EXCEEDED  # 2^0 = 1 s
    clock.shift(seconds=1.1)
    assert wrong(cognito, client_id) == INCORRECT  # the sixth failure: 2 s
    clock.shift(seconds=1.1)
    assert right(cognito, client_id) == ATTEMPTS_EXCEEDED
    clock.shift(seconds=1)
    assert wrong(cognito, client_id) == INCORRECT  # the seventh: 4 s
    clock.shift(seconds=3.5)
    assert right(cognito, client_id) == ATTEMPTS_EXCEEDED
    clock.shift(seconds=0.7)
    assert "AccessToken" in sign_in(cognito, client_id)


def test_lockout_is_capped_at_about_fifteen_minutes(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    for _ in range(5):
        wrong(cognito, client_id)
    # fail again each time the lockout ends, up to the 20th failure (2^15 s uncapped)
    lockout = 1.0
    for _ in range(15):
        clock.shift(seconds=lockout + 0.1)
        assert wrong(cognito, client_id) == INCORRECT
        lockout = min(lockout * 2, 16 * 60)
    clock.shift(minutes=14)
    assert right(cognito, client_id) == ATTEMPTS_EXCEEDED
    clock.shift(minutes=2)
    assert "AccessToken" in sign_in(cognito, client_id)


def test_lockout_is_forgotten_after_fifteen_quiet_minutes(
    cognito: Any, clock: ShiftedClock, pool_id: str, client_id: str
) -> None:
    new_user(cognito, pool_id)
    for _ in range(5):
        wrong(cognito, client_id)
    clock.shift(minutes=16)
    # the count starts again: four failures do not lock out
    for _ in range(4):
        assert wrong(cognito, client_id) == INCORRECT
    assert "AccessToken" in sign_in(cognito, client_id)
