"""The AWS CLI against a Cognate in secure mode (`--auth secure`): a good key and bad ones."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_aws_cli import Cli
from tests.support.secure_server import ADMIN, OPS, secure_server
from tests.support.server import CognateServer

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognateServer]:
    with secure_server("sqlite", tmp_path_factory.mktemp("sigv4-cli")) as srv:
        yield srv


def cli(server: CognateServer, tmp_path: Path, key_id: str, secret: str) -> tuple[Cli, str]:
    region = f"zz-{uuid.uuid4().hex[:10]}-1"
    runner = Cli(server.endpoint, region, tmp_path)
    runner.env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    return runner, region


def test_the_aws_cli_with_a_configured_key(server: CognateServer, tmp_path: Path) -> None:
    aws, region = cli(server, tmp_path, ADMIN.access_key_id, ADMIN.secret)
    pool = aws.json("create-user-pool", "--pool-name", "cli")["UserPool"]
    assert pool["Id"].startswith(region + "_")
    assert aws.json("describe-user-pool", "--user-pool-id", pool["Id"])["UserPool"]["Name"] == "cli"
    ops, _ = cli(server, tmp_path, OPS.access_key_id, OPS.secret)
    ops.env["AWS_DEFAULT_REGION"] = region
    created = ops.json(
        "admin-create-user",
        "--user-pool-id",
        pool["Id"],
        "--username",
        "erin",
        "--message-action",
        "SUPPRESS",
    )
    assert created["User"]["Username"] == "erin"
    refused = ops.run("list-users", "--user-pool-id", pool["Id"])
    assert refused.returncode != 0
    assert (
        "An error occurred (AccessDeniedException) when calling the ListUsers operation: "
        "User: arn:aws:iam::000000000000:user/ops is not authorized to perform: "
        f"cognito-idp:ListUsers on resource: arn:aws:cognito-idp:{region}:000000000000:"
        f"userpool/{pool['Id']} because no identity-based policy allows the "
        "cognito-idp:ListUsers action"
    ) in refused.stderr


def test_the_aws_cli_with_bad_keys(server: CognateServer, tmp_path: Path) -> None:
    wrong, _ = cli(server, tmp_path, ADMIN.access_key_id, "not-the-secret")
    result = wrong.run("list-user-pools", "--max-results", "5")
    assert result.returncode != 0
    assert result.stdout == ""
    assert (
        "An error occurred (InvalidSignatureException) when calling the ListUserPools "
        "operation: The request signature we calculated does not match the signature you "
        "provided."
    ) in result.stderr
    unknown, _ = cli(server, tmp_path, "AKIANOSUCHKEY0000000", "whatever")
    result = unknown.run("list-user-pools", "--max-results", "5")
    assert result.returncode != 0
    assert (
        "An error occurred (UnrecognizedClientException) when calling the ListUserPools "
        "operation: The security token included in the request is invalid."
    ) in result.stderr
    unsigned, _ = cli(server, tmp_path, ADMIN.access_key_id, ADMIN.secret)
    result = unsigned.run("list-user-pools", "--max-results", "5", "--no-sign-request")
    assert result.returncode != 0
    assert (
        "An error occurred (MissingAuthenticationTokenException) when calling the "
        "ListUserPools operation: Missing Authentication Token"
    ) in result.stderr
