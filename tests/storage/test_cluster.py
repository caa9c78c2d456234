"""Three `cognate serve` processes on one PostgreSQL database, as a deployment behind a
load balancer: a mixed workload spread over them must give the answers one process would.

The processes share the master key, the public URL (the token issuer), an SMTP server (a
sink that keeps every message), `--rate-limits cognito` and a clock file
(tests/support/clock.py) that tests can move. Checked here: races between processes have
one winner; a sign-in started on one process is finished on another; revocation and
rotated signing keys are seen by all; rate limits hold in total; background work (email
delivery, CSV user import jobs, the import-job expiry sweep) runs exactly once.

PostgreSQL only (skipped without COGNATE_TEST_POSTGRES_URL): several machines need a
database server; SQLite with several processes on one host is covered by the two-process
tests (test_auth_processes.py, test_code_races.py, test_processes.py).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import sqlalchemy as sa
from botocore.exceptions import ClientError

from cognate.storage.schema import user_import_chunks, user_import_jobs
from tests.conftest import make_client
from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    TEMPORARY_PASSWORD,
    Srp,
    claims,
    error,
    header,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.clock import ShiftedClock
from tests.support.cluster import OK, cluster, key_env, race, run_cognate, shared_database
from tests.support.mfa import challenge_of, set_up_totp
from tests.support.server import CognateServer
from tests.support.smtp_sink import SmtpSink

PUBLIC_URL = "http://cluster.cognate.test"
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")
IMPORT_ROLE = "arn:aws:iam::123456789012:role/CognitoImportLogs"
T = TypeVar("T")
_J = user_import_jobs


@dataclass
class Cluster:
    root: Path
    db: str
    servers: list[CognateServer]
    sink: SmtpSink
    clock: ShiftedClock

    def clients(self, region: str) -> list[Any]:
        return [make_client(server.endpoint, region) for server in self.servers]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    clock = ShiftedClock(root)
    with (
        SmtpSink() as sink,
        shared_database("postgres", root) as db,
        cluster(
            root,
            db,
            3,
            env={"COGNATE_PUBLIC_URL": PUBLIC_URL, **clock.env()},
            extra_args=[
                "--rate-limits",
                "cognito",
                "--smtp-host",
                sink.host,
                "--smtp-port",
                str(sink.port),
                "--smtp-security",
                "none",
            ],
        ) as servers,
    ):
        yield Cluster(root, db, servers, sink, clock)


@pytest.fixture
def region() -> str:
    return f"zz-{uuid.uuid4().hex[:10]}-1"


@pytest.fixture
def clients(deployment: Cluster, region: str) -> list[Any]:
    """One client per process, in the same region."""
    return deployment.clients(region)


def steady(call: Callable[[], T], timeout: float = 120) -> T:
    """`call`, again after a pause while the rate limit refuses it (set-up and checks that
    are not about rate limits)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TooManyRequestsException":
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def mail_to(sink: SmtpSink, domain: str) -> list[str]:
    """The recipients of the messages the sink received for addresses at `domain`."""
    return [to for mail in sink.messages for to in mail.rcpt_tos if to.endswith("@" + domain)]


def wait_for_mail(sink: SmtpSink, domain: str, count: int, timeout: float = 120) -> list[str]:
    """Wait until `count` messages to `domain` arrived; then a while longer, so that a
    duplicate delivery would be seen too. The recipients."""
    deadline = time.monotonic() + timeout
    while len(mail_to(sink, domain)) < count:
        assert time.monotonic() < deadline, f"{mail_to(sink, domain)} after {timeout} s"
        time.sleep(0.2)
    time.sleep(3)  # several polling rounds of every process's sender
    return mail_to(sink, domain)


# ----------------------------------------------------------------------------- races


