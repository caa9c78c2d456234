"""User pool replicas (multi-Region replication) through boto3, end to end.

The replica region is reached the two ways a real client reaches a region: a signed
client whose SigV4 scope names it, and an unsigned (browser-like) client whose requests
go to `cognito-idp.<region>.amazonaws.com` (here: the Host header of that name, sent to
the test server, as a DNS entry or proxy would).
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from joserfc import jws
from joserfc.jwk import RSAKey

from tests.conftest import make_client
from tests.support.auth import (
    claims,
    error,
    header,
    new_client,
    new_pool,
    new_user,
    sign_in,
    unsigned_client,
)
from tests.support.server import start_server


@pytest.fixture
def replica_region(region: str) -> str:
    return region.replace("zz-", "yy-")


@pytest.fixture
def replica(server: Any, replica_region: str) -> Any:
    """A signed client in the replica's region."""
    return make_client(server.endpoint, replica_region)


@pytest.fixture
def replica_public(server: Any, replica_region: str) -> Any:
    """An unsigned client calling the replica region's endpoint by its host name."""
    return host_named(unsigned_client(server.endpoint, replica_region), replica_region)


def host_named(client: Any, region: str) -> Any:
    def set_host(request: Any, **_: Any) -> None:
        request.headers["Host"] = f"cognito-idp.{region}.amazonaws.com"

    client.meta.events.register("before-send.cognito-idp", set_host)
    return client


def wait_for(cognito: Any, pool_id: str, region: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        replicas = cognito.list_user_pool_replicas(UserPoolId=pool_id)["UserPoolReplicas"]
        found = [r for r in replicas if r["RegionName"] == region]
        assert found, replicas
        if found[0]["Status"] == status or time.monotonic() > deadline:
            assert found[0]["Status"] == status
            return found[0]
        time.sleep(0.1)


def arn(region: str, pool_id: str) -> str:
    return f"arn:aws:cognito-idp:{region}:123456789012:userpool/{pool_id}"


def test_lifecycle(cognito: Any, replica: Any, region: str, replica_region: str) -> None:
    pool_id = new_pool(cognito, "replicated")
    created = cognito.create_user_pool_replica(
        UserPoolId=pool_id, RegionName=replica_region, UserPoolTags={"team": "dr"}
    )["UserPoolReplica"]
    assert created["RegionName"] == replica_region
    assert created["Status"] == "CREATING"
    assert created["Role"] == "SECONDARY"
    assert created["UserPoolArn"].startswith(f"arn:aws:cognito-idp:{replica_region}:")
    assert created["UserPoolArn"].endswith(f":userpool/{pool_id}")
    # While being created the replica region does not serve the pool yet.
    with pytest.raises(ClientError) as exc:
        replica.describe_user_pool(UserPoolId=pool_id)
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool_replica(
            UserPoolId=pool_id, RegionName=replica_region, Status="ACTIVE"
        )
    assert error(exc)[0] == "InvalidParameterException"

    # New secondaries start INACTIVE; the primary is listed first.
    wait_for(cognito, pool_id, replica_region, "INACTIVE")
    listed = cognito.list_user_pool_replicas(UserPoolId=pool_id)
    assert "NextToken" not in listed
    primary, secondary = listed["UserPoolReplicas"]
    assert (primary["RegionName"], primary["Role"], primary["Status"]) == (
        region,
        "PRIMARY",
        "ACTIVE",
    )
    assert (
        primary["UserPoolArn"] == cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    )
    assert (secondary["RegionName"], secondary["Role"], secondary["Status"]) == (
        replica_region,
        "SECONDARY",
        "INACTIVE",
    )
    assert secondary["UserPoolArn"] == created["UserPoolArn"]
    # The same listing from the replica's region.
    assert replica.list_user_pool_replicas(UserPoolId=pool_id)["UserPoolReplicas"] == [
        primary,
        secondary,
    ]

    # Activate (from the secondary region: allowed in both), then an ACTIVE replica
    # cannot be deleted.
    activated = replica.update_user_pool_replica(
        UserPoolId=pool_id, RegionName=replica_region, Status="ACTIVE"
    )["UserPoolReplica"]
    assert (activated["Status"], activated["Role"]) == ("ACTIVE", "SECONDARY")
    assert wait_for(cognito, pool_id, replica_region, "ACTIVE")["Status"] == "ACTIVE"
    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    assert error(exc)[0] == "InvalidParameterException"
    assert "INACTIVE" in error(exc)[1]

    cognito.update_user_pool_replica(
        UserPoolId=pool_id, RegionName=replica_region, Status="INACTIVE"
    )
    # Deleting must be done from the primary region.
    with pytest.raises(ClientError) as exc:
        replica.delete_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    assert error(exc)[0] == "OperationNotEnabledException"
    deleted = cognito.delete_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)[
        "UserPoolReplica"
    ]
    assert (deleted["RegionName"], deleted["Status"], deleted["Role"]) == (
        replica_region,
        "DELETING",
        "SECONDARY",
    )
    listed = cognito.list_user_pool_replicas(UserPoolId=pool_id)["UserPoolReplicas"]
    assert [r["Role"] for r in listed] == ["PRIMARY"]
    # The region is unknown again.
    with pytest.raises(ClientError) as exc:
        replica.describe_user_pool(UserPoolId=pool_id)
    assert error(exc) == ("ResourceNotFoundException", f"User pool {pool_id} does not exist.")
    with pytest.raises(ClientError) as exc:
        cognito.delete_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    assert error(exc)[0] == "ResourceNotFoundException"
    # ...and a replica can be made again.
    again = cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    assert again["UserPoolReplica"]["Status"] == "CREATING"


