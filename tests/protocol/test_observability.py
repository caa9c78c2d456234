"""Health, readiness, Prometheus metrics and structured logs, against live servers.

* `/health` and `/_cognate/health` answer while the process runs; `/ready` is 200 while the
  database answers at the current schema revision, 503 with a JSON reason when the
  schema is not current (its alembic_version row taken away, as before `cognate migrate`)
  or the database is gone (PostgreSQL: dropped under the server).
* `/metrics` after known requests: per-operation request and error counters (with the
  error type), latency histogram buckets, sign-ins by flow and result, the outbox backlog
  read from the database, trigger latency by triggerSource; with `--workers 2` every
  scrape shows the sum over both workers (the test goes on until both have served).
* Logs: with `--log-format json` every line is a JSON object, and a line written during an
  API request carries that request's id (text format: `[id]` after the logger name).
* No secrets: a sign-up, password and SRP sign-ins with SMS MFA, a refresh, a wrong password
  and a password reset, with a client secret, at log level debug in JSON; then none of the
  passwords, codes, tokens, SRP values, session strings or the client secret appear in
  the server's log.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import POSTGRES_URL, make_client
from tests.support.auth import (
    PASSWORD,
    WRONG_PASSWORD,
    Srp,
    new_client,
    new_pool,
    new_user,
    secret_hash,
    sign_in,
)
from tests.support.outbox_api import last_code
from tests.support.server import CognateServer, free_port, postgres_database, start_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
UNMAPPED = "arn:aws:lambda:us-east-1:000000000000:function:not_mapped_anywhere"
PID_TRIGGER = """
import os


def obs_pre_sign_up(event, context):
    with open("trigger-pids.txt", "a", encoding="utf-8") as out:
        out.write(f"{os.getpid()}\\n")
    event["response"]["autoConfirmUser"] = True
    return event
"""
TRIGGER_RULE = "arn:aws:lambda:*:*:function:obs_*=python:obs_triggers:{function}"
PID_ARN = "arn:aws:lambda:us-east-1:000000000000:function:obs_pre_sign_up"


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def scrape(endpoint: str) -> Samples:
    status, body, headers = get(f"{endpoint}/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain"), headers
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def request_id(response: dict[str, Any]) -> str:
    rid: str = response["ResponseMetadata"]["RequestId"]
    return rid


# ----------------------------------------------------------------------------- health


def test_health_and_readiness(server: CognateServer) -> None:
    for path in ("/health", "/_cognate/health"):
        status, body, _ = get(server.endpoint + path)
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    status, body, _ = get(server.endpoint + "/ready")
    assert (status, json.loads(body)) == (200, {"status": "ready", "schema_revision": "0001"})


@contextlib.contextmanager
def _sql(db: str) -> Iterator[Any]:
    """A DB-API connection to the server's database (autocommit)."""
    if db.startswith("sqlite:///"):
        conn = sqlite3.connect(db[len("sqlite:///") :], isolation_level=None, timeout=30)
        try:
            yield conn
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(db, autocommit=True) as pg:
        yield pg


