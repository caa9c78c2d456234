"""The outbox sender: a background thread in every server process.

It leases due messages (a short transaction: `pending` rows whose time has come, and
`sending` rows whose lease expired because their process died), delivers each outside any
transaction, and records the outcome: `sent`; or, on failure, `pending` again with the
next attempt after a growing delay (2 s, 4 s, 8 s ... capped at 5 minutes) and the error
kept in `last_error`; `failed` after the last attempt. The API call that queued the
message never waits for delivery, so an SMTP server that is down costs no request
anything and loses no message. Several processes share the outbox: leases (with
`FOR UPDATE SKIP LOCKED` on PostgreSQL) give each message to one of them.

The thread wakes when this process queues a message (the notifier sets the shared event)
and otherwise polls.

A message queued for a pool's CustomEmailSender / CustomSMSSender function goes to that
function instead of SMTP or SMS (custom_senders.py): delivered once the function has run,
retried like any other, but given up after three attempts (as Lambda gives up retrying
an asynchronous invocation). It stays in the developer outbox with its state.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Connection

from cognate.config import Settings
from cognate.delivery.custom_senders import FUNCTION_ATTEMPTS, CustomSenders, FunctionDeliveryError
from cognate.delivery.transports import (
    DeliveryError,
    Email,
    EmailTransport,
    FileSmsSender,
    LogSmsSender,
    Sms,
    SmsTransport,
    SmtpSettings,
    SmtpTransport,
    WebhookSmsSender,
)
from cognate.domain.clock import Clock
from cognate.domain.log_delivery import USER_NOTIFICATION, emit_log
from cognate.domain.notifications import EMAIL, Notifier
from cognate.domain.polling_thread import PollingThread
from cognate.storage.db import Database
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.messages import MessageRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY_MS = 2_000
MAX_RETRY_MS = 300_000
LEASE_MS = 60_000
BATCH = 20


def retry_delay_ms(attempts: int) -> int:
    """The wait after the `attempts`-th failed attempt."""
    return int(min(FIRST_RETRY_MS * 2 ** max(attempts - 1, 0), MAX_RETRY_MS))


class OutboxSender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        *,
        email: EmailTransport | None,
        sms: SmsTransport | None,
        default_from: str,
        wake: threading.Event | None = None,
        poll_seconds: float = 0.5,
        custom_senders: CustomSenders | None = None,
    ) -> None:
        self._db = db
        self._custom_senders = custom_senders
        self._clock = clock
        self._notifier = notifier
        self._email = email
        self._sms = sms
        self._default_from = default_from
        self._thread = PollingThread(
            "cognate-outbox",
            self.run_once,
            wake=wake,
            poll_seconds=poll_seconds,
            failure="outbox: delivery round failed; retrying shortly",
        )

    def wake(self) -> None:
        """Look at the outbox now (a message was just queued)."""
        self._thread.wake()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._thread.stop(timeout)

    def run_once(self) -> int:
        """Lease and attempt the messages that are due; return how many were attempted."""
        now = self._clock.now_ms()
        postgres = not self._db.is_sqlite

        def lease(conn: Connection) -> list[MessageRow]:
            return messages_repo.claim_due(
                conn, now, limit=BATCH, lease_ms=LEASE_MS, postgres=postgres
            )

        batch = self._db.write("outbox_lease", lease)
        for message in batch:
            self._attempt(message)
        return len(batch)

    def _attempt(self, message: MessageRow) -> None:
        try:
            self._deliver(message)
        except FunctionDeliveryError as exc:
            self._failed(message, str(exc)[:500], attempts_allowed=FUNCTION_ATTEMPTS)
            return
        except DeliveryError as exc:
            self._failed(message, str(exc)[:500])
            return
        except Exception as exc:  # a bug must not strand the message (or the batch)
            log.exception("outbox: message %d: unexpected delivery failure", message.pk)
            self._failed(message, f"unexpected {type(exc).__name__}")
            return
        now = self._clock.now_ms()
        self._db.write("outbox_sent", lambda c: messages_repo.mark_sent(c, message.pk, now))

    def _deliver(self, message: MessageRow) -> None:
        content = self._notifier.open_message(message.destination, message.message_enc)
        pool = self._db.read("outbox_pool", lambda c: pools_repo.by_pk(c, message.pool_pk))
        if pool is None:  # the pool was deleted after the message was queued
            raise DeliveryError("the user pool no longer exists")
        if self._custom_senders is not None and self._custom_senders.handles(pool, content):
            self._custom_senders.deliver(pool, content)
            return
        if message.channel == EMAIL:
            if self._email is None:
                raise DeliveryError("no SMTP server is configured")
            self._email.send(self._email_of(message, content, pool.settings))
        else:
            if self._sms is None:
                raise DeliveryError("no SMS sender is configured")
            self._sms.send(Sms(message.destination, str(content["body"]), pool.id, message.kind))

    def _email_of(
        self, message: MessageRow, content: dict[str, Any], settings: dict[str, Any]
    ) -> Email:
        config = settings.get("EmailConfiguration") or {}
        return Email(
            to=message.destination,
            from_address=config.get("From") or self._default_from,
            reply_to=config.get("ReplyToEmailAddress"),
            subject=str(content.get("subject") or ""),
            body=str(content["body"]),
        )

    def _failed(
        self, message: MessageRow, error: str, *, attempts_allowed: int = MAX_ATTEMPTS
    ) -> None:
        attempts = message.attempts
        now = self._clock.now_ms()
        emit_log(message.pool_pk, USER_NOTIFICATION, _delivery_error(message, error))
        if attempts >= attempts_allowed:
            # A custom sender function's failure is the function's to report (as in Lambda).
            level = logging.ERROR if attempts_allowed == MAX_ATTEMPTS else logging.WARNING
            log.log(
                level, "outbox: message %d failed for good after %d attempts", message.pk, attempts
            )
            self._db.write(
                "outbox_failed", lambda c: messages_repo.mark_failed(c, message.pk, error)
            )
            return
        delay = retry_delay_ms(attempts)
        log.warning(
            "outbox: message %d not delivered (attempt %d, next in %d s): %s",
            message.pk,
            attempts,
            delay // 1000,
            error,
        )
        self._db.write(
            "outbox_retry",
            lambda c: messages_repo.mark_retry(c, message.pk, now + delay, error),
        )


def _delivery_error(message: MessageRow, error: str) -> dict[str, Any]:
    """The `message` of an exported userNotification log (Cognito documents `details`)."""
    medium = "Email" if message.channel == EMAIL else "SMS"
    return {
        "details": f"{medium} message delivery failed (attempt {message.attempts}): {error}",
        "deliveryMedium": message.channel,
        "messageType": message.kind,
        "userName": message.username,
    }


def transports(settings: Settings) -> tuple[EmailTransport | None, SmsTransport | None]:
    """The transports the settings configure (None: that channel is held)."""
    email: EmailTransport | None = None
    if settings.smtp_host:
        email = SmtpTransport(
            SmtpSettings(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_security,
                settings.smtp_username,
                settings.smtp_password,
            )
        )
    sms: SmsTransport | None = None
    if settings.sms_sender == "file":
        sms = FileSmsSender(settings.data_dir() / "sms.jsonl")
    elif settings.sms_sender == "log":
        sms = LogSmsSender()
    elif settings.sms_sender == "webhook":
        sms = WebhookSmsSender(settings.sms_webhook_url)
    return email, sms
