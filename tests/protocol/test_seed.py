"""`cognate serve --seed FILE`: examples/seed.yaml creates its pool, clients, domain,
groups, users, resource server, MFA configuration and trigger mapping with the fixed ids;
a second start with the same seed changes nothing; a changed seed is applied; a bad seed
stops the server with a message naming the item."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import make_client
from tests.support.auth import Srp, claims, secret_hash
from tests.support.cluster import shared_database
from tests.support.server import CognateServer, free_port, start_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "seed.yaml"
# The example's PreTokenGeneration ARN, run in the server by a function echoing its event.
TRIGGERS = (
    "arn:aws:lambda:us-east-1:000000000000:function:dev-pre-token="
    "python:tests.support.python_functions:py_echo"
)
POOL = "us-east-1_Dev00001"
WEB = "devwebclient000000000000001"
BACKEND = "devbackend00000000000000001"
REGION = "us-east-1"


def seed_line(server: CognateServer) -> str:
    lines = [line for line in server.log().splitlines() if line.startswith("  seed ")]
    return lines[-1]


def password_sign_in(cognito: Any, client_id: str, user: str, password: str, **extra: str) -> Any:
    return cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password, **extra},
    )["AuthenticationResult"]


def srp_sign_in(cognito: Any, user: str, password: str) -> dict[str, Any]:
    srp = Srp(cognito, POOL, WEB, user, password)
    started = srp.initiate()
    assert started["ChallengeName"] == "PASSWORD_VERIFIER", started
    result: dict[str, Any] = srp.respond(srp.responses(started["ChallengeParameters"]))
    return result["AuthenticationResult"]


def client_credentials(endpoint: str, secret: str) -> dict[str, Any]:
    basic = base64.b64encode(f"{BACKEND}:{secret}".encode()).decode()
    url = f"{endpoint}/_cognate/domains/dev-login.auth.{REGION}.amazoncognito.com/oauth2/token"
    response = httpx.post(
        url,
        data={"grant_type": "client_credentials", "scope": "https://api.dev.example/read"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def snapshot(cognito: Any) -> dict[str, Any]:
    """Modification dates of what the seed made (a second start must not move them)."""
    pool = cognito.describe_user_pool(UserPoolId=POOL)["UserPool"]
    clients = [
        cognito.describe_user_pool_client(UserPoolId=POOL, ClientId=c)["UserPoolClient"]
        for c in (WEB, BACKEND)
    ]
    users = [cognito.admin_get_user(UserPoolId=POOL, Username=u) for u in ("alice", "bob")]
    groups = cognito.list_groups(UserPoolId=POOL)["Groups"]
    server = cognito.describe_resource_server(
        UserPoolId=POOL, Identifier="https://api.dev.example"
    )["ResourceServer"]
    return {
        "pool": pool["LastModifiedDate"],
        "clients": [c["LastModifiedDate"] for c in clients],
        "users": [u["UserLastModifiedDate"] for u in users],
        "groups": [(g["GroupName"], g["LastModifiedDate"]) for g in groups],
        "scopes": server["Scopes"],
    }


def test_the_readme_shows_the_example_seed() -> None:
    readme = (REPO / "README.md").read_text()
    assert "```yaml\n" + EXAMPLE.read_text() + "```" in readme


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_example_seed_creates_everything_once(backend: str, tmp_path: Path) -> None:
    seed = yaml.safe_load(EXAMPLE.read_text())
    pool_seed = seed["Pools"][0]
    secret = pool_seed["Clients"][1]["ClientSecret"]
    calls = tmp_path / "calls.jsonl"
    with (
        shared_database(backend, tmp_path) as db,
        start_server(
            tmp_path,
            db=db,
            extra_args=["--seed", str(EXAMPLE), "--triggers", TRIGGERS],
            env={"COGNATE_TEST_FUNCTION_LOG": str(calls), "PYTHONPATH": str(REPO)},
        ) as server,
    ):
        assert "created 2 app clients" in seed_line(server)
        cognito = make_client(server.endpoint, REGION)

        pool = cognito.describe_user_pool(UserPoolId=POOL)["UserPool"]
        assert pool["Name"] == "dev"
        assert pool["UserPoolTags"] == {"env": "dev"}
        assert (
            pool["LambdaConfig"]["PreTokenGeneration"]
            == (pool_seed["LambdaConfig"]["PreTokenGeneration"])
        )
        assert pool["Domain"] == "dev-login"
        assert "custom:tenant" in {a["Name"] for a in pool["SchemaAttributes"]}
        assert pool["Policies"]["PasswordPolicy"]["RequireSymbols"] is False
        mfa = cognito.get_user_pool_mfa_config(UserPoolId=POOL)
        assert mfa["MfaConfiguration"] == "OPTIONAL"
        assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}

        clients = cognito.list_user_pool_clients(UserPoolId=POOL)["UserPoolClients"]
        assert {c["ClientId"] for c in clients} == {WEB, BACKEND}
        backend_client = cognito.describe_user_pool_client(UserPoolId=POOL, ClientId=BACKEND)
        assert backend_client["UserPoolClient"]["ClientSecret"] == secret

        alice = password_sign_in(cognito, WEB, "alice", "Alice-Passw0rd")
        assert claims(alice["IdToken"])["custom:tenant"] == "acme"
        assert claims(alice["AccessToken"])["cognito:groups"] == ["admins", "readers"]
        assert '"triggerSource": "TokenGeneration_Authentication"' in calls.read_text()
        bob = srp_sign_in(cognito, "bob", "Bob-Passw0rd")
        assert claims(bob["IdToken"])["email"] == "bob@example.com"
        assert cognito.admin_get_user(UserPoolId=POOL, Username="bob")["UserStatus"] == (
            "CONFIRMED"
        )
        hashed = secret_hash(secret, "alice", BACKEND)
        password_sign_in(cognito, BACKEND, "alice", "Alice-Passw0rd", SECRET_HASH=hashed)

        token = client_credentials(server.endpoint, secret)  # the domain, scopes, secret
        assert claims(token["access_token"])["scope"] == "https://api.dev.example/read"

        before = snapshot(cognito)
        server.restart()
        assert seed_line(server).endswith(
            "unchanged 2 app clients, 1 domain, 2 groups, 1 MFA configuration, 1 pool, "
            "1 resource server, 2 users"
        )
        assert snapshot(cognito) == before
        assert "NotAuthorizedException" not in str(srp_sign_in(cognito, "alice", "Alice-Passw0rd"))

        # A user who changed their password keeps it; ResetPassword puts the seed's back.
        for user, old in (("alice", "Alice-Passw0rd"), ("bob", "Bob-Passw0rd")):
            cognito.change_password(
                PreviousPassword=old,
                ProposedPassword="Chang3d-Passw0rd",
                AccessToken=password_sign_in(cognito, WEB, user, old)["AccessToken"],
            )

        # A changed seed: a group's description, a new user; the rest stays.
        pool_seed["Groups"][1]["Description"] = "read-only users"
        pool_seed["Users"].append(
            {"Username": "carol", "Password": "Carol-Passw0rd", "Groups": ["readers"]}
        )
        changed = tmp_path / "changed.yaml"
        changed.write_text(yaml.safe_dump(seed))
        server.extra_args = ["--seed", str(changed), "--triggers", TRIGGERS]
        server.restart()
        line = seed_line(server)
        assert "created 1 group membership, 1 user;" in line
        assert "updated 1 group, 1 user;" in line  # readers; bob's password
        group = cognito.get_group(UserPoolId=POOL, GroupName="readers")["Group"]
        assert group["Description"] == "read-only users"
        password_sign_in(cognito, WEB, "carol", "Carol-Passw0rd")
        password_sign_in(cognito, WEB, "alice", "Chang3d-Passw0rd")
        password_sign_in(cognito, WEB, "bob", "Bob-Passw0rd")


def bad_seed_error(tmp_path: Path, db: str, seed: dict[str, Any]) -> tuple[int | None, str]:
    path = tmp_path / f"bad-{free_port()}.yaml"
    path.write_text(yaml.safe_dump(seed))
    server = CognateServer(tmp_path, db, free_port(), ["--seed", str(path)])
    with pytest.raises(RuntimeError, match="exited early"):
        server.start()
    assert server.process is not None
    code = server.process.wait(timeout=30)
    assert not server.problems()
    return code, server.log()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_bad_seed_stops_the_server_naming_the_item(backend: str, tmp_path: Path) -> None:
    with shared_database(backend, tmp_path) as db:
        weak = {
            "Pools": [
                {
                    "Id": "us-east-1_Bad00001",
                    "PoolName": "bad",
                    "Users": [{"Username": "carol", "Password": "short"}],
                }
            ]
        }
        code, log = bad_seed_error(tmp_path, db, weak)
        assert code == 1
        assert (
            "Pools[0] (us-east-1_Bad00001).Users[0] (carol): AdminCreateUser: "
            "InvalidPasswordException: Password did not conform with password policy" in log
        )

        typo = {"Pools": [{"PoolName": "p", "Clients": [{"ClientName": "c", "CallbackUrls": []}]}]}
        code, log = bad_seed_error(tmp_path, db, typo)
        assert code == 1
        assert "Pools[0] (p).Clients[0]: 'CallbackUrls' is not a parameter of " in log

        wrong_region = {"Pools": [{"Id": "eu-west-1_Dev1", "Region": "us-east-1", "PoolName": "p"}]}
        code, log = bad_seed_error(tmp_path, db, wrong_region)
        assert code == 1
        assert "Region us-east-1 is not the region of Id eu-west-1_Dev1" in log

        invalid = {"Pools": [{"PoolName": "q", "MfaConfiguration": "SOMETIMES"}]}
        code, log = bad_seed_error(tmp_path, db, invalid)
        assert code == 1
        assert "Pools[0] (q): CreateUserPool: InvalidParameterException: 1 validation" in log
