"""The AWS CLI (v1, from the virtualenv) against a live Cognate: a smoke test.

The CLI runs in a clean environment: dummy credentials, the test's own region, and config
and credentials files that do not exist, so a developer's ~/.aws cannot interfere.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest

from tests.support.outbox_api import last_code, messages, other_code
from tests.support.server import CognateServer

AWS = Path(sys.executable).parent / "aws"
ACCOUNT_ID = "000000000000"

pytestmark = pytest.mark.cli


class Cli:
    """Runs `aws --endpoint-url <endpoint> cognito-idp ...` in an isolated environment."""

    def __init__(self, endpoint: str, region: str, tmp_path: Path) -> None:
        if not AWS.exists():
            pytest.skip(f"the AWS CLI is not installed at {AWS}")
        self.endpoint = endpoint
        self.env = {
            name: value for name, value in os.environ.items() if not name.startswith("AWS_")
        }
        self.env.update(
            AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
            AWS_SECRET_ACCESS_KEY="secret",
            AWS_DEFAULT_REGION=region,
            AWS_CONFIG_FILE=str(tmp_path / "no-such-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-such-credentials"),
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AWS), "--endpoint-url", self.endpoint, "cognito-idp", *args, "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def json(self, *args: str) -> dict[str, Any]:
        result = self.run(*args)
        assert result.returncode == 0, (
            f"aws cognito-idp {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        output: dict[str, Any] = json.loads(result.stdout)
        return output


@pytest.fixture
def cli(server: CognateServer, region: str, tmp_path: Path) -> Cli:
    return Cli(server.endpoint, region, tmp_path)


def test_pool_and_client_with_the_aws_cli(cli: Cli, region: str) -> None:
    pool = cli.json("create-user-pool", "--pool-name", "demo")["UserPool"]
    pool_id = pool["Id"]
    assert re.fullmatch(re.escape(region) + r"_[0-9A-Za-z]{9}", pool_id), pool_id
    assert pool["Arn"] == f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool_id}"
    assert pool["Name"] == "demo"
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert len(pool["SchemaAttributes"]) >= 20
    # CLI v1 prints timestamps as they came over the wire (cli_timestamp_format "none"):
    # JSON numbers of epoch seconds.
    assert isinstance(pool["CreationDate"], int | float), pool["CreationDate"]
    assert pool["LastModifiedDate"] == pool["CreationDate"]
    created_at = dt.datetime.fromtimestamp(pool["CreationDate"], dt.UTC)
    assert abs(dt.datetime.now(dt.UTC) - created_at) < dt.timedelta(minutes=5)

    assert cli.json("describe-user-pool", "--user-pool-id", pool_id) == {"UserPool": pool}

    listed = cli.json("list-user-pools", "--max-results", "10")
    assert [p["Id"] for p in listed["UserPools"]] == [pool_id]
    assert listed["UserPools"][0]["Name"] == "demo"

    client = cli.json(
        "create-user-pool-client",
        "--user-pool-id",
        pool_id,
        "--client-name",
        "demo-app",
        "--generate-secret",
    )["UserPoolClient"]
    assert re.fullmatch(r"[a-z0-9]{26}", client["ClientId"]), client["ClientId"]
    assert re.fullmatch(r"[a-z0-9]{52}", client["ClientSecret"]), client["ClientSecret"]
    assert client["UserPoolId"] == pool_id
    assert client["ClientName"] == "demo-app"


def test_unknown_pool_is_reported_by_the_aws_cli(cli: Cli, region: str) -> None:
    missing = f"{region}_doesnotexist1"
    result = cli.run("describe-user-pool", "--user-pool-id", missing)
    assert result.returncode != 0
    assert result.stdout == ""
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeUserPool "
        f"operation: User pool {missing} does not exist."
    ) in result.stderr


def test_users_and_groups_with_the_aws_cli(cli: Cli) -> None:
    pool_id = cli.json("create-user-pool", "--pool-name", "people")["UserPool"]["Id"]

    def ok(*args: str) -> None:
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == ""

    user = cli.json(
        "admin-create-user", "--user-pool-id", pool_id, "--username", "jane",
        "--temporary-password", "Temp0rary!", "--message-action", "SUPPRESS",
        "--user-attributes", "Name=email,Value=jane@example.com", "Name=given_name,Value=Jane",
    )["User"]  # fmt: skip
    assert (user["Username"], user["UserStatus"]) == ("jane", "FORCE_CHANGE_PASSWORD")
    pool = ["--user-pool-id", pool_id]
    jane = [*pool, "--username", "jane"]
    ok("admin-update-user-attributes", *jane, "--user-attributes", "Name=family_name,Value=Doe")
    ok("admin-delete-user-attributes", *jane, "--user-attribute-names", "given_name")
    got = cli.json("admin-get-user", *jane)
    names = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert names["family_name"] == "Doe"
    assert "given_name" not in names
    ok("admin-disable-user", *jane)
    assert cli.json("admin-get-user", *jane)["Enabled"] is False
    ok("admin-enable-user", *jane)
    ok("admin-set-user-password", *jane, "--password", "Passw0rd!", "--permanent")
    assert cli.json("admin-get-user", *jane)["UserStatus"] == "CONFIRMED"
    refused = cli.run("admin-confirm-sign-up", *jane)
    assert "User cannot be confirmed. Current status is CONFIRMED" in refused.stderr
    ok("admin-update-user-attributes", *jane, "--user-attributes", "Name=email_verified,Value=true")
    ok("admin-reset-user-password", *jane)
    assert cli.json("admin-get-user", *jane)["UserStatus"] == "RESET_REQUIRED"
    found = cli.json("list-users", *pool, "--filter", 'email = "jane@example.com"')
    assert [u["Username"] for u in found["Users"]] == ["jane"]

    group = cli.json("create-group", *pool, "--group-name", "staff", "--precedence", "2")["Group"]
    assert (group["GroupName"], group["Precedence"]) == ("staff", 2)
    assert cli.json("get-group", *pool, "--group-name", "staff")["Group"] == group
    updated = cli.json("update-group", *pool, "--group-name", "staff", "--description", "Staff")
    assert updated["Group"]["Description"] == "Staff"
    assert [g["GroupName"] for g in cli.json("list-groups", *pool)["Groups"]] == ["staff"]
    ok("admin-add-user-to-group", *jane, "--group-name", "staff")
    groups = cli.json("admin-list-groups-for-user", *jane)["Groups"]
    assert [g["GroupName"] for g in groups] == ["staff"]
    members = cli.json("list-users-in-group", *pool, "--group-name", "staff")["Users"]
    assert [u["Username"] for u in members] == ["jane"]
    ok("admin-remove-user-from-group", *jane, "--group-name", "staff")
    assert cli.json("list-users-in-group", *pool, "--group-name", "staff")["Users"] == []
    ok("delete-group", *pool, "--group-name", "staff")
    ok("admin-delete-user", *jane)
    missing = cli.run("admin-get-user", *jane)
    assert (
        "An error occurred (UserNotFoundException) when calling the AdminGetUser operation: "
        "User does not exist."
    ) in missing.stderr


def test_auth_with_the_aws_cli(
    cli: Cli, server: CognateServer, region: str, tmp_path: Path
) -> None:
    """Sign-in, tokens, sign-out, password change, auth factors and sessions, as a shell
    script would run them."""
    password, new_password = "Corr3ct-Horse!", "N3w-Battery-Staple!"

    def ok(*args: str) -> None:
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == ""

    def auth_parameters(**values: str) -> str:
        return json.dumps(values)

    pool_id = cli.json("create-user-pool", "--pool-name", "auth")["UserPool"]["Id"]
    pool = ["--user-pool-id", pool_id]
    # The CLI's own model (botocore 1.43) predates the session operations: point it at the
    # newer model, as `AWS_DATA_PATH` lets any user do.
    sessions_cli = Cli(server.endpoint, region, tmp_path)
    sessions_cli.env["AWS_DATA_PATH"] = str(Path(botocore.__file__).parent / "data")
    configured = sessions_cli.json(
        "set-user-pool-session-configuration", *pool, "--user-session-tracking", "ENABLED",
        "--token-session", "MaxPerUser=10",
    )  # fmt: skip
    expected = {
        "UserPoolId": pool_id,
        "UserSessionTracking": "ENABLED",
        "TokenSession": {"MaxPerUser": 10},
    }
    assert configured == expected
    assert sessions_cli.json("get-user-pool-session-configuration", *pool) == expected
    client_id = cli.json(
        "create-user-pool-client", *pool, "--client-name", "cli-app", "--explicit-auth-flows",
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    client = ["--client-id", client_id]
    jane = [*pool, "--username", "jane"]
    cli.json("admin-create-user", *jane, "--message-action", "SUPPRESS")
    ok("admin-set-user-password", *jane, "--password", password, "--permanent")

    def initiate(secret: str = password) -> dict[str, Any]:
        return cli.json(
            "initiate-auth", *client, "--auth-flow", "USER_PASSWORD_AUTH",
            "--auth-parameters", auth_parameters(USERNAME="jane", PASSWORD=secret),
        )  # fmt: skip

    signed_in = initiate()
    assert signed_in["ChallengeParameters"] == {}
    result = signed_in["AuthenticationResult"]
    assert (result["TokenType"], result["ExpiresIn"]) == ("Bearer", 3600)
    access, refresh_token = result["AccessToken"], result["RefreshToken"]

    wrong = cli.run(
        "initiate-auth", *client, "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", auth_parameters(USERNAME="jane", PASSWORD="Wr0ng-Passw0rd!"),
    )  # fmt: skip
    assert wrong.returncode != 0
    assert wrong.stdout == ""
    assert (
        "An error occurred (NotAuthorizedException) when calling the InitiateAuth operation: "
        "Incorrect username or password."
    ) in wrong.stderr

    admin = cli.json(
        "admin-initiate-auth", *pool, *client, "--auth-flow", "ADMIN_USER_PASSWORD_AUTH",
        "--auth-parameters", auth_parameters(USERNAME="jane", PASSWORD=password),
    )["AuthenticationResult"]  # fmt: skip
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(admin)

    user = cli.json("get-user", "--access-token", access)
    assert user["Username"] == "jane"
    assert [a["Name"] for a in user["UserAttributes"]] == ["sub"]

    factors = {"Username": "jane", "ConfiguredUserAuthFactors": ["PASSWORD"]}
    assert cli.json("get-user-auth-factors", "--access-token", access) == factors
    assert cli.json("admin-get-user-auth-factors", *jane) == factors

    refresh = f"--refresh-token={refresh_token}"  # the = form: the token may start with "-"
    renewed = cli.json("get-tokens-from-refresh-token", *client, refresh)["AuthenticationResult"]
    assert "RefreshToken" not in renewed
    assert cli.json("get-user", "--access-token", renewed["AccessToken"])["Username"] == "jane"

    listed = sessions_cli.json("list-user-sessions", "--access-token", access)["Sessions"]
    assert len(listed) == 2  # the two sign-ins above
    (current,) = [s for s in listed if s["IsCurrentSession"]]
    assert re.fullmatch(r"tkn[a-z0-9]{25}", current["SessionId"])
    assert isinstance(current["CreateDate"], int | float)  # epoch seconds, as on the wire
    admin_listed = sessions_cli.json("admin-list-user-sessions", *jane)["Sessions"]
    assert {s["SessionId"] for s in admin_listed} == {s["SessionId"] for s in listed}
    other = next(s["SessionId"] for s in listed if not s["IsCurrentSession"])
    result = sessions_cli.run("admin-revoke-user-session", *jane, "--session-id", other)
    assert result.returncode == 0, result.stderr
    remaining = sessions_cli.json("admin-list-user-sessions", *jane)["Sessions"]
    assert [s["SessionId"] for s in remaining] == [current["SessionId"]]
    revoked = cli.run("get-user", "--access-token", admin["AccessToken"])
    assert (
        "An error occurred (NotAuthorizedException) when calling the GetUser operation: "
        "Access Token has been revoked"
    ) in revoked.stderr

    ok("change-password", "--access-token", access, "--previous-password", password,
       "--proposed-password", new_password)  # fmt: skip
    assert "Incorrect username or password." in cli.run(
        "initiate-auth", *client, "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", auth_parameters(USERNAME="jane", PASSWORD=password),
    ).stderr  # fmt: skip
    again = initiate(new_password)["AuthenticationResult"]

    ok("revoke-token", *client, f"--token={again['RefreshToken']}")  # may start with "-"
    gone = cli.run("get-user", "--access-token", again["AccessToken"])
    assert "Access Token has been revoked" in gone.stderr

    ok("global-sign-out", "--access-token", access)
    assert "Access Token has been revoked" in cli.run("get-user", "--access-token", access).stderr
    stale = cli.run("get-tokens-from-refresh-token", *client, refresh)
    assert (
        "An error occurred (NotAuthorizedException) when calling the GetTokensFromRefreshToken "
        "operation: Refresh Token has been revoked"
    ) in stale.stderr

    last = initiate(new_password)["AuthenticationResult"]
    assert cli.json("get-user", "--access-token", last["AccessToken"])["Username"] == "jane"
    ok("admin-user-global-sign-out", *jane)
    assert (
        "Access Token has been revoked"
        in cli.run("get-user", "--access-token", last["AccessToken"]).stderr
    )


def test_sign_up_and_recovery_with_the_aws_cli(cli: Cli, server: CognateServer) -> None:
    """Self-service sign-up, recovery and attribute verification as a shell script runs
    them, with the codes from the developer outbox API."""
    password, new_password = "Corr3ct-Horse!", "N3w-Battery-Staple!"

    def ok(*args: str) -> None:
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == ""

    pool_id = cli.json(
        "create-user-pool", "--pool-name", "self-service", "--auto-verified-attributes", "email",
    )["UserPool"]["Id"]  # fmt: skip
    client_id = cli.json(
        "create-user-pool-client", "--user-pool-id", pool_id, "--client-name", "cli-app",
        "--explicit-auth-flows", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    client = ["--client-id", client_id]
    jane = [*client, "--username", "jane"]

    def code() -> str:
        return last_code(server.endpoint, pool_id, "jane")

    signed_up = cli.json(
        "sign-up", *jane, "--password", password,
        "--user-attributes", "Name=email,Value=jane@example.com",
    )  # fmt: skip
    assert signed_up["UserConfirmed"] is False
    assert re.fullmatch(r"[0-9a-f-]{36}", signed_up["UserSub"])
    email_delivery = {
        "Destination": "j***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert signed_up["CodeDeliveryDetails"] == email_delivery

    # a wrong code: the CLI's error line, and nothing on stdout
    wrong = cli.run("confirm-sign-up", *jane, "--confirmation-code", other_code(code()))
    assert wrong.returncode != 0
    assert wrong.stdout == ""
    assert (
        "An error occurred (CodeMismatchException) when calling the ConfirmSignUp operation: "
        "Invalid verification code provided, please try again."
    ) in wrong.stderr

    resent = cli.json("resend-confirmation-code", *jane)
    assert resent == {"CodeDeliveryDetails": email_delivery}
    sent = messages(server.endpoint, pool_id, "jane")
    assert [m["kind"] for m in sent] == ["confirm_sign_up", "confirm_sign_up"]
    assert sent[-1]["code"] == code()
    ok("confirm-sign-up", *jane, "--confirmation-code", code())
    confirmed = cli.json("admin-get-user", "--user-pool-id", pool_id, "--username", "jane")
    assert confirmed["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in confirmed["UserAttributes"]
    again = cli.run("confirm-sign-up", *jane, "--confirmation-code", code())
    assert (
        "An error occurred (NotAuthorizedException) when calling the ConfirmSignUp operation: "
        "User cannot be confirmed. Current status is CONFIRMED"
    ) in again.stderr

    assert cli.json("forgot-password", *jane) == {"CodeDeliveryDetails": email_delivery}
    reset_code = code()
    expired = cli.run(
        "confirm-forgot-password", *jane, "--confirmation-code", other_code(reset_code),
        "--password", new_password,
    )  # fmt: skip
    assert "(CodeMismatchException)" in expired.stderr
    ok("confirm-forgot-password", *jane, "--confirmation-code", reset_code,
       "--password", new_password)  # fmt: skip
    used = cli.run(
        "confirm-forgot-password", *jane, "--confirmation-code", reset_code,
        "--password", "An0ther-Passw0rd!",
    )  # fmt: skip
    assert (
        "An error occurred (ExpiredCodeException) when calling the ConfirmForgotPassword "
        "operation: Invalid code provided, please request a code again."
    ) in used.stderr

    def initiate(secret: str) -> subprocess.CompletedProcess[str]:
        return cli.run(
            "initiate-auth", *client, "--auth-flow", "USER_PASSWORD_AUTH",
            "--auth-parameters", json.dumps({"USERNAME": "jane", "PASSWORD": secret}),
        )  # fmt: skip

    assert "Incorrect username or password." in initiate(password).stderr
    signed_in = initiate(new_password)
    assert signed_in.returncode == 0, signed_in.stderr
    access = json.loads(signed_in.stdout)["AuthenticationResult"]["AccessToken"]
    token = ["--access-token", access]

    def attributes() -> dict[str, str]:
        user = cli.json("get-user", *token)
        return {a["Name"]: a["Value"] for a in user["UserAttributes"]}

    updated = cli.json(
        "update-user-attributes", *token,
        "--user-attributes", "Name=email,Value=new@example.net", "Name=given_name,Value=Jane",
    )  # fmt: skip
    new_delivery = {**email_delivery, "Destination": "n***@e***"}
    assert updated == {"CodeDeliveryDetailsList": [new_delivery]}
    assert attributes()["email_verified"] == "false"
    requested = cli.json(
        "get-user-attribute-verification-code", *token, "--attribute-name", "email"
    )
    assert requested == {"CodeDeliveryDetails": new_delivery}
    sent = messages(server.endpoint, pool_id, "jane")[-1]
    assert (sent["destination"], sent["code"]) == ("new@example.net", code())
    ok("verify-user-attribute", *token, "--attribute-name", "email", "--code", code())
    values = attributes()
    assert (values["email"], values["email_verified"]) == ("new@example.net", "true")
    refused = cli.run(
        "get-user-attribute-verification-code", *token, "--attribute-name", "given_name"
    )
    assert (
        "An error occurred (InvalidParameterException) when calling the "
        "GetUserAttributeVerificationCode operation: Invalid attribute name. Only phone_number "
        "and email can be verified."
    ) in refused.stderr

    ok("delete-user-attributes", *token, "--user-attribute-names", "given_name")
    assert "given_name" not in attributes()
    ok("delete-user", *token)
    gone = cli.run("get-user", *token)
    assert (
        "An error occurred (UserNotFoundException) when calling the GetUser operation: "
        "User does not exist."
    ) in gone.stderr
