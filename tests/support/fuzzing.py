"""What the fuzz tests (tests/fuzz) share: a client that sends any body to one server and
checks every answer against the properties, the pools the requests name, and settings.

`Fuzzer.send` posts a body (JSON-encoded, or raw bytes) as the operation's request and
asserts: no 5xx; an error is AWS-shaped (JSON with string `__type` and `message`, the
same name in `x-amzn-ErrorType`, status 400). `Fuzzer.assert_healthy` checks the health
endpoint and that the server log gained no Traceback, ERROR or undeclared-error line.

COGNATE_FUZZ_EXAMPLES (default 6) is the number of Hypothesis examples per operation and
kind of body; runs are reproducible (derandomize=True).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, settings

from cognate.wire import model
from tests.support.server import CognateServer

EXAMPLES = int(os.environ.get("COGNATE_FUZZ_EXAMPLES", "6"))
OPERATIONS = model.operation_names()
TARGET_PREFIX = model.target_prefix()
JSON_TYPE = "application/x-amz-json-1.1"
PASSWORD = "Fuzz-Passw0rd!"

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# Operations that would take the fixture's pool, client, user or tokens away from the
# operations after them: they are fuzzed with generated names only.
_DESTRUCTIVE = (
    "Delete",
    "AdminDelete",
    "AdminDisableUser",
    "GlobalSignOut",
    "AdminUserGlobalSignOut",
    "RevokeToken",
    "RevokeUserSession",
    "AdminRevokeUserSession",
    "StartPointInTimeRecovery",
    "InitiatePointInTimeRecovery",
    "CreateUserPoolReplica",
    "UpdateUserPoolReplica",
)


class Fuzzer:
    """Sends requests to one server in one region and checks every answer."""

    def __init__(self, server: CognateServer, region: str) -> None:
        self.server = server
        self.region = region
        self.http = httpx.Client(base_url=server.endpoint, timeout=60)
        self.hints: dict[str, list[Any]] = {}
        self.stable: World
        self._problems_seen = len(server.problems())

    def headers(self, operation: str) -> dict[str, str]:
        return {
            "X-Amz-Target": f"{TARGET_PREFIX}.{operation}",
            "Content-Type": JSON_TYPE,
            # Signatures are not checked; the credential scope names the region.
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/{self.region}/"
                "cognito-idp/aws4_request, SignedHeaders=host, Signature=00"
            ),
        }

    def send(self, operation: str, body: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else httpx_json(body)
        response = self.http.post("/", content=content, headers=self.headers(operation))
        check_reply(response, operation)
        return response

    def assert_healthy(self) -> None:
        assert self.http.get("/_cognate/health").status_code == 200
        problems = self.server.problems()[self._problems_seen :]
        self._problems_seen += len(problems)
        assert not problems, "the server logged problems:\n" + "\n".join(problems)


def httpx_json(body: Any) -> bytes:
    return json.dumps(body).encode()


def check_reply(response: httpx.Response, operation: str) -> None:
    where = f"{operation}: {response.status_code} {response.text[:500]}"
    assert response.status_code < 500, where
    assert response.headers.get("content-type") == JSON_TYPE, where
    assert response.headers.get("x-amzn-requestid"), where
    body = response.json()
    assert isinstance(body, dict), where
    if response.status_code == 200:
        assert "x-amzn-errortype" not in response.headers, where
        return
    assert response.status_code == 400, where
    assert isinstance(body.get("__type"), str), where
    assert body["__type"], where
    assert isinstance(body.get("message"), str), where
    assert response.headers.get("x-amzn-errortype") == body["__type"] + ":", where


@dataclass
class World:
    """A pool with an app client (code grant), a client with a secret, a signed-in user,
    a group, a domain and a resource server."""

    pool_id: str
    client_id: str
    secret_client_id: str
    tokens: dict[str, Any]
    domain: str
    domain_name: str
    """The domain's full name, as the hosted pages' paths take it."""


def make_world(cognito: Any, region: str) -> World:
    pool_id = cognito.create_user_pool(PoolName="fuzz", AutoVerifiedAttributes=["email"])[
        "UserPool"
    ]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="fuzz",
        ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["https://app.example.com/callback"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]["ClientId"]
    secret_client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="fuzz-secret",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="fuzzer",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "fuzzer@example.com"}],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="fuzzer", Password=PASSWORD, Permanent=True
    )
    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "fuzzer", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    cognito.create_group(UserPoolId=pool_id, GroupName="fuzzers")
    domain = f"fuzz-{uuid.uuid4().hex[:10]}"
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    cognito.create_resource_server(
        UserPoolId=pool_id, Identifier="https://api.example.com", Name="api"
    )
    return World(
        pool_id,
        client_id,
        secret_client_id,
        tokens,
        domain,
        f"{domain}.auth.{region}.amazoncognito.com",
    )


# Operations that create what they name: the fixture's pool and client only, so that the
# generated name is created rather than found to exist already.
_CREATING = ("Create", "AdminCreateUser", "SignUp", "AddCustomAttributes")


def hints_for(fuzz: Fuzzer, operation: str) -> dict[str, list[Any]]:
    if operation.startswith(_DESTRUCTIVE):
        return {}
    if operation.startswith(_CREATING):
        return {k: v for k, v in fuzz.hints.items() if k in ("UserPoolId", "ClientId")}
    return fuzz.hints


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while not _complete(received):
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
        return received


def _complete(response: bytes) -> bool:
    head, found, body = response.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False
