"""Point-in-time recovery (Initiate/Describe/List/Start/CancelPointInTimeRecovery), with boto3.

A recovery point must be at least 15 minutes in the past, so the server's clock is moved
(tests/support/clocked_server.py): set up, move 20 minutes on, note the point, change the
data, move 20 more minutes on, recover, and compare.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    attributes_of,
    new_client,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import mfa_pool, set_up_totp
from tests.support.server import CognateServer

ROLE_ARN = "arn:aws:iam::000000000000:role/cognito-import"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir: Path = tmp_path_factory.mktemp(f"pitr-{request.param}")
    with clocked_server(request.param, workdir) as pair:
        yield pair


@pytest.fixture
def server(clocked: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    return clocked[0]


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def server_now(clock: ShiftedClock) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + clock.offset


def mark(clock: ShiftedClock) -> dt.datetime:
    """Move 20 minutes on and return the server's "now" as a recovery point."""
    clock.shift(minutes=20)
    time.sleep(0.01)
    point = server_now(clock)
    time.sleep(0.01)
    return point


def essentials_pool(cognito: Any) -> str:
    pool_id: str = cognito.create_user_pool(PoolName="pitr", UserPoolTier="ESSENTIALS")["UserPool"][
        "Id"
    ]
    return pool_id