def test_ready_fails_while_the_schema_is_not_current(server: CognateServer) -> None:
    """The database without its alembic_version row (as an unmigrated one is): 503 with
    the reason, 200 again once the row is back; liveness is not affected."""
    with _sql(server.db) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.execute("DELETE FROM alembic_version")
        try:
            status, body, _ = get(server.endpoint + "/ready")
            assert status == 503
            answer = json.loads(body)
            assert answer["status"] == "unavailable"
            assert answer["reason"] == "schema_not_current"
            assert "cognate migrate" in answer["detail"]
            assert get(server.endpoint + "/health")[0] == 200
        finally:
            conn.execute(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')")
    assert get(server.endpoint + "/ready")[0] == 200


@pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")
def test_ready_fails_when_the_database_is_gone(tmp_path: Path) -> None:
    """PostgreSQL dropped under a running server: /ready answers 503 database_unreachable
    (and its log line carries a request id), /health still answers, /metrics too with the
    backlog marked unreadable."""
    assert POSTGRES_URL is not None
    admin = POSTGRES_URL
    with postgres_database(admin) as url:
        server = CognateServer(tmp_path, url, free_port())
        server.start()
        try:
            assert get(server.endpoint + "/ready")[0] == 200
            name = url.rsplit("/", 1)[1]
            with _sql(admin) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            status, body, _ = get(server.endpoint + "/ready")
            assert status == 503
            answer = json.loads(body)
            assert (answer["status"], answer["reason"]) == ("unavailable", "database_unreachable")
            assert get(server.endpoint + "/health")[0] == 200
            samples = scrape(server.endpoint)
            assert value(samples, "cognate_outbox_backlog_up") == 0
        finally:
            server.stop()
        lines = [line for line in server.log().splitlines() if "readiness:" in line]
        assert lines, server.log()
        # Text format: the web request's id in brackets after the logger name.
        assert all("cognate.web.health [" in line for line in lines), lines
        # (The outbox sender's failing rounds are logged with tracebacks: expected here.)


# ----------------------------------------------------------------------------- metrics


def test_metrics_count_requests_errors_latency_sign_ins_and_backlog(
    server: CognateServer, cognito: Any
) -> None:
    pool_id = new_pool(cognito, "metrics")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice")
    before = scrape(server.endpoint)

    tokens = sign_in(cognito, client_id)
    sign_in(cognito, client_id)
    with pytest.raises(ClientError):
        sign_in(cognito, client_id, password=WRONG_PASSWORD)
    Srp(cognito, pool_id, client_id).run()
    cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )
    cognito.get_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(ClientError):
        cognito.describe_user_pool(UserPoolId=pool_id[:-1] + ("x" if pool_id[-1] != "x" else "y"))
    # An invitation email with no SMTP configured: held in the outbox.
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="invited",
        UserAttributes=[{"Name": "email", "Value": "invited@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )
    after = scrape(server.endpoint)

    requests, errors = "cognate_api_requests_total", "cognate_api_errors_total"
    assert delta(before, after, requests, operation="InitiateAuth") == 5
    assert delta(before, after, requests, operation="RespondToAuthChallenge") == 1
    assert delta(before, after, requests, operation="GetUser") == 1
    assert delta(before, after, requests, operation="DescribeUserPool") == 1
    assert (
        delta(before, after, errors, operation="InitiateAuth", error_type="NotAuthorizedException")
        == 1
    )
    assert (
        delta(
            before,
            after,
            errors,
            operation="DescribeUserPool",
            error_type="ResourceNotFoundException",
        )
        == 1
    )
    assert (
        delta(before, after, errors, operation="GetUser", error_type="NotAuthorizedException") == 0
    )

    # The latency histogram: cumulative buckets, +Inf = count = the requests made.
    histogram = "cognate_api_request_duration_seconds"
    buckets = sorted(
        (float(dict(labels)["le"]), after[(name, labels)])
        for (name, labels) in after
        if name == histogram + "_bucket" and dict(labels)["operation"] == "InitiateAuth"
    )
    assert len(buckets) >= 10
    assert [count for _, count in buckets] == sorted(count for _, count in buckets)
    assert buckets[-1][0] == float("inf")
    assert buckets[-1][1] == value(after, histogram + "_count", operation="InitiateAuth")
    assert delta(before, after, histogram + "_count", operation="InitiateAuth") == 5
    assert delta(before, after, histogram + "_sum", operation="InitiateAuth") > 0

    signs = "cognate_sign_ins_total"
    assert delta(before, after, signs, flow="USER_PASSWORD_AUTH", result="success") == 2
    assert delta(before, after, signs, flow="USER_PASSWORD_AUTH", result="failure") == 1
    assert delta(before, after, signs, flow="PASSWORD_VERIFIER", result="success") == 1
    assert delta(before, after, signs, flow="REFRESH_TOKEN_AUTH", result="success") == 1
    # SRP's first step (a challenge, not yet a sign-in) counts neither way.
    assert delta(before, after, signs, flow="USER_SRP_AUTH", result="success") == 0
    assert delta(before, after, signs, flow="USER_SRP_AUTH", result="failure") == 0

    assert value(after, "cognate_outbox_backlog_up") == 1
    assert delta(before, after, "cognate_outbox_backlog", status="held") >= 1
    assert ("cognate_outbox_backlog", frozenset({("status", "pending")})) in after


def _worker_server(workdir: Path, db: str) -> contextlib.AbstractContextManager[CognateServer]:
    (workdir / "obs_triggers.py").write_text(PID_TRIGGER)
    return start_server(
        workdir,
        db=db,
        extra_args=["--workers", "2", "--triggers", TRIGGER_RULE],
        env={"PYTHONPATH": str(workdir)},
    )


@pytest.fixture(params=["sqlite", "postgres"])
def worker_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CognateServer]:
    if request.param == "sqlite":
        with _worker_server(tmp_path, f"sqlite:///{tmp_path}/c.db") as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES_URL) as url, _worker_server(tmp_path, url) as srv:
        yield srv