def test_errors(cognito: Any, region: str, replica_region: str) -> None:
    missing = f"{region}_doesnotexist1"
    for call in (
        lambda: cognito.create_user_pool_replica(UserPoolId=missing, RegionName=replica_region),
        lambda: cognito.list_user_pool_replicas(UserPoolId=missing),
        lambda: cognito.update_user_pool_replica(
            UserPoolId=missing, RegionName=replica_region, Status="ACTIVE"
        ),
        lambda: cognito.delete_user_pool_replica(UserPoolId=missing, RegionName=replica_region),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("ResourceNotFoundException", f"User pool {missing} does not exist.")

    pool_id = new_pool(cognito)
    # No replica there yet.
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool_replica(
            UserPoolId=pool_id, RegionName=replica_region, Status="ACTIVE"
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    # The primary's own region, and a name that is no region.
    for bad in (region, "not a region"):
        with pytest.raises(ClientError) as exc:
            cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=bad)
        assert error(exc)[0] == "InvalidParameterException", bad
    with pytest.raises(ClientError) as exc:
        cognito.update_user_pool_replica(UserPoolId=pool_id, RegionName=region, Status="INACTIVE")
    assert error(exc)[0] == "InvalidParameterException"
    # One secondary per pool: the same region again, then any other.
    cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_replica(
            UserPoolId=pool_id, RegionName=region.replace("zz-", "xx-")
        )
    assert error(exc)[0] == "LimitExceededException"
    # Not on the Lite feature plan.
    lite = new_pool(cognito, "lite", UserPoolTier="LITE")
    with pytest.raises(ClientError) as exc:
        cognito.create_user_pool_replica(UserPoolId=lite, RegionName=replica_region)
    assert error(exc)[0] == "FeatureUnavailableInTierException"
    # A NextToken this server did not issue.
    with pytest.raises(ClientError) as exc:
        cognito.list_user_pool_replicas(UserPoolId=pool_id, NextToken="bogus")
    assert error(exc)[0] == "InvalidParameterException"


def _jwks(server: Any, pool_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.endpoint}/{pool_id}/.well-known/jwks.json") as r:
        document: dict[str, Any] = json.loads(r.read())
    return document


def test_sign_in_through_an_active_replica(
    server: Any, cognito: Any, replica: Any, replica_public: Any, replica_region: str
) -> None:
    pool_id = new_pool(cognito, "replicated")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice")
    cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    wait_for(cognito, pool_id, replica_region, "INACTIVE")
    cognito.update_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region, Status="ACTIVE")
    # A user created in the primary after replication started is there too (in sync).
    new_user(cognito, pool_id, "bob")
    assert replica.admin_get_user(UserPoolId=pool_id, Username="bob")["Username"] == "bob"
    assert replica.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id

    primary_tokens = sign_in(cognito, client_id, "alice")
    tokens = sign_in(replica_public, client_id, "alice")
    admin_tokens = replica.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": "Corr3ct-Horse!"},
    )["AuthenticationResult"]
    # The pool's issuer in every region, and the same keys verify the tokens.
    assert claims(tokens["IdToken"])["iss"] == claims(primary_tokens["IdToken"])["iss"]
    assert claims(admin_tokens["AccessToken"])["username"] == "bob"
    keys = {k["kid"]: k for k in _jwks(server, pool_id)["keys"]}
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        key = RSAKey.import_key(keys[header(token)["kid"]])
        jws.deserialize_compact(token, key, algorithms=["RS256"])
    # The tokens work against the primary: same sessions.
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    assert replica_public.get_user(AccessToken=primary_tokens["AccessToken"])["Username"] == (
        "alice"
    )
    refreshed = replica_public.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert claims(refreshed["IdToken"])["cognito:username"] == "alice"

    # A secondary does not create or change users: that is the primary's job.
    with pytest.raises(ClientError) as exc:
        replica.admin_create_user(UserPoolId=pool_id, Username="carol")
    assert error(exc)[0] == "OperationNotEnabledException"
    with pytest.raises(ClientError) as exc:
        replica_public.sign_up(ClientId=client_id, Username="carol", Password="Corr3ct-Horse!")
    assert error(exc)[0] == "OperationNotEnabledException"
    with pytest.raises(ClientError) as exc:
        replica_public.forgot_password(ClientId=client_id, Username="alice")
    assert error(exc)[0] == "OperationNotEnabledException"
    with pytest.raises(ClientError) as exc:
        replica.update_user_pool(UserPoolId=pool_id)
    assert error(exc)[0] == "OperationNotEnabledException"
    # (a write whose model declares no OperationNotEnabledException)
    with pytest.raises(ClientError) as exc:
        replica.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id)
    assert error(exc)[0] == "InvalidParameterException"
    assert "secondary replica region" in error(exc)[1]
    for call in (
        lambda: replica_public.update_user_attributes(
            AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "name", "Value": "A"}]
        ),
        lambda: replica_public.change_password(
            AccessToken=tokens["AccessToken"],
            PreviousPassword="Corr3ct-Horse!",
            ProposedPassword="N3w-Battery-Staple!",
        ),
        lambda: replica_public.associate_software_token(AccessToken=tokens["AccessToken"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc)[0] == "OperationNotEnabledException"
    # ...while the primary does.
    cognito.update_user_attributes(
        AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "name", "Value": "A"}]
    )
    alice = replica.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert {"Name": "name", "Value": "A"} in alice["UserAttributes"]
    with pytest.raises(ClientError) as exc:
        replica.list_users(UserPoolId=f"{pool_id}x")
    assert error(exc)[0] == "ResourceNotFoundException"


