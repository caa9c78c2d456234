"""Email leaving Cognate over SMTP, received by a real SMTP server (aiosmtpd, tests/support/
smtp_sink.py): what the user gets (addresses, subject, text from the pool's templates or
Cognito's defaults), that its code works, SMTP AUTH, the developer outbox when SMTP is
configured, and retries while the SMTP server is down.

Most tests share one server started with `--smtp-host 127.0.0.1 --smtp-port <sink>
--smtp-security none`; each uses its own region, pool and addresses.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from cognate.storage.db import Database
from cognate.storage.schema import outbox as outbox_table
from cognate.storage.schema import user_pools
from tests.conftest import make_client
from tests.support.auth import unsigned_client
from tests.support.clock import ShiftedClock
from tests.support.delivery import (
    backend_params,
    code_in,
    email_pool,
    last_code_response,
    outbox,
    outbox_response,
    serve,
    sign_up,
    smtp_args,
    wait_for_status,
    wait_until,
)
from tests.support.server import CognateServer, free_port
from tests.support.smtp_sink import SmtpSink, make_certificates

DEFAULT_FROM = "no-reply@verificationemail.com"
SMTP_USER = "cognate-mailer"
SMTP_PASSWORD = "s3cret-smtp-pass"


@pytest.fixture(scope="module", params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as smtp:
        yield smtp


@pytest.fixture(scope="module")
def server(
    backend: str, sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    """The server every test here shares (overrides tests/conftest.py's `server`)."""
    with serve(backend, tmp_path_factory.mktemp("smtp"), smtp_args(sink.port)) as srv:
        yield srv


@pytest.fixture
def public(server: CognateServer, region: str) -> Any:
    return unsigned_client(server.endpoint, region)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def address(region: str, name: str) -> str:
    """An address no other test uses (the sink is shared)."""
    return f"{name}.{region}@example.com"


# --- what arrives, and that it works ------------------------------------------------------------


def test_sign_up_code_is_emailed_and_confirms_the_user(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    pool_id, client_id = email_pool(cognito)
    to = address(region, "ann")

    started = time.monotonic()
    response = sign_up(public, client_id, "ann", to)
    assert response["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"

    mail = sink.wait_for_message_to(to)
    assert time.monotonic() - started < 5, "the sender thread did not deliver promptly"
    assert mail.rcpt_tos == [to]
    assert mail.to == to
    assert mail.mail_from == DEFAULT_FROM
    assert mail.from_ == DEFAULT_FROM
    assert mail.reply_to is None
    assert mail.subject == "Your verification code"
    code = code_in(mail.text)
    assert mail.html is None  # plain text: Cognito's default message has no markup
    assert mail.login is None
    assert mail.message["Date"] is not None
    assert mail.message["Message-ID"] is not None
    # One message per SignUp: nothing else was sent to that address.
    assert [m for m in sink.messages if to in m.rcpt_tos] == [mail]

    with pytest.raises(ClientError) as exc:
        public.confirm_sign_up(
            ClientId=client_id, Username="ann", ConfirmationCode=f"{(int(code) + 1) % 10**6:06d}"
        )
    assert error(exc)[0] == "CodeMismatchException"
    public.confirm_sign_up(ClientId=client_id, Username="ann", ConfirmationCode=code)

    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ann")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


def test_resent_code_is_a_new_email_and_only_the_newest_code_works(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    _, client_id = email_pool(cognito)
    to = address(region, "bo")
    sign_up(public, client_id, "bo", to)
    first = code_in(sink.wait_for_message_to(to).text)

    public.resend_confirmation_code(ClientId=client_id, Username="bo")
    mails = wait_until(
        lambda: [m for m in sink.messages if to in m.rcpt_tos][1:], what="the second email"
    )
    second = code_in(mails[-1].text)

    if second != first:  # one chance in a million that they are equal
        with pytest.raises(ClientError) as exc:
            public.confirm_sign_up(ClientId=client_id, Username="bo", ConfirmationCode=first)
        # (Cognate answers CodeMismatchException; domain/codes.py's docstring says a
        # replaced code is ExpiredCodeException: either way the first code is refused.)
        assert error(exc)[0] in ("CodeMismatchException", "ExpiredCodeException")
    public.confirm_sign_up(ClientId=client_id, Username="bo", ConfirmationCode=second)


def test_pool_email_configuration_sets_from_and_reply_to(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    _, client_id = email_pool(
        cognito,
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/team@example.com",
            "From": "Team <team@example.com>",
            "ReplyToEmailAddress": "help@example.com",
        },
    )
    to = address(region, "cy")
    sign_up(public, client_id, "cy", to)

    mail = sink.wait_for_message_to(to)
    assert mail.from_ == "Team <team@example.com>"
    assert mail.mail_from == "team@example.com"  # the envelope sender: the address alone
    assert mail.reply_to == "help@example.com"
    assert mail.subject == "Your verification code"
    code_in(mail.text)


def test_reply_to_alone_keeps_the_default_from(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    _, client_id = email_pool(cognito, EmailConfiguration={"ReplyToEmailAddress": "desk@ex.com"})
    to = address(region, "di")
    sign_up(public, client_id, "di", to)

    mail = sink.wait_for_message_to(to)
    assert (mail.from_, mail.reply_to) == (DEFAULT_FROM, "desk@ex.com")


def test_custom_verification_template_is_used(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    pool_id, client_id = email_pool(
        cognito,
        VerificationMessageTemplate={
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
            "EmailSubject": "Welcome to Acme",
            "EmailMessage": "Hello! Your Acme code: {####} (valid for 24 hours)",
        },
    )
    to = address(region, "ed")
    sign_up(public, client_id, "ed", to)

    mail = sink.wait_for_message_to(to)
    assert mail.subject == "Welcome to Acme"
    match = re.fullmatch(r"Hello! Your Acme code: (\d{6}) \(valid for 24 hours\)", mail.text)
    assert match, mail.text
    public.confirm_sign_up(ClientId=client_id, Username="ed", ConfirmationCode=match.group(1))
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="ed")["UserStatus"] == "CONFIRMED"


def test_html_template_is_sent_with_a_text_alternative(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    _, client_id = email_pool(
        cognito,
        VerificationMessageTemplate={
            "EmailSubject": "Confirm",
            "EmailMessage": "<p>Your code is <b>{####}</b></p>",
        },
    )
    to = address(region, "fa")
    sign_up(public, client_id, "fa", to)

    mail = sink.wait_for_message_to(to)
    assert mail.message.get_content_type() == "multipart/alternative"
    match = re.fullmatch(r"<p>Your code is <b>(\d{6})</b></p>", mail.text)
    assert match, mail.text
    assert mail.html is not None
    assert mail.html.rstrip("\n") == mail.text


def test_admin_create_user_invitation_email_carries_the_temporary_password(
    cognito: Any, sink: SmtpSink, region: str
) -> None:
    pool_id, client_id = email_pool(
        cognito,
        AdminCreateUserConfig={
            "InviteMessageTemplate": {
                "EmailSubject": "Your Acme account",
                "EmailMessage": "Hi {username}, sign in with the password {####} soon.",
            }
        },
    )
    to = address(region, "gil")
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="gil",
        UserAttributes=[{"Name": "email", "Value": to}],
        DesiredDeliveryMediums=["EMAIL"],
    )

    mail = sink.wait_for_message_to(to)
    assert mail.subject == "Your Acme account"
    assert mail.from_ == DEFAULT_FROM
    match = re.fullmatch(r"Hi gil, sign in with the password (\S+) soon\.", mail.text)
    assert match, mail.text
    # The password in the email is the user's: it signs in (and must be changed).
    started = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "gil", "PASSWORD": match.group(1)},
    )
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_default_invitation_email(cognito: Any, sink: SmtpSink, region: str) -> None:
    pool_id, _ = email_pool(cognito)
    to = address(region, "hal")
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="hal",
        TemporaryPassword="Temp-0rary!",
        UserAttributes=[{"Name": "email", "Value": to}],
        DesiredDeliveryMediums=["EMAIL"],
    )

    mail = sink.wait_for_message_to(to)
    assert mail.subject == "Your temporary password"
    assert mail.text == "Your username is hal and temporary password is Temp-0rary!. "


def test_suppressed_invitation_sends_no_email(cognito: Any, sink: SmtpSink, region: str) -> None:
    pool_id, _ = email_pool(cognito)
    quiet, loud = address(region, "ivy"), address(region, "jo")
    for username, to, action in (("ivy", quiet, {"MessageAction": "SUPPRESS"}), ("jo", loud, {})):
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[{"Name": "email", "Value": to}],
            DesiredDeliveryMediums=["EMAIL"],
            **action,
        )
    # The sender goes in queue order: had the first invitation been queued, it would have
    # been sent before the second.
    sink.wait_for_message_to(loud)
    assert not [m for m in sink.messages if quiet in m.rcpt_tos]


def test_forgot_password_code_is_emailed(
    cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    _, client_id = email_pool(cognito)
    to = address(region, "kim")
    sign_up(public, client_id, "kim", to)
    code = code_in(sink.wait_for_message_to(to).text)
    public.confirm_sign_up(ClientId=client_id, Username="kim", ConfirmationCode=code)

    delivery = public.forgot_password(ClientId=client_id, Username="kim")["CodeDeliveryDetails"]
    assert delivery == {
        "Destination": "k***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    mails = wait_until(lambda: [m for m in sink.messages if to in m.rcpt_tos][1:])
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="kim",
        ConfirmationCode=code_in(mails[-1].text),
        Password="N3w-Passw0rd!",
    )
    tokens = public.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "kim", "PASSWORD": "N3w-Passw0rd!"},
    )
    assert "AccessToken" in tokens["AuthenticationResult"]


