"""SMS senders (the default file, the webhook, none) and the developer outbox (HTTP API
and `cognate outbox`), against live servers.

Most tests share one server in the local default set-up: no SMTP (email is held in the
developer outbox, whose API is on) and SMS written to `sms.jsonl` beside the database.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_client
from tests.support.auth import unsigned_client
from tests.support.delivery import (
    PASSWORD,
    backend_params,
    code_in,
    data_dir,
    email_pool,
    last_code,
    last_code_response,
    outbox,
    outbox_response,
    serve,
    sign_up,
    wait_for_status,
    wait_until,
)
from tests.support.server import CognateServer

PHONE = "+15555550123"
CLI = [sys.executable, "-m", "cognate", "outbox"]
FOLLOW_POLL_SECONDS = 1.0  # how often `cognate outbox --follow` looks (outbox_cli.py)
SMS_FIELDS = {"to", "body", "pool_id", "kind"}
SMS_CONFIGURATION = {"SnsCallerArn": "arn:aws:iam::000000000000:role/sms", "ExternalId": "x"}


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognateServer]:
    """The local default set-up (overrides tests/conftest.py's `server`)."""
    with serve(backend, tmp_path_factory.mktemp("outbox")) as srv:
        yield srv


@pytest.fixture
def public(server: CognateServer, region: str) -> Any:
    return unsigned_client(server.endpoint, region)


def sms_lines(server: CognateServer) -> list[dict[str, Any]]:
    path = data_dir(server) / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for_sms(server: CognateServer, to: str, count: int = 1) -> list[dict[str, Any]]:
    """The SMS to `to` in sms.jsonl, once there are `count` of them."""

    def probe() -> list[dict[str, Any]] | None:
        found = [line for line in sms_lines(server) if line["to"] == to]
        return found if len(found) >= count else None

    return wait_until(probe, what=f"{count} SMS to {to} in sms.jsonl")


def invite_by_sms(cognito: Any, pool_id: str, username: str, phone: str, **extra: Any) -> None:
    """AdminCreateUser with a phone number and no email (Cognito's default medium: SMS)."""
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "phone_number", "Value": phone}],
        **extra,
    )


def phone_of(region: str) -> str:
    """A phone number of this test's own (the SMS file is shared by the module's tests),
    from the test's region (`zz-<10 hex digits>-1`)."""
    return "+1555" + f"{int(region.split('-')[1], 16) % 10**7:07d}"


INVITATION = re.compile(r"Your username is (\S+) and temporary password is (\S+)\. ")


# --- the file sender (the default) --------------------------------------------------------------


def test_sms_invitation_is_written_to_the_private_sms_file(
    server: CognateServer, cognito: Any, region: str
) -> None:
    pool_id = cognito.create_user_pool(PoolName="sms")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    phone = phone_of(region)
    invite_by_sms(cognito, pool_id, "sam", phone)

    (sms,) = wait_for_sms(server, phone)
    assert set(sms) == SMS_FIELDS
    assert (sms["to"], sms["pool_id"], sms["kind"]) == (phone, pool_id, "invitation")
    match = INVITATION.fullmatch(sms["body"])
    assert match, sms["body"]
    assert match.group(1) == "sam"
    path = data_dir(server) / "sms.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    (message,) = wait_for_status(server, pool_id, "sent")
    assert (message["channel"], message["destination"]) == ("SMS", phone)
    assert message["subject"] is None
    assert message["code"] == match.group(2)
    assert message["attempts"] == 1
    # The temporary password in the SMS is the user's.
    started = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "sam", "PASSWORD": match.group(2)},
    )
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_sms_sign_up_code_with_a_custom_template_confirms(
    server: CognateServer, cognito: Any, public: Any, region: str
) -> None:
    pool_id = cognito.create_user_pool(
        PoolName="sms-sign-up",
        AutoVerifiedAttributes=["phone_number"],
        SmsConfiguration=SMS_CONFIGURATION,
        VerificationMessageTemplate={"SmsMessage": "Acme code {####}"},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="app")[
        "UserPoolClient"
    ]["ClientId"]
    phone = phone_of(region)
    response = public.sign_up(
        ClientId=client_id,
        Username="tia",
        Password=PASSWORD,
        UserAttributes=[{"Name": "phone_number", "Value": phone}],
    )
    assert response["CodeDeliveryDetails"]["DeliveryMedium"] == "SMS"

    (sms,) = wait_for_sms(server, phone)
    assert sms["kind"] == "confirm_sign_up"
    match = re.fullmatch(r"Acme code (\d{6})", sms["body"])
    assert match, sms["body"]
    public.confirm_sign_up(ClientId=client_id, Username="tia", ConfirmationCode=match.group(1))
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="tia")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "phone_number_verified", "Value": "true"} in user["UserAttributes"]


