"""`cognate rotate-keys`: new token signing keys while the server runs; tokens signed with
the old keys stay verifiable (the JWKS keeps the retired keys) and usable."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.conftest import make_client
from tests.support.cluster import key_env, run_cognate
from tests.support.server import start_server


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def rotate(tmp_path: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cognate("rotate-keys", "--db", db, *args, cwd=tmp_path, env=key_env(tmp_path))


def test_rotation_keeps_old_keys_published_and_old_tokens_working(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cognate.db"
    with start_server(tmp_path, db=db) as server:
        cognito = make_client(server.endpoint, f"zz-{uuid.uuid4().hex[:10]}-1")
        pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="c",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username="u", Password="Passw0rd!", Permanent=True
        )

        def sign_in() -> dict[str, Any]:
            return cognito.initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "u", "PASSWORD": "Passw0rd!"},
            )["AuthenticationResult"]

        def jwks_kids() -> list[str]:
            url = f"{server.endpoint}/{pool_id}/.well-known/jwks.json"
            return [key["kid"] for key in requests.get(url, timeout=10).json()["keys"]]

        before = sign_in()
        old_kids = jwks_kids()
        assert len(old_kids) == 2
        assert header_of(before["IdToken"])["kid"] == old_kids[0]
        assert header_of(before["AccessToken"])["kid"] == old_kids[1]

        done = rotate(tmp_path, db)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{pool_id}: new keys ")
        new_kids = jwks_kids()
        assert len(new_kids) == 4
        assert new_kids[2:] == old_kids  # retired keys stay published, after the active ones
        assert cognito.get_user(AccessToken=before["AccessToken"])["Username"] == "u"

        server.restart()  # a fresh process signs with the new keys at once
        after = sign_in()
        assert header_of(after["IdToken"])["kid"] == new_kids[0]
        assert header_of(after["AccessToken"])["kid"] == new_kids[1]
        assert cognito.get_user(AccessToken=before["AccessToken"])["Username"] == "u"

        unknown = rotate(tmp_path, db, "--pool-id", "us-east-1_missing")
        assert unknown.returncode == 1
        assert unknown.stderr.strip() == "cognate: User pool us-east-1_missing does not exist."