def preview_of(restoration: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {
        p["Entity"]: (p["CreateCount"], p["UpdateCount"], p["DeleteCount"])
        for p in restoration["RestorePreview"]
    }


def groups_of(cognito: Any, pool_id: str, username: str) -> set[str]:
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    return {g["GroupName"] for g in groups}


def test_recovery_round_trip_restores_deleted_users_and_their_sign_in(
    cognito: Any, clock: ShiftedClock
) -> None:
    pool_id = essentials_pool(cognito)
    new_user(cognito, pool_id, "alice", attributes={"given_name": "Alice"})
    new_user(cognito, pool_id, "bob", attributes={"given_name": "Bob"})
    cognito.create_group(UserPoolId=pool_id, GroupName="admins")
    cognito.create_group(UserPoolId=pool_id, GroupName="temp", Description="temporary")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="bob", GroupName="temp")
    alice_before = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")

    point = mark(clock)

    cognito.admin_delete_user(UserPoolId=pool_id, Username="alice")
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username="bob", UserAttributes=[{"Name": "given_name", "Value": "X"}]
    )
    cognito.delete_group(UserPoolId=pool_id, GroupName="temp")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="bob", Password=NEW_PASSWORD, Permanent=True
    )
    new_user(cognito, pool_id, "carol")
    client_id = new_client(cognito, pool_id)["ClientId"]  # configuration: not reverted

    clock.shift(minutes=20)
    restoration = cognito.initiate_point_in_time_recovery(
        UserPoolId=pool_id, RestoreTimestamp=point
    )["Restoration"]
    restore_id = restoration["RestoreId"]
    assert restoration["RestoreStatus"] == "PREVIEW_GENERATED"
    assert abs(restoration["RestoreTimestamp"].timestamp() - point.timestamp()) < 0.01
    assert restoration["TriggerTimestamp"] > restoration["RestoreTimestamp"]
    assert preview_of(restoration) == {
        "Users": (1, 1, 1),
        "Groups": (1, 0, 0),
        "User MFAs": (0, 0, 0),
        "Passkeys": (0, 0, 0),
    }
    described = cognito.describe_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert described["Restoration"] == restoration

    # Writes pause; reads and sign-in go on.
    with pytest.raises(ClientError) as excinfo:
        cognito.admin_create_user(UserPoolId=pool_id, Username="dave", MessageAction="SUPPRESS")
    assert error_code(excinfo) == "OperationNotEnabledException"
    with pytest.raises(ClientError) as excinfo:
        cognito.admin_update_user_attributes(
            UserPoolId=pool_id, Username="bob", UserAttributes=[{"Name": "name", "Value": "Y"}]
        )
    assert error_code(excinfo) == "OperationNotEnabledException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_group(UserPoolId=pool_id, GroupName="other")
    assert error_code(excinfo) == "OperationNotEnabledException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_user_import_job(
            UserPoolId=pool_id, JobName="j", CloudWatchLogsRoleArn=ROLE_ARN
        )
    assert error_code(excinfo) == "OperationNotEnabledException"
    assert sign_in(cognito, client_id, "bob", NEW_PASSWORD)["AccessToken"]
    with pytest.raises(ClientError) as excinfo:  # one active recovery per pool
        cognito.initiate_point_in_time_recovery(UserPoolId=pool_id, RestoreTimestamp=point)
    assert error_code(excinfo) == "LimitExceededException"

    started = cognito.start_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert started["Restoration"]["RestoreStatus"] == "RESTORE_COMPLETED"

    alice = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert attributes_of(alice) == attributes_of(alice_before)
    assert alice["UserStatus"] == "CONFIRMED"
    assert groups_of(cognito, pool_id, "alice") == {"admins"}
    assert sign_in(cognito, client_id, "alice", PASSWORD)["AccessToken"]
    bob = cognito.admin_get_user(UserPoolId=pool_id, Username="bob")
    assert attributes_of(bob)["given_name"] == "Bob"
    assert groups_of(cognito, pool_id, "bob") == {"temp"}
    # Users who changed their password after the recovery point keep their current one.
    assert sign_in(cognito, client_id, "bob", NEW_PASSWORD)["AccessToken"]
    assert cognito.get_group(UserPoolId=pool_id, GroupName="temp")["Group"]["Description"] == (
        "temporary"
    )
    with pytest.raises(ClientError) as excinfo:
        cognito.admin_get_user(UserPoolId=pool_id, Username="carol")
    assert error_code(excinfo) == "UserNotFoundException"
    cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)

    # Writes resume; a completed recovery can't be started (or cancelled) again.
    new_user(cognito, pool_id, "dave")
    with pytest.raises(ClientError) as excinfo:
        cognito.start_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert error_code(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.cancel_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert error_code(excinfo) == "InvalidParameterException"
    listed = cognito.list_point_in_time_recoveries(UserPoolId=pool_id)["Restorations"]
    assert [(r["RestoreId"], r["RestoreStatus"]) for r in listed] == [
        (restore_id, "RESTORE_COMPLETED")
    ]
    assert "RestorePreview" not in listed[0]
    with pytest.raises(ClientError) as excinfo:  # one completed recovery per 24 hours
        cognito.initiate_point_in_time_recovery(UserPoolId=pool_id, RestoreTimestamp=point)
    assert error_code(excinfo) == "LimitExceededException"


def test_cancel_discards_the_recovery_and_resumes_writes(cognito: Any, clock: ShiftedClock) -> None:
    pool_id = essentials_pool(cognito)
    new_user(cognito, pool_id, "alice")
    point = mark(clock)
    cognito.admin_delete_user(UserPoolId=pool_id, Username="alice")
    clock.shift(minutes=20)

    ids = []
    for _ in range(2):
        restoration = cognito.initiate_point_in_time_recovery(
            UserPoolId=pool_id, RestoreTimestamp=point
        )["Restoration"]
        assert preview_of(restoration)["Users"] == (1, 0, 0)
        cancelled = cognito.cancel_point_in_time_recovery(
            UserPoolId=pool_id, RestoreId=restoration["RestoreId"]
        )["Restoration"]
        assert cancelled["RestoreStatus"] == "PREVIEW_CANCELLED"
        ids.append(restoration["RestoreId"])

    with pytest.raises(ClientError) as excinfo:
        cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert error_code(excinfo) == "UserNotFoundException"
    new_user(cognito, pool_id, "bob")  # writes resumed
    with pytest.raises(ClientError) as excinfo:
        cognito.start_point_in_time_recovery(UserPoolId=pool_id, RestoreId=ids[0])
    assert error_code(excinfo) == "InvalidParameterException"

    page = cognito.list_point_in_time_recoveries(UserPoolId=pool_id, MaxResults=1)
    assert [r["RestoreId"] for r in page["Restorations"]] == [ids[1]]  # most recent first
    rest = cognito.list_point_in_time_recoveries(
        UserPoolId=pool_id, MaxResults=1, NextToken=page["NextToken"]
    )
    assert [r["RestoreId"] for r in rest["Restorations"]] == [ids[0]]
    assert "NextToken" not in rest

    # Three previews per pool in 24 hours.
    third = cognito.initiate_point_in_time_recovery(UserPoolId=pool_id, RestoreTimestamp=point)
    cognito.cancel_point_in_time_recovery(
        UserPoolId=pool_id, RestoreId=third["Restoration"]["RestoreId"]
    )
    with pytest.raises(ClientError) as excinfo:
        cognito.initiate_point_in_time_recovery(UserPoolId=pool_id, RestoreTimestamp=point)
    assert error_code(excinfo) == "LimitExceededException"


def test_a_preview_expires_after_24_hours(cognito: Any, clock: ShiftedClock) -> None:
    pool_id = essentials_pool(cognito)
    point = mark(clock)
    clock.shift(minutes=20)
    restore_id = cognito.initiate_point_in_time_recovery(
        UserPoolId=pool_id, RestoreTimestamp=point
    )["Restoration"]["RestoreId"]
    clock.shift(hours=24)
    described = cognito.describe_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert described["Restoration"]["RestoreStatus"] == "PREVIEW_EXPIRED"
    new_user(cognito, pool_id, "alice")  # writes resumed
    with pytest.raises(ClientError) as excinfo:
        cognito.start_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restore_id)
    assert error_code(excinfo) == "InvalidParameterException"


