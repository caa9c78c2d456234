"""Fixtures of the fuzz tests: a server of the module's own, and a Fuzzer with two pools."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_URL, _backend_params, make_client
from tests.support.fuzzing import PASSWORD, Fuzzer, make_world
from tests.support.server import CognateServer, postgres_database, start_server


@pytest.fixture(scope="module", params=_backend_params())
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    """A server of the module's own: what the fuzz leaves behind stays out of other tests."""
    workdir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/cognate.db") as srv:
            yield srv
    else:
        assert POSTGRES_URL is not None
        with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url) as srv:
            yield srv


@pytest.fixture(scope="module")
def fuzz(fuzz_server: CognateServer) -> Iterator[Fuzzer]:
    """A fuzzer with two worlds: `fuzzed`, whose names the generated requests use (and may
    change in any way a valid request can), and `stable`, which only the deterministic
    tests use."""
    region = f"zz-fuzz{uuid.uuid4().hex[:8]}-1"
    fuzzer = Fuzzer(fuzz_server, region)
    cognito = make_client(fuzz_server.endpoint, region)
    fuzzed = make_world(cognito, region)
    fuzzer.stable = make_world(cognito, region)
    refresh = fuzzed.tokens["RefreshToken"]
    fuzzer.hints = {
        "UserPoolId": [fuzzed.pool_id],
        "ClientId": [fuzzed.client_id, fuzzed.secret_client_id],
        "Username": ["fuzzer"],
        "GroupName": ["fuzzers"],
        "AccessToken": [fuzzed.tokens["AccessToken"]],
        "RefreshToken": [refresh],
        "Domain": [fuzzed.domain],
        "Identifier": ["https://api.example.com"],
        # Sign-in parameters with the real user, and SECRET_HASH values of every kind.
        "AuthParameters": [
            {"USERNAME": "fuzzer", "PASSWORD": PASSWORD},
            {"USERNAME": "fuzzer", "PASSWORD": "wrong", "SECRET_HASH": "\u00e9t\u00e9"},
            {"USERNAME": "fuzzer", "PASSWORD": PASSWORD, "SECRET_HASH": "bm90IGl0"},
            {"REFRESH_TOKEN": refresh, "SECRET_HASH": "\u2603"},
            {"USERNAME": "fuzzer", "SRP_A": "abc"},
        ],
        "ResourceArn": [f"arn:aws:cognito-idp:{region}:000000000000:userpool/{fuzzed.pool_id}"],
    }
    yield fuzzer
    fuzzer.http.close()
