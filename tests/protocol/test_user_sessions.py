"""Session tracking through boto3: the pool's and the app clients' session configuration,
ListUserSessions / AdminListUserSessions, RevokeUserSession / AdminRevokeUserSession and the
MaxPerUser limit.

Cognito's rules (API reference and developer guide, /work/research/auth.md section 9):
tracking is opt-in per pool (default DISABLED, MaxPerUser 20) and needs the Essentials or
Plus tier; a token session is one sign-in's refresh-token lineage; a user cannot revoke the
session their own access token belongs to; at the limit, the next sign-in evicts the least
recently used session.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import error, new_client, new_pool, new_user, sign_in

SESSION_ID = re.compile(r"tkn[a-z0-9]{25}")
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def track(cognito: Any, pool_id: str, max_per_user: int = 20) -> dict[str, Any]:
    return without_metadata(
        cognito.set_user_pool_session_configuration(
            UserPoolId=pool_id,
            UserSessionTracking="ENABLED",
            TokenSession={"MaxPerUser": max_per_user},
        )
    )


def refresh(cognito: Any, client_id: str, token: str) -> dict[str, Any]:
    result: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": token},
    )["AuthenticationResult"]
    return result


def current_session(cognito: Any, access_token: str) -> str:
    """The id of the session an access token belongs to."""
    sessions = cognito.list_user_sessions(AccessToken=access_token)["Sessions"]
    (current,) = [s for s in sessions if s.get("IsCurrentSession")]
    session_id: str = current["SessionId"]
    return session_id


@pytest.fixture
def pool_id(cognito: Any) -> str:
    return new_pool(cognito, "sessions")


@pytest.fixture
def client_id(cognito: Any, pool_id: str) -> str:
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return client_id


@pytest.fixture
def alice(cognito: Any, pool_id: str) -> str:
    return new_user(cognito, pool_id, "alice")


# ----------------------------------------------------------------------------- configuration


def test_pool_session_configuration(cognito: Any, pool_id: str, region: str) -> None:
    assert without_metadata(cognito.get_user_pool_session_configuration(UserPoolId=pool_id)) == {
        "UserPoolId": pool_id,
        "UserSessionTracking": "DISABLED",
        "TokenSession": {"MaxPerUser": 20},
    }
    enabled = {
        "UserPoolId": pool_id,
        "UserSessionTracking": "ENABLED",
        "TokenSession": {"MaxPerUser": 5},
    }
    assert track(cognito, pool_id, 5) == enabled
    got = cognito.get_user_pool_session_configuration(UserPoolId=pool_id)
    assert without_metadata(got) == enabled
    # a full replacement
    disabled = cognito.set_user_pool_session_configuration(
        UserPoolId=pool_id, UserSessionTracking="DISABLED", TokenSession={"MaxPerUser": 30}
    )
    assert without_metadata(disabled) == {
        "UserPoolId": pool_id,
        "UserSessionTracking": "DISABLED",
        "TokenSession": {"MaxPerUser": 30},
    }
    missing = f"{region}_AAAAAAAAA"
    assert refused(lambda: cognito.get_user_pool_session_configuration(UserPoolId=missing)) == (
        "ResourceNotFoundException",
        f"User pool {missing} does not exist.",
    )


def test_max_per_user_range(raw: Any, pool_id: str) -> None:
    for bad in (0, 101):
        code, message = refused(
            lambda bad=bad: raw.set_user_pool_session_configuration(
                UserPoolId=pool_id, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": bad}
            )
        )
        assert code == "InvalidParameterException"
        assert "tokenSession.maxPerUser" in message


def test_lite_tier_has_no_session_tracking(cognito: Any) -> None:
    lite = new_pool(cognito, "lite", UserPoolTier="LITE")
    code, _message = refused(
        lambda: cognito.set_user_pool_session_configuration(
            UserPoolId=lite, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": 20}
        )
    )
    assert code == "FeatureUnavailableInTierException"
    got = cognito.get_user_pool_session_configuration(UserPoolId=lite)
    assert got["UserSessionTracking"] == "DISABLED"


def test_client_session_configuration(cognito: Any, pool_id: str, client_id: str) -> None:
    assert without_metadata(
        cognito.get_user_pool_client_session_configuration(UserPoolId=pool_id, ClientId=client_id)
    ) == {"UserPoolId": pool_id, "ClientId": client_id, "SSOSession": {"MaxValidityMinutes": 60}}

    def set_minutes(minutes: int) -> dict[str, Any]:
        return without_metadata(
            cognito.set_user_pool_client_session_configuration(
                UserPoolId=pool_id,
                ClientId=client_id,
                SSOSession={"MaxValidityMinutes": minutes},
            )
        )

    assert refused(lambda: set_minutes(120))[0] == "OperationNotEnabledException"
    track(cognito, pool_id)
    expected = {
        "UserPoolId": pool_id,
        "ClientId": client_id,
        "SSOSession": {"MaxValidityMinutes": 120},
    }
    assert set_minutes(120) == expected
    got = cognito.get_user_pool_client_session_configuration(UserPoolId=pool_id, ClientId=client_id)
    assert without_metadata(got) == expected
    assert set_minutes(0)["SSOSession"] == {"MaxValidityMinutes": 0}
    missing = "a" * 26
    assert (
        refused(
            lambda: cognito.get_user_pool_client_session_configuration(
                UserPoolId=pool_id, ClientId=missing
            )
        )[0]
        == "ResourceNotFoundException"
    )


# ----------------------------------------------------------------------------- listing


def test_session_operations_need_tracking(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    token = sign_in(cognito, client_id)["AccessToken"]
    session_id = "tkn" + "a" * 25
    for call in (
        lambda: cognito.list_user_sessions(AccessToken=token),
        lambda: cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice"),
        lambda: cognito.revoke_user_session(AccessToken=token, SessionId=session_id),
        lambda: cognito.admin_revoke_user_session(
            UserPoolId=pool_id, Username="alice", SessionId=session_id
        ),
    ):
        assert refused(call)[0] == "OperationNotEnabledException"


def test_list_user_sessions(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    track(cognito, pool_id)
    other_client = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "bob")
    before = dt.datetime.now(dt.UTC)
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    three = sign_in(cognito, other_client)
    bob = sign_in(cognito, client_id, "bob")

    listed = cognito.list_user_sessions(AccessToken=one["AccessToken"])
    assert "NextToken" not in listed
    sessions = listed["Sessions"]
    assert len(sessions) == 3  # one per sign-in, bob's not among them
    for session in sessions:
        assert SESSION_ID.fullmatch(session["SessionId"])
        assert session["SessionType"] == "TOKEN"
        assert abs(session["CreateDate"] - before) < dt.timedelta(minutes=1)
        assert session["LastActiveDate"] >= session["CreateDate"]
        assert isinstance(session["IsCurrentSession"], bool)
    assert len({s["SessionId"] for s in sessions}) == 3
    assert sorted(s["ClientId"] for s in sessions) == sorted([client_id, client_id, other_client])
    # the caller's own session, and only it, is current
    assert [s["IsCurrentSession"] for s in sessions].count(True) == 1
    ids = {
        name: current_session(cognito, tokens["AccessToken"])
        for name, tokens in (("one", one), ("two", two), ("three", three))
    }
    assert len(set(ids.values())) == 3
    assert {s["SessionId"] for s in sessions} == set(ids.values())
    by_id = {s["SessionId"]: s for s in sessions}
    assert by_id[ids["three"]]["ClientId"] == other_client
    # a refreshed access token belongs to the same session
    renewed = refresh(cognito, client_id, one["RefreshToken"])
    assert current_session(cognito, renewed["AccessToken"]) == ids["one"]
    # bob sees his own only
    (bobs,) = cognito.list_user_sessions(AccessToken=bob["AccessToken"])["Sessions"]
    assert bobs["SessionId"] not in ids.values()
    assert bobs["IsCurrentSession"] is True

    admin = cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")["Sessions"]
    assert {s["SessionId"] for s in admin} == set(ids.values())
    assert all(s.get("IsCurrentSession") is not True for s in admin)
    assert refused(
        lambda: cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="ghost")
    ) == ("UserNotFoundException", "User does not exist.")


def test_revoked_sessions_are_not_listed(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    track(cognito, pool_id)
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    cognito.revoke_token(ClientId=client_id, Token=two["RefreshToken"])
    sessions = cognito.list_user_sessions(AccessToken=one["AccessToken"])["Sessions"]
    assert [s["IsCurrentSession"] for s in sessions] == [True]
    cognito.global_sign_out(AccessToken=one["AccessToken"])
    assert cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")["Sessions"] == []
    assert refused(lambda: cognito.list_user_sessions(AccessToken=one["AccessToken"])) == (
        ACCESS_REVOKED
    )


def test_sessions_from_before_tracking_are_not_listed(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    sign_in(cognito, client_id)
    track(cognito, pool_id)
    after = sign_in(cognito, client_id)
    sessions = cognito.list_user_sessions(AccessToken=after["AccessToken"])["Sessions"]
    assert len(sessions) == 1


# ----------------------------------------------------------------------------- revoking


def test_revoke_user_session(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    track(cognito, pool_id)
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    own, other = (
        current_session(cognito, one["AccessToken"]),
        current_session(cognito, two["AccessToken"]),
    )
    # not the session of the calling access token
    refused(lambda: cognito.revoke_user_session(AccessToken=one["AccessToken"], SessionId=own))
    assert cognito.get_user(AccessToken=one["AccessToken"])["Username"] == "alice"
    response = cognito.revoke_user_session(AccessToken=one["AccessToken"], SessionId=other)
    assert set(response) == {"ResponseMetadata"}
    assert refused(lambda: cognito.get_user(AccessToken=two["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(cognito, client_id, two["RefreshToken"])) == REFRESH_REVOKED
    sessions = cognito.list_user_sessions(AccessToken=one["AccessToken"])["Sessions"]
    assert [s["SessionId"] for s in sessions] == [own]
    assert "AccessToken" in refresh(cognito, client_id, one["RefreshToken"])
    # unknown, or already revoked
    for session_id in (other, "tkn" + "0" * 25):
        assert (
            refused(
                lambda session_id=session_id: cognito.revoke_user_session(
                    AccessToken=one["AccessToken"], SessionId=session_id
                )
            )[0]
            == "ResourceNotFoundException"
        )


def test_revoke_user_session_of_another_user(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    track(cognito, pool_id)
    new_user(cognito, pool_id, "bob")
    mine = sign_in(cognito, client_id)
    bob = sign_in(cognito, client_id, "bob")
    bobs = current_session(cognito, bob["AccessToken"])
    refused(lambda: cognito.revoke_user_session(AccessToken=mine["AccessToken"], SessionId=bobs))
    refused(
        lambda: cognito.admin_revoke_user_session(
            UserPoolId=pool_id, Username="alice", SessionId=bobs
        )
    )
    assert cognito.get_user(AccessToken=bob["AccessToken"])["Username"] == "bob"
    assert "AccessToken" in refresh(cognito, client_id, bob["RefreshToken"])


def test_admin_revoke_user_session(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    track(cognito, pool_id)
    one = sign_in(cognito, client_id)
    two = sign_in(cognito, client_id)
    target = current_session(cognito, one["AccessToken"])
    response = cognito.admin_revoke_user_session(
        UserPoolId=pool_id, Username="alice", SessionId=target
    )
    assert set(response) == {"ResponseMetadata"}
    assert refused(lambda: cognito.get_user(AccessToken=one["AccessToken"])) == ACCESS_REVOKED
    assert refused(lambda: refresh(cognito, client_id, one["RefreshToken"])) == REFRESH_REVOKED
    remaining = cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")["Sessions"]
    assert [s["SessionId"] for s in remaining] == [current_session(cognito, two["AccessToken"])]
    assert refused(
        lambda: cognito.admin_revoke_user_session(
            UserPoolId=pool_id, Username="ghost", SessionId=target
        )
    ) == ("UserNotFoundException", "User does not exist.")


# ----------------------------------------------------------------------------- limit


def test_max_per_user_evicts_the_least_recently_used(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    track(cognito, pool_id, max_per_user=2)
    first = sign_in(cognito, client_id)
    second = sign_in(cognito, client_id)
    # using the first session makes the second the least recently used
    refresh(cognito, client_id, first["RefreshToken"])
    third = sign_in(cognito, client_id)
    assert refused(lambda: refresh(cognito, client_id, second["RefreshToken"])) == REFRESH_REVOKED
    assert refused(lambda: cognito.get_user(AccessToken=second["AccessToken"])) == ACCESS_REVOKED
    for alive in (first, third):
        assert cognito.get_user(AccessToken=alive["AccessToken"])["Username"] == "alice"
        assert "AccessToken" in refresh(cognito, client_id, alive["RefreshToken"])
    sessions = cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")["Sessions"]
    assert len(sessions) == 2


def test_lowering_max_per_user_evicts_nothing_by_itself(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    track(cognito, pool_id, max_per_user=5)
    sessions = [sign_in(cognito, client_id) for _ in range(3)]
    track(cognito, pool_id, max_per_user=1)
    for session in sessions:
        assert cognito.get_user(AccessToken=session["AccessToken"])["Username"] == "alice"
    listed = cognito.admin_list_user_sessions(UserPoolId=pool_id, Username="alice")["Sessions"]
    assert len(listed) == 3


def test_no_limit_without_tracking(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    cognito.set_user_pool_session_configuration(
        UserPoolId=pool_id, UserSessionTracking="DISABLED", TokenSession={"MaxPerUser": 1}
    )
    sessions = [sign_in(cognito, client_id) for _ in range(3)]
    for session in sessions:
        assert "AccessToken" in refresh(cognito, client_id, session["RefreshToken"])