def test_email_without_smtp_is_held_and_never_attempted(
    server: CognateServer, cognito: Any, public: Any, region: str
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "uma", "uma@example.com")
    # An SMS queued afterwards and delivered proves the sender has run since.
    phone = phone_of(region)
    invite_by_sms(cognito, pool_id, "sms-user", phone)
    wait_for_sms(server, phone)
    wait_for_status(server, pool_id, "sent", username=phone)

    (held,) = outbox(server, pool_id=pool_id, username="uma")
    assert held["status"] == "held"
    assert held["attempts"] == 0
    assert held["last_error"] is None
    assert held["sent_at"] is None
    assert held["channel"] == "EMAIL"
    assert held["body"] == f"Your verification code is {held['code']}. "
    public.confirm_sign_up(ClientId=client_id, Username="uma", ConfirmationCode=held["code"])


# --- the developer outbox API --------------------------------------------------------------------


def test_outbox_message_shape(server: CognateServer, cognito: Any, public: Any) -> None:
    pool_id, client_id = email_pool(cognito)
    before = time.time()
    sign_up(public, client_id, "val", "val@example.com")

    (message,) = outbox(server, pool_id=pool_id)
    assert set(message) == {
        "id",
        "pool_id",
        "username",
        "kind",
        "channel",
        "destination",
        "subject",
        "body",
        "code",
        "custom_sender",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    }
    assert isinstance(message["id"], int)
    assert message["pool_id"] == pool_id
    assert message["username"] == "val"
    assert message["kind"] == "confirm_sign_up"
    assert message["destination"] == "val@example.com"
    assert message["subject"] == "Your verification code"
    assert message["code"] == code_in(message["body"])
    assert message["custom_sender"] is None
    assert before - 1 <= message["created_at"] <= time.time() + 1


def test_outbox_filters_by_pool(server: CognateServer, cognito: Any, public: Any) -> None:
    first_pool, first_client = email_pool(cognito)
    second_pool, second_client = email_pool(cognito)
    sign_up(public, first_client, "wes", "wes@example.com")
    sign_up(public, second_client, "wes", "wes@example.org")

    (first,) = outbox(server, pool_id=first_pool)
    (second,) = outbox(server, pool_id=second_pool)
    assert (first["pool_id"], first["destination"]) == (first_pool, "wes@example.com")
    assert (second["pool_id"], second["destination"]) == (second_pool, "wes@example.org")
    # The same username in two pools: the pool decides which code.
    assert last_code(server, pool_id=first_pool, username="wes") == first["code"]
    assert last_code(server, pool_id=second_pool, username="wes") == second["code"]
    assert outbox(server, pool_id="us-east-1_NoSuchPol") == []
    # Without a pool filter, every pool's messages (the newest last).
    everything = [m["id"] for m in outbox(server, limit=500)]
    assert everything == sorted(everything)
    assert {first["id"], second["id"]} <= set(everything)