# --- the developer outbox when SMTP is configured -------------------------------------------


def test_dev_outbox_is_off_when_smtp_is_configured(
    server: CognateServer, cognito: Any, public: Any, sink: SmtpSink, region: str
) -> None:
    pool_id, client_id = email_pool(cognito)
    to = address(region, "lu")
    sign_up(public, client_id, "lu", to)
    sink.wait_for_message_to(to)

    assert outbox_response(server).status_code == 404
    assert outbox_response(server, pool_id=pool_id).status_code == 404
    assert last_code_response(server, pool_id=pool_id, username="lu").status_code == 404
    assert "Your verification code" not in outbox_response(server, pool_id=pool_id).text


def test_dev_outbox_on_with_smtp_shows_sent_messages(
    backend: str, sink: SmtpSink, tmp_path: Path, region: str
) -> None:
    with serve(backend, tmp_path, smtp_args(sink.port, "--dev-outbox", "on")) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        to = address(region, "mo")
        sign_up(unsigned_client(srv.endpoint, region), client_id, "mo", to)
        code = code_in(sink.wait_for_message_to(to).text)

        (message,) = wait_for_status(srv, pool_id, "sent")
        assert message["destination"] == to
        assert message["channel"] == "EMAIL"
        assert message["kind"] == "confirm_sign_up"
        assert message["code"] == code
        assert message["attempts"] == 1
        assert message["last_error"] is None
        assert message["sent_at"] >= message["created_at"]
        assert message["subject"] == "Your verification code"
        assert message["body"] == f"Your verification code is {code}. "
        last = last_code_response(srv, pool_id=pool_id, username="mo")
        assert (last.status_code, last.json()) == (200, {"code": code})