def test_metrics_are_summed_across_workers_with_trigger_latency(
    worker_server: CognateServer,
) -> None:
    """Sign-ups (each running a PreSignUp function that notes its process) until both
    workers have served some; then every scrape, whichever worker answers it, shows all
    of them."""
    cognito = make_client(worker_server.endpoint, "us-east-1")
    pool_id = new_pool(cognito, "workers", LambdaConfig={"PreSignUp": PID_ARN})
    client_id = new_client(cognito, pool_id)["ClientId"]
    pids_file = worker_server.workdir / "trigger-pids.txt"
    sign_ups = 0
    pids: set[str] = set()
    while len(pids) < 2:
        assert sign_ups < 400, f"one worker served all {sign_ups} sign-ups"
        fresh = make_client(worker_server.endpoint, "us-east-1")  # a new connection
        fresh.sign_up(ClientId=client_id, Username=f"user{sign_ups}", Password=PASSWORD)
        sign_ups += 1
        pids = set(pids_file.read_text().split())
    for _ in range(6):
        samples = scrape(worker_server.endpoint)
        assert value(samples, "cognate_api_requests_total", operation="SignUp") == sign_ups
        trigger = "cognate_trigger_duration_seconds_count"
        assert value(samples, trigger, trigger_source="PreSignUp_SignUp") == sign_ups
        assert (
            value(
                samples, "cognate_trigger_duration_seconds_sum", trigger_source="PreSignUp_SignUp"
            )
            > 0
        )
        assert value(samples, "cognate_api_requests_total", operation="CreateUserPool") == 1


# ----------------------------------------------------------------------------- logs


def test_text_log_lines_carry_the_request_id(server: CognateServer, cognito: Any) -> None:
    """A request whose trigger function is not mapped logs a warning: with its id."""
    pool_id = new_pool(cognito, "unmapped", LambdaConfig={"PreSignUp": UNMAPPED})
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as failed:
        cognito.sign_up(ClientId=client_id, Username="bob", Password=PASSWORD)
    rid = failed.value.response["ResponseMetadata"]["RequestId"]
    deadline = time.monotonic() + 10
    while f"[{rid}]" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [line for line in server.log().splitlines() if f"[{rid}]" in line]
    assert any("not mapped" in line and " WARNING " in line for line in lines), lines


@contextlib.contextmanager
def _json_server(backend: str, workdir: Path) -> Iterator[CognateServer]:
    args = ["--log-format", "json", "--log-level", "debug"]
    if backend == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", extra_args=args) as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with (
        postgres_database(POSTGRES_URL) as url,
        start_server(workdir, db=url, extra_args=args) as srv,
    ):
        yield srv