def test_outbox_filters_by_username_name_used_and_destination(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    """A user signs up as `xan` and later resets their password by their preferred_username
    alias `xan-alias`: filtering by the username finds both messages, by the name used
    only the message that used it, by the address both."""
    pool_id = cognito.create_user_pool(
        PoolName="aliases",
        AliasAttributes=["preferred_username", "email"],
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="app")[
        "UserPoolClient"
    ]["ClientId"]
    sign_up(public, client_id, "xan", "xan@example.com")
    public.confirm_sign_up(
        ClientId=client_id,
        Username="xan",
        ConfirmationCode=last_code(server, pool_id=pool_id, username="xan"),
    )
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="xan",
        UserAttributes=[{"Name": "preferred_username", "Value": "xan-alias"}],
    )
    public.forgot_password(ClientId=client_id, Username="xan-alias")
    sign_up(public, client_id, "yul", "yul@example.com")  # someone else

    confirm, reset, other = outbox(server, pool_id=pool_id)
    assert (confirm["kind"], confirm["username"]) == ("confirm_sign_up", "xan")
    assert (reset["kind"], reset["username"]) == ("forgot_password", "xan-alias")
    assert other["username"] == "yul"

    def ids(username: str) -> list[int]:
        return [m["id"] for m in outbox(server, pool_id=pool_id, username=username)]

    assert ids("xan") == [confirm["id"], reset["id"]]  # the username
    assert ids("xan-alias") == [reset["id"]]  # the name the message used
    assert ids("xan@example.com") == [confirm["id"], reset["id"]]  # the destination
    assert ids("yul") == [other["id"]]
    assert ids("nobody") == []
    assert last_code(server, pool_id=pool_id, username="xan") == reset["code"]
    assert last_code(server, pool_id=pool_id, username="xan@example.com") == reset["code"]


