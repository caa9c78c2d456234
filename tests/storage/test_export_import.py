"""`cognate export` / `cognate import`: a pool moves between two Cognate instances with
different master keys (and backends), secrets and all: users sign in on the target with
SRP, TOTP and their remembered device; tokens issued by the source keep working there
(signing keys and token sessions moved); client secrets work. And every pool-owned table
of the schema is moved or explicitly not (the check that catches a new table)."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pycognito import aws_srp

from cognate.storage import schema
from cognate.transfer import tables
from tests.conftest import make_client
from tests.support.auth import (
    PASSWORD,
    Srp,
    claims,
    new_client,
    new_pool,
    new_user,
    secret_hash,
    sign_in,
)
from tests.support.cluster import key_env, run_cognate, shared_database
from tests.support.devices import Device, Setup, device_srp
from tests.support.server import CognateServer, start_server

REGION = "us-east-1"


def test_every_pool_owned_table_is_moved_or_said_not_to_be() -> None:
    """plan() fails on a pool-owned column it cannot move by itself (a row key without a
    foreign key, a sealed column without its context); every table that refers to a pool,
    directly or through another table, is either moved or listed with its reason."""
    plan = tables.plan()
    moved = {t.name for t in plan.tables}
    owned = {str(t.name) for t in tables.pool_owned()}
    assert moved | set(plan.skipped) == owned
    assert not moved & set(plan.skipped)
    assert set(plan.skipped) <= owned
    assert tables.unowned_row_keys() == []
    # Tables reach their pool through references the plan follows (spot checks).
    assert {"refresh_tokens", "group_members", "software_tokens", "devices"} <= moved
    assert {"client_secrets", "client_metadata_urls", "user_import_chunks"} <= moved
    # Every sealed column of a moved table has its context.
    for table in plan.tables:
        for column in table.table.columns:
            if column.name.endswith("_enc"):
                assert column.name in table.sealed, f"{table.name}.{column.name}"
    untouched = {str(t.name) for t in schema.metadata.sorted_tables} - owned
    assert {"cognate_meta", "provisioned_limits", "rate_counters"} <= untouched


@contextlib.contextmanager
def instance(backend: str, root: Path) -> Iterator[tuple[CognateServer, str]]:
    root.mkdir()
    with shared_database(backend, root) as db, start_server(root, db=db) as server:
        yield server, db


def cognate(root: Path, *args: str) -> Any:
    return run_cognate(*args, cwd=root, env=key_env(root))


def totp_at(secret: str, steps: int) -> str:
    return str(pyotp.TOTP(secret).at(int(time.time()) + 30 * steps))


@pytest.mark.parametrize(
    ("source", "target"), [("sqlite", "postgres"), ("postgres", "sqlite"), ("sqlite", "sqlite")]
)
def test_a_pool_moves_with_its_secrets(source: str, target: str, tmp_path: Path) -> None:
    with (
        instance(source, tmp_path / "a") as (a, a_db),
        instance(target, tmp_path / "b") as (
            b,
            b_db,
        ),
    ):
        assert (tmp_path / "a" / "master.key").read_bytes() != (
            tmp_path / "b" / "master.key"
        ).read_bytes()
        on_a = make_client(a.endpoint, REGION)
        pool_id = new_pool(on_a, "moving", UserPoolTags={"team": "id"})
        on_a.update_user_pool(
            UserPoolId=pool_id,
            UserPoolTags={"team": "id"},
            DeviceConfiguration={
                "ChallengeRequiredOnNewDevice": False,
                "DeviceOnlyRememberedOnUserPrompt": False,
            },
        )
        on_a.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration="OPTIONAL",
        )
        on_a.create_user_pool_domain(UserPoolId=pool_id, Domain=f"moving-{source}-{target}")
        public = new_client(on_a, pool_id)["ClientId"]
        confidential = new_client(on_a, pool_id, GenerateSecret=True)
        secret = confidential["ClientSecret"]
        on_a.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1)
        new_user(on_a, pool_id, "alice", attributes={"email": "alice@example.com"})
        new_user(on_a, pool_id, "bob", attributes={"email": "bob@example.com"})
        on_a.admin_add_user_to_group(UserPoolId=pool_id, Username="bob", GroupName="admins")
        on_a.set_ui_customization(UserPoolId=pool_id, CSS=".banner-customizable {color: red}")

        # alice: a remembered device (SRP verifier), then TOTP as her MFA.
        first = sign_in(on_a, public, "alice")
        meta = first["NewDeviceMetadata"]
        device_password, config = aws_srp.generate_hash_device(
            meta["DeviceGroupKey"], meta["DeviceKey"]
        )
        on_a.confirm_device(
            AccessToken=first["AccessToken"],
            DeviceKey=meta["DeviceKey"],
            DeviceSecretVerifierConfig=config,
            DeviceName="alice's laptop",
        )
        device = Device(meta["DeviceKey"], meta["DeviceGroupKey"], device_password)
        totp = on_a.associate_software_token(AccessToken=first["AccessToken"])["SecretCode"]
        verified = on_a.verify_software_token(
            AccessToken=first["AccessToken"], UserCode=totp_at(totp, 0)
        )
        assert verified["Status"] == "SUCCESS"
        on_a.set_user_mfa_preference(
            AccessToken=first["AccessToken"],
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
        # bob: tokens issued by A, from both clients.
        bob = sign_in(on_a, public, "bob")
        bob_secret = sign_in(
            on_a,
            confidential["ClientId"],
            "bob",
            SECRET_HASH=secret_hash(secret, "bob", confidential["ClientId"]),
        )

        passphrase = tmp_path / "passphrase"
        passphrase.write_text("correct horse battery staple\n")
        out = tmp_path / "pool.export"
        exported = cognate(
            tmp_path / "a",
            "export", "--db", a_db, "--pool", pool_id, "--out", str(out),
            "--passphrase-file", str(passphrase),
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        assert "holds the pool's secrets" in exported.stderr
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
        assert secret.encode() not in out.read_bytes()  # encrypted

        wrong = tmp_path / "wrong"
        wrong.write_text("not it")
        refused = cognate(
            tmp_path / "b", "import", str(out), "--db", b_db, "--passphrase-file", str(wrong)
        )
        assert refused.returncode == 1
        assert "does not decrypt: wrong passphrase" in refused.stderr
        imported = cognate(
            tmp_path / "b", "import", str(out), "--db", b_db, "--passphrase-file", str(passphrase)
        )
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.startswith(f"imported {pool_id} ({REGION}): ")
        again = cognate(
            tmp_path / "b", "import", str(out), "--db", b_db, "--passphrase-file", str(passphrase)
        )
        assert again.returncode == 1
        assert f"User pool {pool_id} already exists in this database" in again.stderr

        on_b = make_client(b.endpoint, REGION)
        pool = on_b.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        assert (pool["Name"], pool["UserPoolTags"]) == ("moving", {"team": "id"})
        assert pool["Domain"] == f"moving-{source}-{target}"
        described = on_b.describe_user_pool_client(
            UserPoolId=pool_id, ClientId=confidential["ClientId"]
        )["UserPoolClient"]
        assert described["ClientSecret"] == secret
        css = on_b.get_ui_customization(UserPoolId=pool_id)["UICustomization"]["CSS"]
        assert "color: red" in css

        # Tokens A issued work on B: access token, refresh tokens (with the secret too).
        assert on_b.get_user(AccessToken=bob["AccessToken"])["Username"] == "bob"
        refreshed = on_b.initiate_auth(
            ClientId=public,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={
                "REFRESH_TOKEN": bob["RefreshToken"],
                "DEVICE_KEY": bob["NewDeviceMetadata"]["DeviceKey"],  # device tracking is on
            },
        )["AuthenticationResult"]
        assert claims(refreshed["AccessToken"])["cognito:groups"] == ["admins"]
        on_b.initiate_auth(
            ClientId=confidential["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={
                "REFRESH_TOKEN": bob_secret["RefreshToken"],
                "SECRET_HASH": secret_hash(secret, "bob", confidential["ClientId"]),
                "DEVICE_KEY": bob_secret["NewDeviceMetadata"]["DeviceKey"],
            },
        )
        # SRP with the moved verifier.
        srp = Srp(on_b, pool_id, public, "bob", PASSWORD)
        started = srp.initiate()
        result = srp.respond(srp.responses(started["ChallengeParameters"]))
        assert claims(result["AuthenticationResult"]["IdToken"])["email"] == "bob@example.com"

        # alice: SRP, TOTP with the moved secret, then her device's proof (the moved device
        # verifier; without ChallengeRequiredOnNewDevice it follows MFA).
        srp = Srp(on_b, pool_id, public, "alice", PASSWORD)
        started = srp.initiate(DEVICE_KEY=device.key)
        challenge = srp.respond(srp.responses(started["ChallengeParameters"]))
        assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA", challenge
        challenge = on_b.respond_to_auth_challenge(
            ClientId=public,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge["Session"],
            ChallengeResponses={
                "USERNAME": "alice",
                "SOFTWARE_TOKEN_MFA_CODE": totp_at(totp, 1),
                "DEVICE_KEY": device.key,
            },
        )
        last = device_srp(on_b, Setup(pool_id, public, "alice"), challenge, device)
        assert claims(last["AuthenticationResult"]["AccessToken"])["device_key"] == device.key

        # --replace puts the file's pool back over a changed one.
        on_b.admin_delete_user(UserPoolId=pool_id, Username="bob")
        replaced = cognate(
            tmp_path / "b",
            "import", str(out), "--replace", "--db", b_db,
            "--passphrase-file", str(passphrase),
        )  # fmt: skip
        assert replaced.returncode == 0, replaced.stderr
        assert on_b.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"] == (
            "CONFIRMED"
        )
