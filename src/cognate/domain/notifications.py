"""Messages Cognito sends users: invitations and one-time codes, rendered and queued.

A message is rendered from the pool's templates (or Cognito's defaults) and written to the
outbox in the same transaction as the change that causes it, sealed because it carries a
temporary password or a code (kept beside the text too, for the developer outbox).
Delivering the outbox (SMTP, SMS) is `cognate.delivery`'s job; what is queued here is
exactly what it will send. A channel with no transport configured (email without SMTP)
queues its messages as held: they wait in the developer outbox.

Codes are six random digits; only an HMAC of the code under a key derived from the master
key is stored, so neither the database nor a log reveals a code.

Lambda triggers (custom_messages.py): an operation that may send runs its write through
`Notifier.write` with a `MessageContext`. In a pool with a CustomMessage function, the
function's text replaces the template; in a pool with a CustomEmailSender /
CustomSMSSender function, the message is queued for that function (the outbox delivery
hands it the code encrypted) instead of SMTP or SMS, with what its event needs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from cognate.domain.custom_messages import (
    CODE_PARAMETER,
    CUSTOM_MESSAGE,
    USERNAME_PARAMETER,
    CustomText,
    MessageContext,
    NeedsCustomMessage,
    current_context,
    custom_email,
    custom_sender,
    custom_sms,
    enter,
    leave,
    run_custom_message,
)
from cognate.domain.secretbox import SecretBox
from cognate.domain.triggers import Triggers, event_attributes, trigger_arn
from cognate.storage.db import Database
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import users as users_repo

log = logging.getLogger(__name__)
T = TypeVar("T")

EMAIL = "EMAIL"
SMS = "SMS"

# Cognito's defaults when a pool has no template of its own.
# (DescribeUserPool of a real pool: each body ends with a period and a space).
DEFAULT_INVITE_SUBJECT = "Your temporary password"
DEFAULT_INVITE_EMAIL = "Your username is {username} and temporary password is {####}. "
DEFAULT_INVITE_SMS = "Your username is {username} and temporary password is {####}. "
DEFAULT_CODE_SUBJECT = "Your verification code"
DEFAULT_CODE_MESSAGE = "Your verification code is {####}. "
DEFAULT_MFA_SMS = "Your authentication code is {####}. "
DEFAULT_MFA_EMAIL_SUBJECT = "Your sign-in code"
DEFAULT_MFA_EMAIL = "Your sign-in code is {####}. "

HOUR_MS = 3600 * 1000


def code_lifetime_ms(purpose: str) -> int:
    """How long a code lives: an hour for password resets, a day for confirmation and
    attribute verification codes (Cognito's quotas)."""
    return HOUR_MS if purpose == "forgot_password" else 24 * HOUR_MS


def mask_destination(channel: str, destination: str) -> str:
    """Where a code went, as Cognito shows it today: `j***@g***` (first letters of the
    address and of its domain, no top-level domain), `+*******1212`."""
    if channel == SMS:
        visible = destination[-4:]
        return "+" + "*" * max(len(destination) - 1 - len(visible), 0) + visible
    local, _, domain = destination.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


@dataclass(frozen=True, slots=True)
class Recipient:
    pool_pk: int
    user_pk: int
    username: str
    """The name shown in messages: what the user signs in with."""


class Notifier:
    def __init__(
        self,
        box: SecretBox,
        *,
        held_channels: frozenset[str] = frozenset(),
        on_queue: Callable[[], None] | None = None,
    ) -> None:
        self._box = box
        self._code_key = box.derived_key("one-time-codes")
        self._held = held_channels
        self._on_queue = on_queue
        self._triggers: Triggers | None = None

    def use_triggers(self, triggers: Triggers) -> None:
        """Run the pools' CustomMessage functions (and queue for their custom senders)."""
        self._triggers = triggers

    def write(
        self,
        db: Database,
        name: str,
        fn: Callable[[Connection], T],
        context: MessageContext,
        *,
        conflicts: int = 0,
    ) -> T:
        """`db.write(name, fn)` for a transaction that may send messages, for the reason
        `context` gives. A CustomMessage function runs between two attempts, never inside
        the transaction (see custom_messages.py)."""
        token = enter(context)
        try:
            try:
                return db.write(name, fn, conflicts=conflicts)
            except NeedsCustomMessage as need:
                assert self._triggers is not None
                context.text = run_custom_message(self._triggers, context, need)
            return db.write(name, fn, conflicts=conflicts)
        finally:
            leave(token)

    def code_hash(self, user_pk: int, purpose: str, code: str) -> str:
        message = f"{user_pk}|{purpose}|{code}".encode()
        return hmac.new(self._code_key, message, hashlib.sha256).hexdigest()

    def _queue(
        self,
        conn: Connection,
        recipient: Recipient,
        *,
        kind: str,
        channel: str,
        destination: str,
        subject: str | None,
        body: str,
        now: int,
        code: str | None = None,
        settings: dict[str, Any],
    ) -> None:
        content: dict[str, Any] = {"subject": subject, "body": body, "code": code}
        sender = self._custom_sender(conn, recipient, settings, channel)
        if sender is not None:
            content["sender"] = sender
        sealed = self._box.seal(dumps(content), f"outbox/{destination}")
        messages_repo.add_message(
            conn,
            held=channel in self._held and sender is None,
            pool_pk=recipient.pool_pk,
            user_pk=recipient.user_pk,
            username=recipient.username,
            kind=kind,
            channel=channel,
            destination=destination,
            message_enc=sealed,
            created_at=now,
        )
        if self._on_queue is not None:
            self._on_queue()

    def queue_notice(
        self,
        conn: Connection,
        recipient: Recipient,
        *,
        destination: str,
        subject: str,
        body: str,
        now: int,
        settings: dict[str, Any],
    ) -> None:
        """An email that carries no code: threat protection's risk notifications."""
        self._queue(
            conn,
            recipient,
            kind="risk_notification",
            channel=EMAIL,
            destination=destination,
            subject=subject,
            body=body,
            now=now,
            settings=settings,
        )

    def open_message(self, destination: str, sealed: str) -> dict[str, Any]:
        return dict(loads(self._box.open(sealed, f"outbox/{destination}")))

    # ------------------------------------------------------------------ Lambda triggers

    def _custom_text(
        self, conn: Connection, recipient: Recipient, settings: dict[str, Any], channel: str
    ) -> CustomText | None:
        """The CustomMessage function's reply for this operation, None without one. A
        medium that goes to a custom sender needs no text (the sender gets the code)."""
        if self._triggers is None or trigger_arn(settings, CUSTOM_MESSAGE) is None:
            return None
        if custom_sender(settings, channel) is not None:
            return None
        context = self._context()
        if context is None:
            return None
        if context.text is None:
            pool = pools_repo.by_pk(conn, recipient.pool_pk)
            user = users_repo.by_pk(conn, recipient.user_pk)
            assert pool is not None  # the caller holds the pool and the user
            assert user is not None
            raise NeedsCustomMessage(pool, user, users_repo.attributes(conn, user.pk))
        return context.text

    def _custom_sender(
        self, conn: Connection, recipient: Recipient, settings: dict[str, Any], channel: str
    ) -> dict[str, Any] | None:
        """What a CustomEmailSender / CustomSMSSender event needs, when the pool has one
        for this medium (read now: the event describes the user as they were)."""
        trigger = custom_sender(settings, channel) if self._triggers is not None else None
        if trigger is None:
            return None
        context = self._context()
        user = users_repo.by_pk(conn, recipient.user_pk)
        if context is None or user is None:
            return None
        return {
            "trigger": trigger,
            "source": f"{trigger}_{context.source}",
            "client_id": context.client_id,
            "client_metadata": dict(context.client_metadata),
            "username": user.username,
            "user_attributes": event_attributes(user, users_repo.attributes(conn, user.pk)),
        }

    @staticmethod
    def _context() -> MessageContext | None:
        context = current_context()
        if context is None:
            log.warning("a message was sent outside Notifier.write: its triggers do not run")
        return context

    def invitation(
        self,
        conn: Connection,
        recipient: Recipient,
        settings: dict[str, Any],
        destinations: dict[str, str],
        temporary_password: str | None,
        now: int,
    ) -> None:
        """Queue the welcome message on each requested medium (channel -> destination)."""
        template = (settings.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
        placeholders: tuple[str, ...] = (USERNAME_PARAMETER, CODE_PARAMETER)
        if temporary_password is None:
            placeholders = (USERNAME_PARAMETER,)
        for channel, destination in destinations.items():
            text = self._custom_text(conn, recipient, settings, channel)
            if channel == EMAIL:
                body = template.get("EmailMessage", DEFAULT_INVITE_EMAIL)
                subject = template.get("EmailSubject", DEFAULT_INVITE_SUBJECT)
                if text is not None:
                    body, subject = custom_email(text, settings, body, subject, placeholders)
            else:
                body, subject = template.get("SMSMessage", DEFAULT_INVITE_SMS), None
                if text is not None:
                    body = custom_sms(text, body, placeholders)
            if temporary_password is not None and "{####}" not in body:
                continue  # Cognito does not deliver an invitation without the password
            rendered = body.replace("{username}", recipient.username)
            rendered = rendered.replace("{####}", temporary_password or "")
            self._queue(
                conn,
                recipient,
                kind="invitation",
                channel=channel,
                destination=destination,
                subject=subject,
                body=rendered,
                now=now,
                code=temporary_password,
                settings=settings,
            )

    def send_code(
        self,
        conn: Connection,
        recipient: Recipient,
        settings: dict[str, Any],
        *,
        purpose: str,
        channel: str,
        destination: str,
        now: int,
    ) -> None:
        """Issue a fresh code for `purpose` (replacing any earlier one) and queue it."""
        code = f"{secrets.randbelow(10**6):06d}"
        messages_repo.replace_code(
            conn,
            user_pk=recipient.user_pk,
            purpose=purpose,
            code_hash=self.code_hash(recipient.user_pk, purpose, code),
            expires_at=now + code_lifetime_ms(purpose),
            now=now,
        )
        template = settings.get("VerificationMessageTemplate") or {}
        text = self._custom_text(conn, recipient, settings, channel)
        if channel == EMAIL:
            body = template.get("EmailMessage") or DEFAULT_CODE_MESSAGE
            subject = template.get("EmailSubject") or DEFAULT_CODE_SUBJECT
            if text is not None:
                body, subject = custom_email(text, settings, body, subject, (CODE_PARAMETER,))
        else:
            body, subject = template.get("SmsMessage") or DEFAULT_CODE_MESSAGE, None
            if text is not None:
                body = custom_sms(text, body, (CODE_PARAMETER,))
        self._queue(
            conn,
            recipient,
            kind=purpose,
            channel=channel,
            destination=destination,
            subject=subject,
            body=body.replace("{####}", code).replace("{username}", recipient.username),
            now=now,
            code=code,
            settings=settings,
        )

    def send_sign_in_code(
        self,
        conn: Connection,
        recipient: Recipient,
        settings: dict[str, Any],
        *,
        channel: str,
        destination: str,
        now: int,
        digits: int = 6,
    ) -> str:
        """Queue a one-time sign-in code (SMS MFA, email OTP, passwordless sign-in) and return
        its hash; the code lives in the sign-in's challenge session, not in the codes table."""
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        text = self._custom_text(conn, recipient, settings, channel)
        if channel == EMAIL:
            config = settings.get("EmailMfaConfiguration") or {}
            body = config.get("Message") or DEFAULT_MFA_EMAIL
            subject = config.get("Subject") or DEFAULT_MFA_EMAIL_SUBJECT
            if text is not None:
                body, subject = custom_email(text, settings, body, subject, (CODE_PARAMETER,))
        else:
            body, subject = settings.get("SmsAuthenticationMessage") or DEFAULT_MFA_SMS, None
            if text is not None:
                body = custom_sms(text, body, (CODE_PARAMETER,))
        self._queue(
            conn,
            recipient,
            kind="sign_in_code",
            channel=channel,
            destination=destination,
            subject=subject,
            body=body.replace("{####}", code),
            now=now,
            code=code,
            settings=settings,
        )
        return self.code_hash(recipient.user_pk, "sign_in", code)