def test_sign_up_races_have_one_winner_per_username(
    deployment: Cluster, region: str, clients: list[Any]
) -> None:
    pool_id = new_pool(clients[0], "races", AutoVerifiedAttributes=["email"])
    client_id: str = new_client(clients[0], pool_id)["ClientId"]
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    usernames = [f"racer{i}" for i in range(12)]

    def sign_up(username: str) -> Callable[[Any], Any]:
        return lambda cognito: cognito.sign_up(
            ClientId=client_id,
            Username=username,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{username}@{domain}"}],
        )

    # each username's three attempts go to the three processes, all released together
    calls = [sign_up(name) for name in usernames for _process in deployment.servers]
    outcomes = race(deployment.servers, region, calls)
    for index, name in enumerate(usernames):
        attempts = outcomes[3 * index : 3 * index + 3]
        assert attempts.count(OK) == 1, (name, attempts)
        assert sorted(a[0] for a in attempts if a != OK) == ["UsernameExistsException"] * 2
    # every process sees the same winners, each one complete
    for cognito in clients:
        for name in usernames:
            user = steady(partial(cognito.admin_get_user, UserPoolId=pool_id, Username=name))
            assert user["UserStatus"] == "UNCONFIRMED"
            email = {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"]
            assert email == f"{name}@{domain}"
    listed = steady(lambda: clients[2].list_users(UserPoolId=pool_id, Limit=60))["Users"]
    assert sorted(u["Username"] for u in listed) == sorted(usernames)
    # one verification email per winner, sent by one of the three processes' senders
    recipients = wait_for_mail(deployment.sink, domain, len(usernames))
    assert sorted(recipients) == sorted(f"{name}@{domain}" for name in usernames)


# ----------------------------------------------------------------------------- sign-in


def test_challenges_started_on_one_process_are_answered_on_another(
    deployment: Cluster, clients: list[Any]
) -> None:
    a, b, c = clients
    pool_id = new_pool(a, "challenges")
    client_id: str = new_client(a, pool_id)["ClientId"]
    a.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    new_user(a, pool_id, "alice")

    # SRP: PASSWORD_VERIFIER started on A, answered on B
    srp = Srp(a, pool_id, client_id)
    started = srp.initiate()
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = srp.responses(started["ChallengeParameters"])
    done = Srp(b, pool_id, client_id).respond(answer)["AuthenticationResult"]
    assert c.get_user(AccessToken=done["AccessToken"])["Username"] == "alice"

    # NEW_PASSWORD_REQUIRED: started on B, answered on C
    new_user(b, pool_id, "bob", None)
    challenge = password_auth(b, client_id, "bob", TEMPORARY_PASSWORD)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    changed = c.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": NEW_PASSWORD},
    )["AuthenticationResult"]
    assert a.get_user(AccessToken=changed["AccessToken"])["Username"] == "bob"
    assert "AccessToken" in sign_in(a, client_id, "bob", NEW_PASSWORD)

    # an MFA code: TOTP set up on A, the sign-in started on C and its code answered on A
    try:
        app = set_up_totp(a, done["AccessToken"], deployment.clock)
        mfa = password_auth(c, client_id, "alice", PASSWORD)
        challenge_of(mfa, "SOFTWARE_TOKEN_MFA")
        wrong = "000000" if app.at(0) != "000000" else "111111"

        def respond(cognito: Any, session: str, code: str) -> dict[str, Any]:
            response: dict[str, Any] = cognito.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=session,
                ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code},
            )
            return response

        # a wrong code on B: the session goes on, with a new one to answer with
        wrong_code = refused(lambda: respond(b, mfa["Session"], wrong))
        assert wrong_code[0] == "CodeMismatchException"
        tokens = respond(a, mfa["Session"], app.code())["AuthenticationResult"]
        assert claims(tokens["AccessToken"])["username"] == "alice"
        assert b.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    finally:
        deployment.clock.reset()


