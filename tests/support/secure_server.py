"""A `cognate serve --auth secure` with an access keys file, and clients that sign with a key.

`secure_server` writes the keys file (tests/support: KEYS below plus any extra entries) and
starts the server on SQLite or PostgreSQL; `signed_client` is a boto3 client for one key,
`send` posts one hand-made request (signed with botocore's SigV4Auth at a chosen time, or
not at all) so tests can check what boto3 would never send: old signatures, changed bodies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.conftest import POSTGRES_URL
from tests.support.server import CognateServer, postgres_database, start_server

ACCOUNT_ID = "000000000000"
TARGET = "AWSCognitoIdentityProviderService."
OPS_SECRET_ENV = "COGNATE_TEST_OPS_SECRET"


@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret: str


ADMIN = Key("AKIASIGV4ADMIN000001", "admin/Secret+Key/0123456789abcdefghijkl")
OPS = Key("AKIASIGV4OPS00000002", "ops-secret-from-the-environment")
BACKEND = Key("AKIASIGV4BACKEND0003", "backend-secret")


def key_entries(backend_resources: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": "admin", "access_key_id": ADMIN.access_key_id, "secret_access_key": ADMIN.secret},
        {
            "name": "ops",
            "access_key_id": OPS.access_key_id,
            "secret_access_key_env": OPS_SECRET_ENV,
            "actions": ["cognito-idp:Admin*"],
            "resources": ["*"],
        },
        {
            "name": "backend",
            "access_key_id": BACKEND.access_key_id,
            "secret_access_key": BACKEND.secret,
            "actions": [
                "cognito-idp:Admin*",
                "cognito-idp:DescribeUserPool",
                "cognito-idp:ListTagsForResource",
                "cognito-idp:GetDerivedToken",
            ],
            "resources": backend_resources,
        },
    ]


def write_keys(path: Path, backend_resources: list[str]) -> None:
    path.write_text(json.dumps(key_entries(backend_resources), indent=2))


@contextlib.contextmanager
def secure_server(backend: str, workdir: Path) -> Iterator[CognateServer]:
    keys = workdir / "access-keys.json"
    write_keys(keys, [f"arn:aws:cognito-idp:zz-nowhere-1:{ACCOUNT_ID}:userpool/none"])
    args = ["--auth", "secure", "--access-keys-file", str(keys)]
    env = {OPS_SECRET_ENV: OPS.secret}
    if backend == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", extra_args=args, env=env) as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with (
        postgres_database(POSTGRES_URL) as url,
        start_server(workdir, db=url, extra_args=args, env=env) as srv,
    ):
        yield srv


def signed_client(endpoint: str, region: str, key: Key | None) -> Any:
    """A boto3 client signing with `key`, or sending everything unsigned (None)."""
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    if key is None:
        config = config.merge(Config(signature_version=UNSIGNED))
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key.access_key_id if key else "unused",
        aws_secret_access_key=key.secret if key else "unused",
        config=config,
    )


def signed_request(
    endpoint: str,
    region: str,
    operation: str,
    params: dict[str, Any],
    key: Key | None,
    *,
    at: dt.datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a request signed by botocore's SigV4Auth at `at` (default now)."""
    body = json.dumps(params).encode()
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    if key is not None:
        when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            SigV4Auth(Credentials(key.access_key_id, key.secret), "cognito-idp", region).add_auth(
                request
            )
    return dict(request.headers.items()), body


def send(endpoint: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST the request as is; the status and the JSON answer."""
    response = httpx.post(endpoint + "/", headers=headers, content=body, timeout=30)
    return response.status_code, response.json()
