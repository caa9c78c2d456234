"""CSV user import end to end: GetCSVHeader, the import jobs with boto3, the CSV uploaded
with requests.put to the pre-signed URL the server hands out, the job run in the
background, and its per-row log read from the server's data directory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from cognate.domain.secretbox import SecretBox
from tests.conftest import make_client
from tests.support.server import CognateServer, start_server

ROLE = "arn:aws:iam::123456789012:role/CognitoImportLogs"
FINAL = {"Succeeded", "Failed", "Stopped", "Expired"}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def email_pool(cognito: Any, **extra: Any) -> str:
    pool = cognito.create_user_pool(
        PoolName="import-pool", AutoVerifiedAttributes=["email"], **extra
    )["UserPool"]
    return str(pool["Id"])


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(row.get(name, "") for name in header))
    return "\n".join(lines) + "\n"


def user_row(username: str, **values: str) -> dict[str, str]:
    row = {
        "cognito:username": username,
        "cognito:mfa_enabled": "false",
        "email": f"{username}@example.com",
        "email_verified": "true",
    }
    row.update(values)
    return row


def new_job(cognito: Any, pool_id: str, name: str = "import-1") -> dict[str, Any]:
    job = cognito.create_user_import_job(
        JobName=name, UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE
    )["UserImportJob"]
    return dict(job)


def wait_final(cognito: Any, pool_id: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
        if job["Status"] in FINAL:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def log_entries(server: CognateServer, pool_id: str, job_id: str) -> list[dict[str, Any]]:
    found = list(server.workdir.glob(f"**/user-import-logs/{pool_id}/{job_id}.jsonl"))
    assert len(found) == 1, found
    return [json.loads(line) for line in found[0].read_text().splitlines()]


def test_csv_header_lists_the_pool_schema(cognito: Any) -> None:
    pool_id = email_pool(
        cognito,
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
    )
    header = cognito.get_csv_header(UserPoolId=pool_id)
    assert header["UserPoolId"] == pool_id
    columns = header["CSVHeader"]
    assert columns[:3] == ["name", "given_name", "family_name"]
    assert "sub" not in columns
    assert {"email", "email_verified", "phone_number_verified", "custom:tier"} <= set(columns)
    assert columns[-2:] == ["cognito:mfa_enabled", "cognito:username"]
    with pytest.raises(ClientError) as excinfo:
        cognito.get_csv_header(UserPoolId=pool_id + "x")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_import_job_round_trip(cognito: Any, server: CognateServer) -> None:
    pool_id = email_pool(cognito)
    header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    cognito.admin_create_user(UserPoolId=pool_id, Username="existing", MessageAction="SUPPRESS")

    job = new_job(cognito, pool_id)
    job_id = job["JobId"]
    assert job_id.startswith("import-")
    assert job["Status"] == "Created"
    assert job["CloudWatchLogsRoleArn"] == ROLE
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (0, 0, 0)
    url = job["PreSignedUrl"]
    assert url.startswith(f"{server.endpoint}/_cognate/imports/{job_id}?")
    described = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)
    assert "PreSignedUrl" not in described["UserImportJob"]
    assert described["UserImportJob"]["Status"] == "Created"
    listed = cognito.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)["UserImportJobs"]
    assert [j["JobId"] for j in listed] == [job_id]

    rows = [
        user_row("alice", name="Doe\\, Alice", given_name="Alice"),
        user_row("bob", phone_number="+15555550100", phone_number_verified="true"),
        user_row("carol", **{"cognito:mfa_enabled": "maybe"}),  # line 4: fails
        user_row("dave", email_verified="false"),  # line 5: no auto-verified attribute
        user_row("existing"),  # line 6: skipped
        user_row("erin", email="not-an-email"),  # line 7: fails
        user_row("frank"),
    ]
    body = csv_text(header, rows).encode()
    uploaded = requests.put(url, data=body, headers={"Content-Type": "text/csv"}, timeout=30)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    again = requests.put(url, data=body, headers={"Content-Type": "text/csv"}, timeout=30)
    assert again.status_code == 403
    assert "<Code>AccessDenied</Code>" in again.text

    started = cognito.start_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
    assert started["Status"] in ("Pending", "InProgress")
    assert "StartDate" in started
    done = wait_final(cognito, pool_id, job_id)
    assert done["Status"] == "Succeeded"
    assert done["CompletionMessage"] == "Import Job Completed Successfully."
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (3, 1, 3)
    assert done["CompletionDate"] >= done["StartDate"] >= done["CreationDate"]

    alice = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert alice["UserStatus"] == "RESET_REQUIRED"
    attributes = {a["Name"]: a["Value"] for a in alice["UserAttributes"]}
    assert attributes["name"] == "Doe, Alice"
    assert attributes["given_name"] == "Alice"
    assert attributes["email"] == "alice@example.com"
    assert attributes["email_verified"] == "true"
    bob = cognito.admin_get_user(UserPoolId=pool_id, Username="bob")
    bob_attributes = {a["Name"]: a["Value"] for a in bob["UserAttributes"]}
    assert bob_attributes["phone_number_verified"] == "true"
    existing = cognito.admin_get_user(UserPoolId=pool_id, Username="existing")
    assert existing["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # left as it was
    for missing in ("carol", "dave", "erin"):
        with pytest.raises(ClientError) as excinfo:
            cognito.admin_get_user(UserPoolId=pool_id, Username=missing)
        assert error_of(excinfo)[0] == "UserNotFoundException"

    # Imported users must reset their password before they can sign in.
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    with pytest.raises(ClientError) as excinfo:
        cognito.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "frank", "PASSWORD": "Whatever-123"},
        )
    assert error_of(excinfo)[0] == "PasswordResetRequiredException"

    entries = log_entries(server, pool_id, job_id)
    problems = {e["line"]: e for e in entries if e["level"] in ("ERROR", "SKIPPED")}
    assert sorted(problems) == [4, 5, 6, 7]
    assert problems[4]["username"] == "carol"
    assert "cognito:mfa_enabled" in problems[4]["message"]
    assert "auto verified" in problems[5]["message"]
    assert problems[6]["level"] == "SKIPPED"
    assert "email" in problems[7]["message"].lower()
    assert entries[-1]["level"] == "INFO"
    assert entries[-1]["importedUsers"] == 3
    assert all(e["logGroup"] == f"/aws/cognito/userpools/{pool_id}/import-pool" for e in entries)
    assert all(e["logStream"] == f"{job_id}/import-1" for e in entries)

    with pytest.raises(ClientError) as excinfo:
        cognito.start_user_import_job(UserPoolId=pool_id, JobId=job_id)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.stop_user_import_job(UserPoolId=pool_id, JobId=job_id)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    # The upload is closed once the job has run.
    late = requests.put(url, data=body, timeout=30)
    assert late.status_code == 403


def test_stop_a_running_job(cognito: Any, server: CognateServer) -> None:
    pool_id = email_pool(cognito)
    header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    job = new_job(cognito, pool_id, "big")
    total = 40_000
    body = csv_text(header, [user_row(f"user{i:06d}") for i in range(total)]).encode()
    assert requests.put(job["PreSignedUrl"], data=body, timeout=60).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    stopping = cognito.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    assert stopping["UserImportJob"]["Status"] == "Stopping"
    done = wait_final(cognito, pool_id, job["JobId"])
    assert done["Status"] == "Stopped"
    assert done["ImportedUsers"] < total
    assert done["FailedUsers"] == 0
    imported = cognito.list_users(UserPoolId=pool_id, Limit=60)["Users"]
    assert len(imported) == min(done["ImportedUsers"], 60)


def test_pre_signed_url_refusals(cognito: Any, server: CognateServer) -> None:
    pool_id = email_pool(cognito)
    job = new_job(cognito, pool_id)
    url = job["PreSignedUrl"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert int(query["expires"]) - time.time() == pytest.approx(15 * 60, abs=60)

    forged = requests.put(base, params={**query, "signature": "0" * 64}, data=b"x", timeout=10)
    assert forged.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in forged.text
    longer = requests.put(
        base, params={**query, "expires": str(int(query["expires"]) + 3600)}, data=b"x", timeout=10
    )
    assert longer.status_code == 403  # the expiry is signed

    # A URL signed with the server's own key, but expired.
    key = base64.b64decode((server.workdir / "master.key").read_text().strip())
    upload_key = SecretBox(key).derived_key("user-import-upload")
    expires = int(time.time()) - 1
    body = f"user-import\n{job['JobId']}\n{expires}".encode()
    signature = hmac.new(upload_key, body, hashlib.sha256).hexdigest()
    expired = requests.put(
        base, params={"expires": str(expires), "signature": signature}, data=b"x", timeout=10
    )
    assert expired.status_code == 403
    assert "Request has expired" in expired.text

    # Another job's URL does not open this one.
    other = new_job(cognito, pool_id, "other")
    other_query = {k: v[0] for k, v in parse_qs(urlsplit(other["PreSignedUrl"]).query).items()}
    crossed = requests.put(base, params=other_query, data=b"x", timeout=10)
    assert crossed.status_code == 403

    # Nothing was stored: starting the job fails it for want of a file.
    cognito.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    done = wait_final(cognito, pool_id, job["JobId"])
    assert done["Status"] == "Failed"
    assert done["CompletionMessage"] == "The CSV file of the import job was not uploaded."


def test_job_errors(cognito: Any, server: CognateServer) -> None:
    plain = cognito.create_user_pool(PoolName="no-auto-verify")["UserPool"]["Id"]
    job = new_job(cognito, plain)
    with pytest.raises(ClientError) as excinfo:
        cognito.start_user_import_job(UserPoolId=plain, JobId=job["JobId"])
    assert error_of(excinfo)[0] == "PreconditionNotMetException"
    with pytest.raises(ClientError) as excinfo:
        cognito.stop_user_import_job(UserPoolId=plain, JobId=job["JobId"])
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_user_import_job(UserPoolId=plain, JobId="import-missing")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        new_job(cognito, plain + "x")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"

    # A header that is not the pool's fails the job, with the reason in its log.
    pool_id = email_pool(cognito)
    bad = new_job(cognito, pool_id, "bad-header")
    body = b"cognito:username,email,favourite_colour\nann,ann@example.com,blue\n"
    assert requests.put(bad["PreSignedUrl"], data=body, timeout=10).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool_id, JobId=bad["JobId"])
    done = wait_final(cognito, pool_id, bad["JobId"])
    assert done["Status"] == "Failed"
    entries = log_entries(server, pool_id, bad["JobId"])
    assert "favourite_colour" in entries[0]["message"]

    # Every row failing fails the job.
    header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    failing = new_job(cognito, pool_id, "all-bad")
    body = csv_text(header, [user_row("has space"), user_row("x", email_verified="")]).encode()
    assert requests.put(failing["PreSignedUrl"], data=body, timeout=10).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool_id, JobId=failing["JobId"])
    done = wait_final(cognito, pool_id, failing["JobId"])
    assert (done["Status"], done["FailedUsers"], done["ImportedUsers"]) == ("Failed", 2, 0)
    assert done["CompletionMessage"] == (
        "Too many users have failed or been skipped during the import."
    )

    # Pagination over the pool's jobs.
    page = cognito.list_user_import_jobs(UserPoolId=pool_id, MaxResults=1)
    assert len(page["UserImportJobs"]) == 1
    assert "PaginationToken" in page
    rest = cognito.list_user_import_jobs(
        UserPoolId=pool_id, MaxResults=10, PaginationToken=page["PaginationToken"]
    )
    ids = [j["JobId"] for j in page["UserImportJobs"] + rest["UserImportJobs"]]
    assert ids == [bad["JobId"], failing["JobId"]]


def test_a_job_resumes_after_a_restart(tmp_path: Path) -> None:
    """A server stopped in the middle of a job: the next one finishes it, and no row is
    imported twice (a row done twice would be counted as skipped)."""
    with start_server(tmp_path, db=f"sqlite:///{tmp_path}/cognate.db") as server:
        cognito = make_client(server.endpoint, "us-east-1")
        pool_id = email_pool(cognito)
        header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        job = new_job(cognito, pool_id, "resume")
        total = 30_000
        body = csv_text(header, [user_row(f"user{i:06d}") for i in range(total)]).encode()
        assert requests.put(job["PreSignedUrl"], data=body, timeout=60).status_code == 200
        cognito.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        deadline = time.monotonic() + 60
        while True:
            running = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
            if running["UserImportJob"]["ImportedUsers"] > 0:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.restart()
        cognito = make_client(server.endpoint, "us-east-1")
        after_restart = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        assert after_restart["UserImportJob"]["Status"] == "InProgress"
        assert 0 < after_restart["UserImportJob"]["ImportedUsers"] < total
        done = wait_final(cognito, pool_id, job["JobId"])
        assert done["Status"] == "Succeeded"
        assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (total, 0, 0)
        last = cognito.admin_get_user(UserPoolId=pool_id, Username=f"user{total - 1:06d}")
        assert last["UserStatus"] == "RESET_REQUIRED"