def test_revocation_on_one_process_is_honoured_by_all(clients: list[Any]) -> None:
    a, b, c = clients
    pool_id = new_pool(a, "revocation")
    client_id: str = new_client(a, pool_id)["ClientId"]
    new_user(a, pool_id, "alice")

    def refresh(cognito: Any, token: str) -> dict[str, Any]:
        result: dict[str, Any] = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": token},
        )["AuthenticationResult"]
        return result

    # RevokeToken on B: the refresh token and its access tokens are dead everywhere
    revoked = sign_in(a, client_id)
    for cognito in clients:
        refresh(cognito, revoked["RefreshToken"])
        assert cognito.get_user(AccessToken=revoked["AccessToken"])["Username"] == "alice"
    kept = sign_in(c, client_id)  # another session of the same user is untouched
    b.revoke_token(ClientId=client_id, Token=revoked["RefreshToken"])
    for cognito in clients:
        assert refused(partial(refresh, cognito, revoked["RefreshToken"])) == REFRESH_REVOKED
        assert refused(partial(cognito.get_user, AccessToken=revoked["AccessToken"])) == (
            ACCESS_REVOKED
        )
        assert cognito.get_user(AccessToken=kept["AccessToken"])["Username"] == "alice"

    # GlobalSignOut on C: every session of the user, on every process
    sessions = [sign_in(cognito, client_id) for cognito in clients]
    c.global_sign_out(AccessToken=sessions[0]["AccessToken"])
    for cognito, session in itertools.product(clients, [*sessions, kept]):
        assert refused(partial(cognito.get_user, AccessToken=session["AccessToken"])) == (
            ACCESS_REVOKED
        )
        assert refused(partial(refresh, cognito, session["RefreshToken"])) == REFRESH_REVOKED
    again = sign_in(b, client_id)
    for cognito in clients:
        assert cognito.get_user(AccessToken=again["AccessToken"])["Username"] == "alice"


# ----------------------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class Attempt:
    sent: float
    answered: float
    accepted: bool


def test_rate_limits_hold_in_total_across_processes(deployment: Cluster, region: str) -> None:
    """DescribeUserPool is in UserPoolRead: 15 requests per second in a region, counted in
    fixed one-second windows (domain/rate_limits.py), whichever process serves them."""
    limit = 15
    pool_id = new_pool(make_client(deployment.servers[0].endpoint, region), "limited")
    attempts: list[Attempt] = []
    lock = threading.Lock()
    stop = threading.Event()

    def hammer(server: CognateServer) -> None:
        cognito = make_client(server.endpoint, region)
        while not stop.is_set():
            sent = time.time()
            try:
                cognito.describe_user_pool(UserPoolId=pool_id)
            except ClientError as exc:
                refusal = (exc.response["Error"]["Code"], exc.response["Error"]["Message"])
                assert refusal == ("TooManyRequestsException", "Too many requests")
                accepted = False
            else:
                accepted = True
            with lock:
                attempts.append(Attempt(sent, time.time(), accepted))

    # two threads per process, for at least 4 s and until the limit refused a good many
    threads = [
        threading.Thread(target=hammer, args=(server,))
        for server in deployment.servers
        for _ in range(2)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while time.monotonic() - started < 4 or sum(not a.accepted for a in attempts) < 10:
            assert time.monotonic() - started < 180, "the limit never refused 10 requests"
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    accepted = [a for a in attempts if a.accepted]
    # A request answered within one wall-clock second was counted in that second's window
    # (the server's clock is this machine's): no window admitted more than the limit...
    per_second: dict[int, int] = {}
    for attempt in accepted:
        if int(attempt.sent) == int(attempt.answered):
            per_second[int(attempt.sent)] = per_second.get(int(attempt.sent), 0) + 1
    assert per_second
    assert max(per_second.values()) <= limit, per_second
    # ...and in total, no more than the limit for every window the run touched.
    windows = int(max(a.answered for a in attempts)) - int(min(a.sent for a in attempts)) + 1
    assert len(accepted) <= limit * windows, (len(accepted), windows)


# ----------------------------------------------------------------------------- keys


def jwks(server: CognateServer, pool_id: str) -> dict[str, Any]:
    url = f"{server.endpoint}/{pool_id}/.well-known/jwks.json"
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_key_rotation_is_seen_by_every_process(deployment: Cluster, clients: list[Any]) -> None:
    a, b, c = clients
    pool_id = new_pool(a, "keys")
    client_id: str = new_client(a, pool_id)["ClientId"]
    new_user(a, pool_id, "alice")
    before = [jwks(server, pool_id) for server in deployment.servers]
    assert before[0] == before[1] == before[2]
    old_kids = [key["kid"] for key in before[0]["keys"]]
    assert len(old_kids) == 2
    signed_before = sign_in(a, client_id)  # A now holds the old signing key in memory

    rotated = run_cognate(
        "rotate-keys",
        "--db",
        deployment.db,
        "--pool-id",
        pool_id,
        cwd=deployment.root,
        env=key_env(deployment.root),
    )
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith(f"{pool_id}: new keys ")

    after = [jwks(server, pool_id) for server in deployment.servers]
    assert after[0] == after[1] == after[2]
    kids = [key["kid"] for key in after[0]["keys"]]
    assert len(kids) == 4
    assert kids[2:] == old_kids  # the retired keys stay published after the new ones
    new_kids = kids[:2]

    # B and C never signed for this pool: they sign with the new keys at once; A may keep
    # the old key for up to a minute (token_keys.py), and its tokens stay verifiable
    for cognito in (b, c):
        tokens = sign_in(cognito, client_id)
        assert header(tokens["IdToken"])["kid"] == new_kids[0]
        assert header(tokens["AccessToken"])["kid"] == new_kids[1]
        for other in clients:
            assert other.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    from_a = sign_in(a, client_id)
    assert header(from_a["AccessToken"])["kid"] in kids
    for other in clients:
        assert other.get_user(AccessToken=from_a["AccessToken"])["Username"] == "alice"
        assert other.get_user(AccessToken=signed_before["AccessToken"])["Username"] == "alice"


# ----------------------------------------------------------------------------- background work


def test_outbox_messages_are_delivered_once(
    deployment: Cluster, region: str, clients: list[Any]
) -> None:
    """Invitations queued through all three processes at once, while all three senders
    poll the outbox: each message reaches the SMTP server exactly once."""
    pool_id = new_pool(clients[0], "invitations")
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    count = 45

    def invite(index: int) -> Callable[[Any], Any]:
        return lambda cognito: steady(
            lambda: cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=f"invited{index}",
                UserAttributes=[{"Name": "email", "Value": f"invited{index}@{domain}"}],
                DesiredDeliveryMediums=["EMAIL"],
            )
        )

    outcomes = race(deployment.servers, region, [invite(i) for i in range(count)])
    assert outcomes == [OK] * count
    recipients = wait_for_mail(deployment.sink, domain, count)
    assert sorted(recipients) == sorted(f"invited{i}@{domain}" for i in range(count))


