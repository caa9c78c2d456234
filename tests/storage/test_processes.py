"""Durability and concurrency: restarts, several worker processes on one database, races,
migrations and the master key. Each test runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import signal
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.cluster import run_cognate, shared_database
from tests.support.server import CognateServer, start_server


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with shared_database(request.param, tmp_path) as url:
        yield url


@contextlib.contextmanager
def running(tmp_path: Path, db: str, *args: str) -> Iterator[CognateServer]:
    with start_server(tmp_path, db=db, extra_args=list(args)) as server:
        yield server


def region() -> str:
    return f"zz-{uuid.uuid4().hex[:10]}-1"


def test_data_and_page_tokens_survive_a_restart(tmp_path: Path, database_url: str) -> None:
    with running(tmp_path, database_url) as server:
        cognito = make_client(server.endpoint, reg := region())
        created = [cognito.create_user_pool(PoolName=f"p{i}")["UserPool"]["Id"] for i in range(3)]
        client = cognito.create_user_pool_client(
            UserPoolId=created[0], ClientName="c", GenerateSecret=True
        )["UserPoolClient"]
        cert = cognito.get_signing_certificate(UserPoolId=created[0])["Certificate"]
        token = cognito.list_user_pools(MaxResults=1)["NextToken"]
        server.restart()
        cognito = make_client(server.endpoint, reg)
        rest = cognito.list_user_pools(MaxResults=5, NextToken=token)["UserPools"]
        assert [p["Id"] for p in rest] == created[1:]
        again = cognito.describe_user_pool_client(
            UserPoolId=created[0], ClientId=client["ClientId"]
        )
        assert again["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]
        assert cognito.get_signing_certificate(UserPoolId=created[0])["Certificate"] == cert


def test_workers_share_one_database_and_races_have_one_winner(
    tmp_path: Path, database_url: str
) -> None:
    with running(tmp_path, database_url, "--workers", "2") as server:
        reg = region()
        cognito = make_client(server.endpoint, reg)
        pools = [cognito.create_user_pool(PoolName=f"p{i}")["UserPool"]["Id"] for i in range(8)]
        prefix = f"race-{uuid.uuid4().hex[:10]}"

        def claim(pool_id: str) -> str:
            client = make_client(server.endpoint, reg)
            try:
                client.create_user_pool_domain(Domain=prefix, UserPoolId=pool_id)
            except ClientError as exc:
                return exc.response["Error"]["Message"]
            return "won"

        with concurrent.futures.ThreadPoolExecutor(8) as executor:
            outcomes = list(executor.map(claim, pools))
        assert outcomes.count("won") == 1
        assert set(outcomes) == {"won", "Domain already associated with another user pool."}
        owner = cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]["UserPoolId"]
        assert pools[outcomes.index("won")] == owner

        # Every request from every thread lands, whichever process serves it.
        def tag(index: int) -> None:
            make_client(server.endpoint, reg).tag_resource(
                ResourceArn=arn, Tags={f"key{index}": str(index)}
            )

        arn = cognito.describe_user_pool(UserPoolId=pools[0])["UserPool"]["Arn"]
        with concurrent.futures.ThreadPoolExecutor(8) as executor:
            list(executor.map(tag, range(40)))
        tags = cognito.list_tags_for_resource(ResourceArn=arn)["Tags"]
        assert tags == {f"key{i}": str(i) for i in range(40)}


def test_concurrent_secret_rotation_never_exceeds_two(tmp_path: Path, database_url: str) -> None:
    with running(tmp_path, database_url, "--workers", "2") as server:
        reg = region()
        cognito = make_client(server.endpoint, reg)
        pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="c", GenerateSecret=True
        )["UserPoolClient"]["ClientId"]

        def add(_: int) -> str:
            try:
                make_client(server.endpoint, reg).add_user_pool_client_secret(
                    UserPoolId=pool_id, ClientId=client_id
                )
            except ClientError as exc:
                return exc.response["Error"]["Code"]
            return "added"

        with concurrent.futures.ThreadPoolExecutor(6) as executor:
            outcomes = list(executor.map(add, range(6)))
        assert outcomes.count("added") == 1
        assert outcomes.count("LimitExceededException") == 5
        secrets = cognito.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=client_id)
        assert len(secrets["ClientSecrets"]) == 2


def test_sigterm_finishes_requests_in_flight(tmp_path: Path, database_url: str) -> None:
    with running(tmp_path, database_url) as server:
        reg = region()
        body = json.dumps({"PoolName": "in-flight"}).encode()
        head = (
            "POST / HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/x-amz-json-1.1\r\n"
            "X-Amz-Target: AWSCognitoIdentityProviderService.CreateUserPool\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/{reg}/cognito-idp/"
            "aws4_request, SignedHeaders=host, Signature=00\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            # The request is in flight: headers and half the body are with the server...
            sock.sendall(head + body[:5])
            time.sleep(0.5)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # ...and it is still answered after the signal.
            sock.sendall(body[5:])
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
        status_line, _, rest = response.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 200 OK"
        assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["UserPool"]["Name"] == "in-flight"
        # uvicorn re-raises the signal once it has shut down cleanly
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        server.process = None
        assert "Finished server process" in server.log()
        # and the write it made is durable
        server.start()
        pools = make_client(server.endpoint, reg).list_user_pools(MaxResults=5)["UserPools"]
        assert [p["Name"] for p in pools] == ["in-flight"]


def test_migrate_command_is_idempotent(tmp_path: Path, database_url: str) -> None:
    first = run_cognate("migrate", "--db", database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "schema: empty -> 0001"
    second = run_cognate("migrate", "--db", database_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "schema: 0001 -> 0001"


def test_serve_refuses_a_database_migrated_by_a_newerrun_cognate(tmp_path: Path) -> None:
    db_path = tmp_path / "newer.db"
    assert run_cognate("migrate", "--db", f"sqlite:///{db_path}", cwd=tmp_path).returncode == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = run_cognate(
        "serve",
        "--port",
        "1",
        "--db",
        f"sqlite:///{db_path}",
        cwd=tmp_path,
        env={"COGNATE_MASTER_KEY_FILE": str(tmp_path / "master.key")},
    )
    assert result.returncode == 1
    assert "revision 9999, which this Cognate does not know" in result.stderr
    assert "Upgrade Cognate" in result.stderr


def test_serve_refuses_a_different_master_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/keyed.db"
    with running(tmp_path, db):
        pass
    (tmp_path / "master.key").write_text("A" * 43 + "=\n")
    result = run_cognate(
        "serve",
        "--db",
        db,
        cwd=tmp_path,
        env={"COGNATE_MASTER_KEY_FILE": str(tmp_path / "master.key")},
    )
    assert result.returncode == 1
    assert "sealed with a different master key" in result.stderr


def test_secrets_are_not_stored_in_plaintext(tmp_path: Path) -> None:
    db_path = tmp_path / "sealed.db"
    with running(tmp_path, f"sqlite:///{db_path}") as server:
        cognito = make_client(server.endpoint, region())
        pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        secret = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="c", GenerateSecret=True
        )["UserPoolClient"]["ClientSecret"]
        cognito.get_signing_certificate(UserPoolId=pool_id)
    raw: Any = b"".join(p.read_bytes() for p in tmp_path.glob("sealed.db*"))
    assert secret.encode() not in raw
    assert b"PRIVATE KEY" not in raw


def test_same_username_and_alias_races_have_one_winner(tmp_path: Path, database_url: str) -> None:
    with running(tmp_path, database_url, "--workers", "2") as server:
        reg = region()
        cognito = make_client(server.endpoint, reg)
        pool_id = cognito.create_user_pool(PoolName="p", AliasAttributes=["email"])["UserPool"][
            "Id"
        ]

        def create(args: tuple[str, str | None]) -> str:
            username, email = args
            attributes = []
            if email is not None:
                attributes = [
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ]
            try:
                make_client(server.endpoint, reg).admin_create_user(
                    UserPoolId=pool_id,
                    Username=username,
                    MessageAction="SUPPRESS",
                    UserAttributes=attributes,
                )
            except ClientError as exc:
                return exc.response["Error"]["Message"]
            return "created"

        with concurrent.futures.ThreadPoolExecutor(8) as executor:
            same_name = list(executor.map(create, [("racer", None)] * 8))
            same_alias = list(
                executor.map(create, [(f"user{i}", "shared@example.com") for i in range(8)])
            )
        assert same_name.count("created") == 1
        assert set(same_name) == {"created", "User account already exists"}
        assert same_alias.count("created") == 1
        assert set(same_alias) == {"created", "An account with the given email already exists."}
        owner = cognito.admin_get_user(UserPoolId=pool_id, Username="shared@example.com")
        assert owner["Username"] == f"user{same_alias.index('created')}"
        users = cognito.list_users(UserPoolId=pool_id)["Users"]
        assert len(users) == 2