class Secrets:
    """Every secret value the scenario sees, to look for in the log afterwards."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, name: str, secret: str | None) -> str:
        assert secret, name
        self.values[f"{name}#{len(self.values)}"] = secret
        return secret

    def tokens(self, result: dict[str, Any]) -> None:
        for key in ("AccessToken", "IdToken", "RefreshToken"):
            if key in result:
                self.add(key, result[key])
                self.add(key + " signature", result[key].rsplit(".", 1)[-1])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_json_logs_carry_request_ids_and_no_secrets(backend: str, tmp_path: Path) -> None:
    with _json_server(backend, tmp_path) as server:
        secrets = _scenario(server)
        rid = _unmapped_trigger_request(server)
    lines = server.log().splitlines()
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    tagged = [r for r in records if r.get("request_id") == rid]
    assert any("not mapped" in r["message"] for r in tagged), tagged
    # Codes are 6 digits: compare against the records without their ids and times.
    text = "\n".join(
        json.dumps({k: v for k, v in r.items() if k not in ("request_id", "time")}) for r in records
    )
    leaked = [name for name, secret in secrets.values.items() if secret in text]
    assert not leaked, leaked


def _unmapped_trigger_request(server: CognateServer) -> str:
    cognito = make_client(server.endpoint, "us-east-1")
    pool_id = new_pool(cognito, "unmapped", LambdaConfig={"PreSignUp": UNMAPPED})
    client_id = new_client(cognito, pool_id)["ClientId"]
    with pytest.raises(ClientError) as failed:
        cognito.sign_up(ClientId=client_id, Username="bob", Password=PASSWORD)
    rid: str = failed.value.response["ResponseMetadata"]["RequestId"]
    return rid


def _scenario(server: CognateServer) -> Secrets:
    """Sign-up, password and SRP sign-ins with SMS MFA, refresh, GetUser, a wrong password,
    a password reset: with a client secret throughout."""
    s = Secrets()
    cognito = make_client(server.endpoint, "us-east-1")
    pool_id = new_pool(
        cognito,
        "secrets",
        AutoVerifiedAttributes=["email"],
        SmsConfiguration={
            "SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms",
            "ExternalId": "cognate-tests",
        },
    )
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code is {####}"},
    )
    client = new_client(cognito, pool_id, GenerateSecret=True)
    client_id, client_secret = client["ClientId"], s.add("client secret", client["ClientSecret"])
    user, password = "carol", s.add("password", "Sup3r-Secret-Passw0rd!")

    def hashed(name: str = user) -> str:
        return s.add("secret hash", secret_hash(client_secret, name, client_id))

    cognito.sign_up(
        ClientId=client_id,
        SecretHash=hashed(),
        Username=user,
        Password=password,
        UserAttributes=[
            {"Name": "email", "Value": "carol@example.com"},
            {"Name": "phone_number", "Value": "+15555550100"},
        ],
    )
    code = s.add("sign-up code", last_code(server.endpoint, pool_id, user))
    cognito.confirm_sign_up(
        ClientId=client_id, SecretHash=hashed(), Username=user, ConfirmationCode=code
    )

    def mfa(challenge: dict[str, Any]) -> dict[str, Any]:
        assert challenge["ChallengeName"] == "SMS_MFA", challenge
        s.add("session", challenge["Session"])
        answer = s.add("MFA code", last_code(server.endpoint, pool_id, user))
        done: dict[str, Any] = cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SMS_MFA",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": answer, "SECRET_HASH": hashed()},
        )
        s.tokens(done["AuthenticationResult"])
        return dict(done["AuthenticationResult"])

    first = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password, "SECRET_HASH": hashed()},
    )
    tokens = mfa(first)

    srp = Srp(cognito, pool_id, client_id, user, password, secret=client_secret)
    s.add("SRP A", srp.srp_a)
    started = srp.initiate()
    parameters = started["ChallengeParameters"]
    s.add("SRP B", parameters["SRP_B"])
    s.add("SRP secret block", parameters["SECRET_BLOCK"])
    answer = srp.responses(parameters)
    s.add("SRP M (claim signature)", answer["PASSWORD_CLAIM_SIGNATURE"])
    mfa(srp.respond(answer))

    refreshed = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": hashed()},
    )["AuthenticationResult"]
    s.tokens(refreshed)
    cognito.get_user(AccessToken=refreshed["AccessToken"])

    wrong = s.add("wrong password", "Wr0ng-But-Secret-Too!")
    with pytest.raises(ClientError):
        cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": wrong, "SECRET_HASH": hashed()},
        )
    cognito.forgot_password(ClientId=client_id, SecretHash=hashed(), Username=user)
    reset = s.add("reset code", last_code(server.endpoint, pool_id, user))
    cognito.confirm_forgot_password(
        ClientId=client_id,
        SecretHash=hashed(),
        Username=user,
        ConfirmationCode=reset,
        Password=s.add("new password", "An0ther-Secret-Passw0rd!"),
    )
    return s