def csv_body(header: list[str], usernames: list[str], domain: str) -> bytes:
    values = {"cognito:mfa_enabled": "false", "email_verified": "true"}
    lines = [",".join(header)]
    for name in usernames:
        row = {**values, "cognito:username": name, "email": f"{name}@{domain}"}
        lines.append(",".join(row.get(column, "") for column in header))
    return ("\n".join(lines) + "\n").encode()


def on(server: CognateServer, url: str) -> str:
    """A pre-signed URL (made for the public URL) sent to one process directly."""
    parts = urllib.parse.urlsplit(url)
    return f"{server.endpoint}{parts.path}?{parts.query}"


def summaries(deployment: Cluster, pool_id: str, job_id: str) -> list[dict[str, Any]]:
    """The INFO summary lines of a job's per-row log, from every process's data directory."""
    found = []
    for server in deployment.servers:
        for path in server.workdir.glob(f"**/user-import-logs/{pool_id}/{job_id}.jsonl"):
            entries = [json.loads(line) for line in path.read_text().splitlines()]
            assert [e for e in entries if e["level"] != "INFO"] == []
            found.extend(entries)
    return found


def test_import_jobs_run_exactly_once(deployment: Cluster, region: str, clients: list[Any]) -> None:
    """Three CSV jobs (of three batches each) started at once while three processes poll
    for work: each job is run by one process and every row imported once (a row imported
    twice would be counted as skipped, and its user would exist twice or not at all)."""
    rows = 1_200
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    jobs = []
    for index, cognito in enumerate(clients):
        pool_id = new_pool(cognito, f"import{index}", AutoVerifiedAttributes=["email"])
        csv_header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        job = cognito.create_user_import_job(
            JobName=f"job{index}", UserPoolId=pool_id, CloudWatchLogsRoleArn=IMPORT_ROLE
        )["UserImportJob"]
        body = csv_body(csv_header, [f"user{i:05d}" for i in range(rows)], domain)
        # uploaded through the next process, started through the one after
        target = on(deployment.servers[(index + 1) % 3], job["PreSignedUrl"])
        uploaded = requests.put(target, data=body, timeout=120)
        assert uploaded.status_code == 200, uploaded.text
        jobs.append((pool_id, job["JobId"]))
    for index, (pool_id, job_id) in enumerate(jobs):
        clients[(index + 2) % 3].start_user_import_job(UserPoolId=pool_id, JobId=job_id)

    deadline = time.monotonic() + 300
    for index, (pool_id, job_id) in enumerate(jobs):
        cognito = clients[index]
        while True:
            job = steady(
                partial(cognito.describe_user_import_job, UserPoolId=pool_id, JobId=job_id)
            )["UserImportJob"]
            if job["Status"] not in ("Pending", "InProgress"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["Status"] == "Succeeded", job
        assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (rows, 0, 0)
        described = steady(partial(cognito.describe_user_pool, UserPoolId=pool_id))
        assert described["UserPool"]["EstimatedNumberOfUsers"] == rows
        usernames: list[str] = []
        token: dict[str, str] = {}
        while True:
            page = steady(partial(cognito.list_users, UserPoolId=pool_id, Limit=60, **token))
            usernames += [u["Username"] for u in page["Users"]]
            if "PaginationToken" not in page:
                break
            token = {"PaginationToken": page["PaginationToken"]}
        assert sorted(usernames) == [f"user{i:05d}" for i in range(rows)]
        # one summary: the job ran to its end in one process, once
        (summary,) = summaries(deployment, pool_id, job_id)
        assert summary["importedUsers"] == rows


def test_import_job_expiry_sweep_runs_once(deployment: Cluster, clients: list[Any]) -> None:
    """Every process sweeps, about once a minute, for jobs created more than a day ago and
    never started: each is expired (and its upload deleted) by one sweep, and a later
    sweep leaves it as it is."""
    a, b, _c = clients
    pool_id = new_pool(a, "expiry")
    job = a.create_user_import_job(
        JobName="forgotten", UserPoolId=pool_id, CloudWatchLogsRoleArn=IMPORT_ROLE
    )["UserImportJob"]
    body = csv_body(a.get_csv_header(UserPoolId=pool_id)["CSVHeader"], ["late"], "x.example")
    assert requests.put(on(deployment.servers[1], job["PreSignedUrl"]), data=body).ok

    engine = sa.create_engine(deployment.db.replace("postgresql://", "postgresql+psycopg://"))

    def stored() -> tuple[str, int | None, int]:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(_J.c.pk, _J.c.status, _J.c.completed_at).where(
                    _J.c.job_id == job["JobId"]
                )
            ).one()
            chunks = conn.execute(
                sa.select(sa.func.count())
                .select_from(user_import_chunks)
                .where(user_import_chunks.c.job_pk == row.pk)
            ).scalar_one()
            return str(row.status), row.completed_at, int(chunks)

    try:
        assert stored() == ("Created", None, 1)
        deployment.clock.shift(hours=25)  # every process's next round is due to sweep
        deadline = time.monotonic() + 60
        while stored()[0] == "Created":  # nothing reads the job meanwhile: a sweep did it
            assert time.monotonic() < deadline, "no process swept the expired job"
            time.sleep(0.2)
        status, completed, chunks = stored()
        assert (status, chunks) == ("Expired", 0)
        assert completed is not None
        time.sleep(3)  # the other processes' sweeps have run by now
        assert stored() == (status, completed, 0)
        described = b.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        assert described["UserImportJob"]["Status"] == "Expired"
        assert described["UserImportJob"]["CompletionMessage"] == (
            "The user import job has expired."
        )
    finally:
        deployment.clock.reset()
        engine.dispose()