# --- SMTP AUTH -----------------------------------------------------------------------------------


def test_smtp_auth_with_username_and_password(backend: str, tmp_path: Path, region: str) -> None:
    with (
        SmtpSink(credentials=(SMTP_USER, SMTP_PASSWORD)) as sink,
        serve(
            backend,
            tmp_path,
            smtp_args(
                sink.port,
                "--smtp-username",
                SMTP_USER,
                "--smtp-from",
                "Acme <accounts@acme.test>",
                "--dev-outbox",
                "on",
            ),
            env={"COGNATE_SMTP_PASSWORD": SMTP_PASSWORD},
        ) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        to = address(region, "ned")
        sign_up(unsigned_client(srv.endpoint, region), client_id, "ned", to)

        (mail,) = sink.wait_for(1)
        assert mail.login == SMTP_USER
        assert sink.failed_logins == []
        assert mail.rcpt_tos == [to]
        # --smtp-from replaces the default From for pools that name none.
        assert mail.from_ == "Acme <accounts@acme.test>"
        assert mail.mail_from == "accounts@acme.test"
        wait_for_status(srv, pool_id, "sent")
    # The SMTP password never reaches the log.
    assert SMTP_PASSWORD not in srv.log()


def test_smtp_auth_rejected_keeps_the_message_pending(
    backend: str, tmp_path: Path, region: str
) -> None:
    with (
        SmtpSink(credentials=(SMTP_USER, SMTP_PASSWORD)) as sink,
        serve(
            backend,
            tmp_path,
            smtp_args(sink.port, "--smtp-username", SMTP_USER, "--dev-outbox", "on"),
            env={"COGNATE_SMTP_PASSWORD": "not-the-password"},
        ) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        sign_up(unsigned_client(srv.endpoint, region), client_id, "oz", address(region, "oz"))

        def failed_once() -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            return message if message["last_error"] else None

        message = wait_until(failed_once, what="a failed attempt")
        assert message["status"] in ("pending", "sending")
        assert message["attempts"] >= 1
        assert "SMTPAuthenticationError" in message["last_error"]
        assert "535" in message["last_error"]
        assert "not-the-password" not in message["last_error"]
        assert sink.messages == []
        assert sink.failed_logins  # the server did try to log in
    assert "not-the-password" not in srv.log()


# --- SMTP down ---------------------------------------------------------------------------------


def test_smtp_down_then_up_delivers_the_queued_message(
    backend: str, tmp_path: Path, region: str
) -> None:
    """Nothing listens on the SMTP port: SignUp still answers at once, the message waits in
    the outbox (pending, with the error); once an SMTP server listens there, the next retry
    (2 s after the first failure) delivers it."""
    port = free_port()
    with serve(backend, tmp_path, smtp_args(port, "--dev-outbox", "on")) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        to = address(region, "pat")

        started = time.monotonic()
        response = sign_up(unsigned_client(srv.endpoint, region), client_id, "pat", to)
        assert time.monotonic() - started < 5, "SignUp waited for the SMTP server"
        assert response["UserConfirmed"] is False

        def failed_once() -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            return message if message["last_error"] else None

        pending = wait_until(failed_once, what="the first failed attempt")
        assert pending["status"] == "pending"
        assert pending["attempts"] >= 1
        assert pending["sent_at"] is None
        assert f"127.0.0.1:{port}" in pending["last_error"]
        assert "ConnectionRefusedError" in pending["last_error"]

        with SmtpSink(port=port) as sink:
            mail = sink.wait_for_message_to(to, timeout=15)
            (sent,) = wait_for_status(srv, pool_id, "sent")
        assert sent["attempts"] >= 2
        assert sent["last_error"] is None
        assert sent["sent_at"] is not None
        code = code_in(mail.text)
        assert sent["code"] == code
        unsigned_client(srv.endpoint, region).confirm_sign_up(
            ClientId=client_id, Username="pat", ConfirmationCode=code
        )
    log = srv.log()
    assert "not delivered" in log  # the failure is logged (a warning, not an error) ...
    assert code not in log  # ... without the code


# --- the retry schedule, leases and several processes ------------------------------------------


def outbox_rows(server: CognateServer, pool_id: str) -> list[Any]:
    """The pool's outbox rows as stored (for next_attempt_at and lease_until)."""
    db = Database(server.db, pool_size=1)
    try:
        return db.read(
            "test_outbox_rows",
            lambda conn: conn.execute(
                sa.select(outbox_table)
                .join(user_pools, user_pools.c.pk == outbox_table.c.pool_pk)
                .where(user_pools.c.id == pool_id)
                .order_by(outbox_table.c.pk)
            ).all(),
        )
    finally:
        db.dispose()


def test_retries_back_off_then_give_up_after_ten_attempts(
    backend: str, tmp_path: Path, region: str
) -> None:
    """With the server's clock moved past each wait: attempts come 2 s, 4 s, 8 s ... 256 s,
    then 300 s (the cap) apart; the 10th failure is final, and a failed message is not
    retried even once SMTP works again."""
    clock = ShiftedClock(tmp_path)
    port = free_port()
    workdir = tmp_path / "server"
    workdir.mkdir()
    with serve(
        backend,
        workdir,
        smtp_args(port, "--dev-outbox", "on"),
        env=clock.env(),
        expected_problems=("failed for good after 10 attempts",),
    ) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        waker_pool = cognito.create_user_pool(PoolName="waker")["UserPool"]["Id"]

        def server_now_ms() -> float:
            return time.time() * 1000 + clock.offset.total_seconds() * 1000

        def after_attempt(n: int) -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            done = message["attempts"] == n and message["status"] in ("pending", "failed")
            return message if done else None

        # Each failed attempt happens (on the server's clock) after `triggered` and before
        # `observed`, and schedules the next at failure time + wait: so next - observed <=
        # wait <= next - triggered, however long the observation took.
        triggered = server_now_ms()
        sign_up(unsigned_client(srv.endpoint, region), client_id, "quin", address(region, "q"))
        expected_waits = [2, 4, 8, 16, 32, 64, 128, 256, 300]  # seconds
        for attempt, wait in enumerate(expected_waits, start=1):
            message = wait_until(lambda n=attempt: after_attempt(n), what=f"attempt {attempt}")
            assert message["status"] == "pending"
            assert "ConnectionRefusedError" in message["last_error"]
            (row,) = outbox_rows(srv, pool_id)
            observed = server_now_ms()
            bounds = (row.next_attempt_at - observed - 2, row.next_attempt_at - triggered + 2)
            assert bounds[0] <= wait * 1000 <= bounds[1], (attempt, wait, bounds)
            # Move the server's clock just past the next attempt's time.
            shift = (row.next_attempt_at - observed) / 1000 + 0.05
            triggered = observed + shift * 1000
            clock.shift(seconds=shift)
            # Queuing any message wakes the sender at once (instead of at its next poll):
            # an SMS invitation, which the default file sender delivers.
            cognito.admin_create_user(
                UserPoolId=waker_pool,
                Username=f"waker{attempt}",
                UserAttributes=[{"Name": "phone_number", "Value": f"+1555555010{attempt}"}],
            )

        final = wait_until(lambda: after_attempt(10), what="the 10th attempt")
        assert final["status"] == "failed"
        assert "ConnectionRefusedError" in final["last_error"]
        assert final["sent_at"] is None

        with SmtpSink(port=port) as sink:
            clock.shift(hours=1)
            time.sleep(1.2)  # more than two rounds of the sender (it polls every 0.5 s)
            assert sink.messages == []
        (still,) = outbox(srv, pool_id=pool_id)
        assert (still["status"], still["attempts"]) == ("failed", 10)
    assert "failed for good after 10 attempts" in srv.log()


def test_a_message_leased_by_a_process_that_died_is_sent_by_the_next(
    backend: str, tmp_path: Path, region: str
) -> None:
    """The SMTP server accepts the connection but never answers, and the server process is
    killed mid-delivery: the message stays leased ("sending") for a minute, then a new
    process takes it over and delivers it."""
    clock = ShiftedClock(tmp_path)
    workdir = tmp_path / "server"
    workdir.mkdir()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; no greeting ever comes
    port = silent.getsockname()[1]
    try:
        with serve(backend, workdir, smtp_args(port, "--dev-outbox", "on"), env=clock.env()) as srv:
            cognito = make_client(srv.endpoint, region)
            pool_id, client_id = email_pool(cognito)
            to = address(region, "rae")
            started = time.monotonic()
            sign_up(unsigned_client(srv.endpoint, region), client_id, "rae", to)
            # The API call does not wait for the SMTP server (which would take its 10 s).
            assert time.monotonic() - started < 5

            def sending() -> dict[str, Any] | None:
                (message,) = outbox(srv, pool_id=pool_id)
                return message if message["status"] == "sending" else None

            assert wait_until(sending, what="the delivery to start")["attempts"] == 1
            srv.stop(signal.SIGKILL)
            silent.close()
            with SmtpSink(port=port) as sink:
                srv.start()
                time.sleep(1.2)  # the new process polls, but the lease has not expired
                assert sink.messages == []
                assert sending() is not None
                clock.shift(seconds=61)  # past the one-minute lease
                mail = sink.wait_for_message_to(to)
                (sent,) = wait_for_status(srv, pool_id, "sent")
            assert sent["attempts"] == 2
            assert sent["code"] == code_in(mail.text)
            assert len(sink.messages) == 1
    finally:
        silent.close()


def test_two_processes_send_each_message_once(
    backend: str, sink: SmtpSink, tmp_path: Path, region: str
) -> None:
    with serve(
        backend, tmp_path, smtp_args(sink.port, "--workers", "2", "--dev-outbox", "on")
    ) as srv:
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        public = unsigned_client(srv.endpoint, region)
        addresses = [address(region, f"w{n}") for n in range(12)]
        for n, to in enumerate(addresses):
            sign_up(public, client_id, f"w{n}", to)

        messages = wait_for_status(srv, pool_id, "sent")
        assert len(messages) == len(addresses)
        assert all(m["attempts"] == 1 for m in messages)
        for to in addresses:
            sink.wait_for_message_to(to)
        time.sleep(0.6)  # a duplicate would have been sent by now
        received = [to for m in sink.messages for to in m.rcpt_tos if to in addresses]
        assert sorted(received) == sorted(addresses)


# --- what the templates may hold ----------------------------------------------------------------


def test_non_ascii_subject_and_body(cognito: Any, public: Any, sink: SmtpSink, region: str) -> None:
    _, client_id = email_pool(
        cognito,
        VerificationMessageTemplate={
            "EmailSubject": "Código de verificación ✓",
            "EmailMessage": "Tu código es {####}. ¡Gracias! — 東京",
        },
    )
    to = address(region, "sol")
    sign_up(public, client_id, "sol", to)

    mail = sink.wait_for_message_to(to)
    assert mail.subject == "Código de verificación ✓"
    assert re.fullmatch(r"Tu código es \d{6}\. ¡Gracias! — 東京", mail.text), mail.text


def test_line_break_in_subject_does_not_stall_delivery(
    backend: str, tmp_path: Path, region: str
) -> None:
    with (
        SmtpSink() as sink,
        serve(
            backend, tmp_path, smtp_args(sink.port, "--dev-outbox", "on"), check_log=False
        ) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        pool_id, _ = email_pool(
            cognito,
            AdminCreateUserConfig={
                "InviteMessageTemplate": {
                    "EmailSubject": "Welcome\nto Acme",
                    "EmailMessage": "Hi {username}, your password is {####}",
                }
            },
        )
        phone = "+15555550142"
        cognito.admin_create_user(  # one email and one SMS, queued together
            UserPoolId=pool_id,
            Username="tod",
            UserAttributes=[
                {"Name": "email", "Value": "tod@example.com"},
                {"Name": "phone_number", "Value": phone},
            ],
            DesiredDeliveryMediums=["EMAIL", "SMS"],
        )

        def settled() -> list[dict[str, Any]] | None:
            messages = outbox(srv, pool_id=pool_id)
            done = all(m["status"] == "sent" or m["last_error"] for m in messages)
            return messages if done else None

        # Each message is either delivered or has its failure recorded, promptly.
        email, sms = wait_until(settled, timeout=2, what="both messages to be attempted")
        assert sms["status"] == "sent"
        assert email["status"] == "sent" or email["last_error"]
    assert srv.problems() == []


# --- TLS --------------------------------------------------------------------------------------


def tls_args(port: int, security: str, *more: str) -> list[str]:
    return [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-security",
        security,
        *more,
    ]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_trusted_certificate_and_auth(
    backend: str, tmp_path: Path, region: str, security: str
) -> None:
    """STARTTLS (the default) and implicit TLS, with SMTP AUTH inside the encrypted session;
    the server's process trusts the test CA through SSL_CERT_FILE."""
    certificate = make_certificates(tmp_path)
    workdir = tmp_path / "server"
    workdir.mkdir()
    with (
        SmtpSink(
            tls=security, certificate=certificate, credentials=(SMTP_USER, SMTP_PASSWORD)
        ) as sink,
        serve(
            backend,
            workdir,
            tls_args(sink.port, security, "--smtp-username", SMTP_USER),
            env={"SSL_CERT_FILE": str(certificate.ca_file), "COGNATE_SMTP_PASSWORD": SMTP_PASSWORD},
        ) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        _, client_id = email_pool(cognito)
        to = address(region, "tls")
        sign_up(unsigned_client(srv.endpoint, region), client_id, "tls", to)

        mail = sink.wait_for_message_to(to)
        assert mail.tls_version is not None
        assert mail.tls_version.startswith("TLSv1.")
        assert mail.login == SMTP_USER
        code_in(mail.text)


def test_an_untrusted_certificate_is_refused(backend: str, tmp_path: Path, region: str) -> None:
    """Cognate verifies the SMTP server's certificate: one from an unknown CA fails the
    delivery (kept for a retry), and nothing is sent."""
    certificate = make_certificates(tmp_path)
    workdir = tmp_path / "server"
    workdir.mkdir()
    with (
        SmtpSink(tls="starttls", certificate=certificate) as sink,
        serve(
            backend,
            workdir,
            tls_args(sink.port, "starttls", "--dev-outbox", "on"),
        ) as srv,
    ):
        cognito = make_client(srv.endpoint, region)
        pool_id, client_id = email_pool(cognito)
        sign_up(unsigned_client(srv.endpoint, region), client_id, "ux", address(region, "ux"))

        def failed() -> dict[str, Any] | None:
            (message,) = outbox(srv, pool_id=pool_id)
            return message if message["last_error"] else None

        message = wait_until(failed, what="the failed attempt")
        assert message["status"] == "pending"
        assert "CERTIFICATE_VERIFY_FAILED" in message["last_error"]
        assert sink.messages == []