def test_outbox_filters_by_generated_username_in_email_username_pools(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    pool_id, client_id = email_pool(cognito, UsernameAttributes=["email"])
    sub = sign_up(public, client_id, "zed@example.com", "zed@example.com")["UserSub"]
    username = cognito.admin_get_user(UserPoolId=pool_id, Username="zed@example.com")["Username"]
    assert username == sub  # Cognito generates the username in such pools

    (by_email,) = outbox(server, pool_id=pool_id, username="zed@example.com")
    (by_username,) = outbox(server, pool_id=pool_id, username=username)
    assert by_email == by_username
    assert by_email["username"] == "zed@example.com"  # the name the user signed up with


def test_outbox_after_and_limit(server: CognateServer, cognito: Any, public: Any) -> None:
    pool_id, client_id = email_pool(cognito)
    for n in range(4):
        sign_up(public, client_id, f"n{n}", f"n{n}@example.com")
    ids = [m["id"] for m in outbox(server, pool_id=pool_id)]
    assert len(ids) == 4
    assert ids == sorted(ids)

    def page(**params: Any) -> list[int]:
        return [m["id"] for m in outbox(server, pool_id=pool_id, **params)]

    assert page(after=ids[1]) == ids[2:]
    assert page(after=ids[-1]) == []
    # `limit` keeps the newest messages, still oldest first.
    assert page(limit=2) == ids[2:]
    assert page(limit=1) == ids[3:]
    assert page(after=ids[0], limit=2) == ids[2:]
    assert [m["username"] for m in outbox(server, pool_id=pool_id, limit=2)] == ["n2", "n3"]


def test_outbox_rejects_non_integer_after_and_limit(server: CognateServer) -> None:
    for params in ({"after": "x"}, {"limit": "ten"}):
        response = outbox_response(server, **params)
        assert response.status_code == 400, params
        assert response.json() == {"message": "after and limit must be integers"}


def test_last_code_is_the_newest_and_404_when_there_is_none(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    pool_id, client_id = email_pool(cognito)
    for params in ({"pool_id": pool_id}, {"pool_id": pool_id, "username": "abe"}):
        missing = last_code_response(server, **params)
        assert missing.status_code == 404
        assert missing.json() == {"message": "no message with a code"}

    sign_up(public, client_id, "abe", "abe@example.com")
    first = last_code(server, pool_id=pool_id, username="abe")
    public.resend_confirmation_code(ClientId=client_id, Username="abe")
    messages = outbox(server, pool_id=pool_id, username="abe")
    assert len(messages) == 2
    assert last_code(server, pool_id=pool_id, username="abe") == messages[-1]["code"]
    assert messages[0]["code"] == first
    assert last_code_response(server, pool_id=pool_id, username="abel").status_code == 404
    public.confirm_sign_up(
        ClientId=client_id, Username="abe", ConfirmationCode=messages[-1]["code"]
    )


# --- `cognate outbox` --------------------------------------------------------------------------


def cli_env(server: CognateServer, key_file: Path | None = None) -> dict[str, str]:
    """The environment of `cognate outbox`: none of ours, the server's master key file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    env["COGNATE_MASTER_KEY_FILE"] = str(key_file or server.workdir / "master.key")
    return env


def cognate_outbox(server: CognateServer, *args: str, key_file: Path | None = None) -> Any:
    """`cognate outbox --db <the server's database> ARGS`, as a separate process."""
    return subprocess.run(
        [*CLI, "--db", server.db, *args],
        cwd=server.workdir,
        env=cli_env(server, key_file),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_lists_the_messages_with_their_codes(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "bea", "bea@example.com")
    sign_up(public, client_id, "cal", "cal@example.com")
    bea, cal = outbox(server, pool_id=pool_id)

    result = cognate_outbox(server, "--pool", pool_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4, result.stdout  # two lines per message
    pairs = zip(lines[::2], lines[1::2], strict=True)
    for (head, body), message in zip(pairs, (bea, cal), strict=True):
        assert re.fullmatch(
            rf"\d\d:\d\d:\d\d {pool_id} {message['username']} confirm_sign_up EMAIL -> "
            rf"{re.escape(message['destination'])} \(held\)  code {message['code']}  "
            r"\[Your verification code\]",
            head,
        ), head
        assert body == f"    Your verification code is {message['code']}. "

    only_cal = cognate_outbox(server, "--pool", pool_id, "--user", "cal")
    assert only_cal.returncode == 0, only_cal.stderr
    assert only_cal.stdout.count("confirm_sign_up") == 1
    assert f"code {cal['code']}" in only_cal.stdout
    assert bea["code"] not in only_cal.stdout

    newest = cognate_outbox(server, "--pool", pool_id, "--limit", "1")
    assert newest.returncode == 0, newest.stderr
    assert f"code {cal['code']}" in newest.stdout
    assert "bea@example.com" not in newest.stdout


def test_cli_last_code_prints_only_the_code(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "dee", "dee@example.com")
    sign_up(public, client_id, "eli", "eli@example.com")
    dee = last_code(server, pool_id=pool_id, username="dee")

    result = cognate_outbox(server, "--pool", pool_id, "--user", "dee", "--last-code")
    assert (result.returncode, result.stdout) == (0, f"{dee}\n"), result.stderr

    none = cognate_outbox(server, "--pool", pool_id, "--user", "fay", "--last-code")
    assert (none.returncode, none.stdout) == (1, "")
    empty = cognate_outbox(server, "--pool", "us-east-1_NoSuchPol", "--last-code")
    assert (empty.returncode, empty.stdout) == (1, "")


def test_cli_refuses_a_different_master_key(
    server: CognateServer, cognito: Any, public: Any, tmp_path: Path
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "gus", "gus@example.com")
    code = last_code(server, pool_id=pool_id)

    result = cognate_outbox(server, "--pool", pool_id, key_file=tmp_path / "other.key")
    assert result.returncode != 0
    assert "master key" in result.stderr
    assert code not in result.stdout + result.stderr


def test_cli_without_a_database_creates_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    result = subprocess.run(
        CLI, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "there is no Cognate database at .cognate/cognate.db" in result.stderr  # it says so
    assert list(tmp_path.iterdir()) == []  # ... and leaves no files behind


def test_cli_follow_prints_every_new_message(
    server: CognateServer, cognito: Any, public: Any
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "f0", "f0@example.com")
    follower = subprocess.Popen(
        [*CLI, "--db", server.db, "--pool", pool_id, "--follow", "--limit", "2"],
        cwd=server.workdir,
        env=cli_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()  # it runs, and printed what was there
        assert " f0 confirm_sign_up " in first, first
        for n in range(1, 6):  # five messages, well within one poll interval (1 s)
            sign_up(public, client_id, f"f{n}", f"f{n}@example.com")
        expected = {m["code"] for m in outbox(server, pool_id=pool_id)}
        time.sleep(FOLLOW_POLL_SECONDS + 0.5)
    finally:
        follower.terminate()
        rest, _ = follower.communicate(timeout=10)
    printed = set(re.findall(r"code (\d{6})", first + rest))
    assert printed == expected, first + rest


# --- codes stay out of the log ------------------------------------------------------------------


def test_codes_and_temporary_passwords_never_reach_the_server_log(
    server: CognateServer, cognito: Any, public: Any, region: str
) -> None:
    pool_id, client_id = email_pool(cognito)
    sign_up(public, client_id, "hu", "hu@example.com")
    public.resend_confirmation_code(ClientId=client_id, Username="hu")
    phone = phone_of(region)
    invite_by_sms(cognito, pool_id, "ida", phone)
    wait_for_sms(server, phone)
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="jon",
        UserAttributes=[{"Name": "email", "Value": "jon@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )
    secrets = [m["code"] for m in outbox(server, pool_id=pool_id)]
    assert len(secrets) == 4
    assert all(secrets)

    log = server.log()
    for secret in secrets:
        assert not re.search(rf"(?<![0-9]){re.escape(secret)}(?![0-9])", log), secret


# --- other SMS senders, and the outbox API switched off -------------------------------------------


class Webhook:
    """A local HTTP endpoint that records every request (method, path, JSON body) and answers
    `status`; with `redirect` set, POSTs to /sms are answered 301 to that path instead."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.redirect: str | None = None
        self._changed = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> int:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                redirect = hook.redirect if self.path == "/sms" else None
                answer = 301 if redirect else hook.status
                with hook._changed:
                    hook.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "content_type": self.headers["Content-Type"],
                            "json": json.loads(body) if body else None,
                            "answered": answer,
                        }
                    )
                    hook._changed.notify_all()
                self.send_response(answer)
                if redirect:
                    self.send_header("Location", redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return answer

            def do_POST(self) -> None:
                self._record()

            def do_GET(self) -> None:
                self._record()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"the webhook got {len(self.requests)} of {count} requests"
                self._changed.wait(left)
            return list(self.requests)


def test_webhook_sender_posts_each_sms(backend: str, tmp_path: Path, region: str) -> None:
    with (
        Webhook() as hook,
        serve(backend, tmp_path, ["--sms-sender", "webhook", "--sms-webhook-url", hook.url]) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="webhook")["UserPool"]["Id"]
        invite_by_sms(cognito, pool_id, "kai", PHONE, TemporaryPassword="Temp-0rary!")

        (request,) = hook.wait_for(1)
        assert (request["method"], request["path"]) == ("POST", "/sms")
        assert request["content_type"] == "application/json"
        assert request["json"] == {
            "to": PHONE,
            "body": "Your username is kai and temporary password is Temp-0rary!. ",
            "pool_id": pool_id,
            "kind": "invitation",
        }
        (message,) = wait_for_status(srv, pool_id, "sent")
        assert message["attempts"] == 1
        assert not (data_dir(srv) / "sms.jsonl").exists()


def test_webhook_errors_are_retried_until_it_answers_2xx(
    backend: str, tmp_path: Path, region: str
) -> None:
    with (
        Webhook() as hook,
        serve(backend, tmp_path, ["--sms-sender", "webhook", "--sms-webhook-url", hook.url]) as srv,
    ):
        hook.status = 500
        cognito = make_client(srv.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="webhook-retry")["UserPool"]["Id"]
        invite_by_sms(cognito, pool_id, "lee", PHONE)

        hook.wait_for(1)

        def failed() -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            return message if message["last_error"] else None

        pending = wait_until(failed, what="the failed attempt to be recorded")
        assert pending["status"] == "pending"
        assert pending["attempts"] == 1
        assert "HTTP 500" in pending["last_error"]
        assert pending["sent_at"] is None

        hook.status = 200
        first, second = hook.wait_for(2, timeout=15)  # the retry comes 2 s later
        (sent,) = wait_for_status(srv, pool_id, "sent")
        assert (first["answered"], second["answered"]) == (500, 200)
        assert first["json"] == second["json"]  # the same message again
        assert sent["attempts"] == 2
        assert sent["last_error"] is None
    assert "HTTP 500" in srv.log()  # a warning names the failure ...
    assert sent["code"] not in srv.log()  # ... but not the temporary password


def test_sms_sender_none_holds_sms(backend: str, tmp_path: Path, region: str) -> None:
    with serve(backend, tmp_path, ["--sms-sender", "none"]) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="held-sms")["UserPool"]["Id"]
        invite_by_sms(cognito, pool_id, "max", PHONE)
        cognito.admin_create_user(  # an email queued after it, held too (no SMTP)
            UserPoolId=pool_id,
            Username="ned",
            UserAttributes=[{"Name": "email", "Value": "ned@example.com"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
        time.sleep(0.7)  # longer than the sender's poll interval (0.5 s)

        sms, email = outbox(srv, pool_id=pool_id)
        assert (sms["channel"], sms["status"], sms["attempts"]) == ("SMS", "held", 0)
        assert (email["channel"], email["status"], email["attempts"]) == ("EMAIL", "held", 0)
        assert last_code(srv, pool_id=pool_id, username="max") == sms["code"]
        assert not (data_dir(srv) / "sms.jsonl").exists()


def test_log_sms_sender_writes_the_sms_to_the_log(
    backend: str, tmp_path: Path, region: str
) -> None:
    """`--sms-sender log` (development only) is the one way a code reaches the log."""
    with serve(backend, tmp_path, ["--sms-sender", "log"]) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="log-sms")["UserPool"]["Id"]
        invite_by_sms(cognito, pool_id, "ola", PHONE, TemporaryPassword="Temp-0rary!")
        wait_for_status(srv, pool_id, "sent")
        line = f"SMS to {PHONE} (invitation, pool {pool_id}): Your username is ola"
        wait_until(lambda: line in srv.log(), what="the SMS in the log")
        assert not (data_dir(srv) / "sms.jsonl").exists()


def test_dev_outbox_off(backend: str, tmp_path: Path, region: str) -> None:
    with serve(backend, tmp_path, ["--dev-outbox", "off"]) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        sign_up(unsigned_client(srv.endpoint, region), client_id, "pia", "pia@example.com")
        assert outbox_response(srv, pool_id=pool_id).status_code == 404
        assert last_code_response(srv, pool_id=pool_id).status_code == 404
        # The CLI reads the database itself: it still shows the held message.
        result = cognate_outbox(srv, "--pool", pool_id, "--last-code")
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(r"\d{6}\n", result.stdout)


def test_webhook_redirect_does_not_count_as_delivered(
    backend: str, tmp_path: Path, region: str
) -> None:
    with (
        Webhook() as hook,
        serve(backend, tmp_path, ["--sms-sender", "webhook", "--sms-webhook-url", hook.url]) as srv,
    ):
        hook.redirect = "/moved"  # e.g. a load balancer sending http:// to https://
        cognito = make_client(srv.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="webhook-redirect")["UserPool"]["Id"]
        invite_by_sms(cognito, pool_id, "ray", PHONE)

        def settled() -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            return message if message["status"] == "sent" or message["last_error"] else None

        message = wait_until(settled, what="the SMS to be sent or to fail")
        if message["status"] == "sent":  # then the SMS must have reached the webhook
            delivered = [
                r for r in hook.requests if r["method"] == "POST" and r["path"] == "/moved"
            ]
            assert delivered, hook.requests
            assert delivered[0]["json"]["to"] == PHONE