def test_recovery_errors(cognito: Any, clock: ShiftedClock) -> None:
    pool_id = essentials_pool(cognito)
    clock.shift(minutes=30)
    now = server_now(clock)

    def initiate_error(when: dt.datetime, pool: str = pool_id) -> str:
        with pytest.raises(ClientError) as excinfo:
            cognito.initiate_point_in_time_recovery(UserPoolId=pool, RestoreTimestamp=when)
        return error_code(excinfo)

    assert initiate_error(now + dt.timedelta(hours=1)) == "InvalidParameterException"
    assert initiate_error(now - dt.timedelta(minutes=5)) == "InvalidParameterException"
    assert initiate_error(now - dt.timedelta(minutes=45)) == "InvalidParameterException"
    clock.shift(days=2)
    assert initiate_error(server_now(clock) - dt.timedelta(hours=25)) == (
        "InvalidParameterException"
    )  # beyond the Essentials window of 1 day

    lite = cognito.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    assert initiate_error(server_now(clock) - dt.timedelta(hours=1), lite) == (
        "FeatureUnavailableInTierException"
    )
    for call in (
        cognito.describe_point_in_time_recovery,
        cognito.start_point_in_time_recovery,
        cognito.cancel_point_in_time_recovery,
    ):
        with pytest.raises(ClientError) as excinfo:
            call(UserPoolId=pool_id, RestoreId=UNKNOWN_ID)
        assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        cognito.list_point_in_time_recoveries(UserPoolId="us-east-1_nothere")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert cognito.list_point_in_time_recoveries(UserPoolId=pool_id)["Restorations"] == []


def test_recovery_restores_mfa_settings(
    server: CognateServer, cognito: Any, clock: ShiftedClock
) -> None:
    mfa = mfa_pool(server, cognito, UserPoolTier="ESSENTIALS")
    new_user(cognito, mfa.pool_id, "alice")
    access = sign_in(cognito, mfa.client_id, "alice", PASSWORD)["AccessToken"]
    set_up_totp(cognito, access, clock)
    assert password_auth(cognito, mfa.client_id)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"

    point = mark(clock)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=mfa.pool_id,
        Username="alice",
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )
    assert "ChallengeName" not in password_auth(cognito, mfa.client_id)
    clock.shift(minutes=20)

    restoration = cognito.initiate_point_in_time_recovery(
        UserPoolId=mfa.pool_id, RestoreTimestamp=point
    )["Restoration"]
    counts = preview_of(restoration)
    assert counts["User MFAs"] == (0, 1, 0)
    assert counts["Groups"] == counts["Passkeys"] == (0, 0, 0)
    cognito.start_point_in_time_recovery(UserPoolId=mfa.pool_id, RestoreId=restoration["RestoreId"])
    assert password_auth(cognito, mfa.client_id)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    user = cognito.admin_get_user(UserPoolId=mfa.pool_id, Username="alice")
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"


def test_recovery_deletes_users_imported_after_the_point(cognito: Any, clock: ShiftedClock) -> None:
    pool_id = cognito.create_user_pool(
        PoolName="pitr-import", UserPoolTier="ESSENTIALS", AutoVerifiedAttributes=["email"]
    )["UserPool"]["Id"]
    new_user(cognito, pool_id, "kept")
    header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    point = mark(clock)

    job = cognito.create_user_import_job(
        UserPoolId=pool_id, JobName="j", CloudWatchLogsRoleArn=ROLE_ARN
    )["UserImportJob"]
    rows = [",".join(header)]
    for name in ("imp1", "imp2"):
        values = {
            "cognito:username": name,
            "cognito:mfa_enabled": "false",
            "email": f"{name}@example.com",
            "email_verified": "true",
        }
        rows.append(",".join(values.get(column, "") for column in header))
    body = ("\n".join(rows) + "\n").encode()
    uploaded = requests.put(
        job["PreSignedUrl"], data=body, headers={"Content-Type": "text/csv"}, timeout=30
    )
    assert uploaded.status_code == 200, uploaded.text
    cognito.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    deadline = time.monotonic() + 60
    while True:
        status = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])[
            "UserImportJob"
        ]["Status"]
        if status not in ("Pending", "InProgress"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status == "Succeeded"
    cognito.admin_get_user(UserPoolId=pool_id, Username="imp1")

    clock.shift(minutes=20)
    restoration = cognito.initiate_point_in_time_recovery(
        UserPoolId=pool_id, RestoreTimestamp=point
    )["Restoration"]
    assert preview_of(restoration)["Users"] == (0, 0, 2)
    cognito.start_point_in_time_recovery(UserPoolId=pool_id, RestoreId=restoration["RestoreId"])
    users = cognito.list_users(UserPoolId=pool_id)["Users"]
    assert [u["Username"] for u in users] == ["kept"]