def test_inactive_replica_refuses_end_users(
    cognito: Any, replica: Any, replica_public: Any, replica_region: str
) -> None:
    pool_id = new_pool(cognito, "replicated")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice")
    cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    wait_for(cognito, pool_id, replica_region, "INACTIVE")

    with pytest.raises(ClientError) as exc:
        sign_in(replica_public, client_id, "alice")
    code, message = error(exc)
    assert code == "OperationNotEnabledException"
    assert "INACTIVE" in message
    with pytest.raises(ClientError) as exc:
        replica.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Corr3ct-Horse!"},
        )
    assert error(exc)[0] == "OperationNotEnabledException"
    # Administrator reads are served.
    assert replica.admin_get_user(UserPoolId=pool_id, Username="alice")["Username"] == "alice"
    assert [u["Username"] for u in replica.list_users(UserPoolId=pool_id)["Users"]] == ["alice"]
    # The primary keeps serving sign-in; its tokens are refused in the inactive region.
    access = sign_in(cognito, client_id, "alice")["AccessToken"]
    with pytest.raises(ClientError) as exc:
        replica_public.get_user(AccessToken=access)
    assert error(exc)[0] == "OperationNotEnabledException"

    # Deleted: the region no longer knows the pool or its clients.
    cognito.delete_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    with pytest.raises(ClientError) as exc:
        replica.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        sign_in(replica_public, client_id, "alice")
    assert error(exc) == (
        "ResourceNotFoundException",
        f"User pool client {client_id} does not exist.",
    )


def test_a_second_deployment_sharing_the_database_serves_the_replica(
    server: Any, cognito: Any, replica_region: str, tmp_path: Path
) -> None:
    """The replica region served by another `cognate serve` on the same database (with
    the same master key and issuer URL), as a standby deployment would be."""
    pool_id = new_pool(cognito, "replicated")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice")
    cognito.create_user_pool_replica(UserPoolId=pool_id, RegionName=replica_region)
    env = {
        "COGNATE_MASTER_KEY_FILE": str(server.workdir / "master.key"),
        "COGNATE_PUBLIC_URL": server.endpoint,
        "COGNATE_REGION": replica_region,
    }
    with start_server(tmp_path, db=server.db, env=env) as standby:
        standby_admin = make_client(standby.endpoint, replica_region)
        standby_public = host_named(
            unsigned_client(standby.endpoint, replica_region), replica_region
        )
        wait_for(standby_admin, pool_id, replica_region, "INACTIVE")
        with pytest.raises(ClientError) as exc:
            sign_in(standby_public, client_id, "alice")
        assert error(exc)[0] == "OperationNotEnabledException"
        # Failover: the standby's region is activated (from the standby itself).
        standby_admin.update_user_pool_replica(
            UserPoolId=pool_id, RegionName=replica_region, Status="ACTIVE"
        )
        tokens = sign_in(standby_public, client_id, "alice")
        primary_tokens = sign_in(cognito, client_id, "alice")
        assert claims(tokens["IdToken"])["iss"] == claims(primary_tokens["IdToken"])["iss"]
        # Tokens from either deployment are good at the other.
        assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
        assert (
            standby_public.get_user(AccessToken=primary_tokens["AccessToken"])["Username"]
            == "alice"
        )
