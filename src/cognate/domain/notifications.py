"""Messages Cognito sends users: invitations and one-time codes, rendered and queued.

A message is rendered from the pool's templates (or Cognito's defaults) and written to the
outbox in the same transaction as the change that causes it, sealed because it carries a
temporary password or a code (kept beside the text too, for the developer outbox).
Delivering the outbox (SMTP, SMS) is `cognate.delivery`'s job; what is queued here is
exactly what it will send. A channel with no transport configured (email without SMTP)
queues its messages as held: they wait in the developer outbox.

Codes are six random digits; only an HMAC of the code under a key derived from the master
key is stored, so neither the database nor a log reveals a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.domain.secretbox import SecretBox
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import messages as messages_repo

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
    ) -> None:
        content = {"subject": subject, "body": body, "code": code}
        sealed = self._box.seal(dumps(content), f"outbox/{destination}")
        messages_repo.add_message(
            conn,
            held=channel in self._held,
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

    def open_message(self, destination: str, sealed: str) -> dict[str, Any]:
        return dict(loads(self._box.open(sealed, f"outbox/{destination}")))

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
        for channel, destination in destinations.items():
            if channel == EMAIL:
                body = template.get("EmailMessage", DEFAULT_INVITE_EMAIL)
                subject = template.get("EmailSubject", DEFAULT_INVITE_SUBJECT)
            else:
                body, subject = template.get("SMSMessage", DEFAULT_INVITE_SMS), None
            if temporary_password is not None and "{####}" not in body:
                continue  # Cognito does not deliver an invitation without the password
            text = body.replace("{username}", recipient.username)
            text = text.replace("{####}", temporary_password or "")
            self._queue(
                conn,
                recipient,
                kind="invitation",
                channel=channel,
                destination=destination,
                subject=subject,
                body=text,
                now=now,
                code=temporary_password,
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
        if channel == EMAIL:
            body = template.get("EmailMessage") or DEFAULT_CODE_MESSAGE
            subject = template.get("EmailSubject") or DEFAULT_CODE_SUBJECT
        else:
            body, subject = template.get("SmsMessage") or DEFAULT_CODE_MESSAGE, None
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
        if channel == EMAIL:
            config = settings.get("EmailMfaConfiguration") or {}
            body = config.get("Message") or DEFAULT_MFA_EMAIL
            subject = config.get("Subject") or DEFAULT_MFA_EMAIL_SUBJECT
        else:
            body, subject = settings.get("SmsAuthenticationMessage") or DEFAULT_MFA_SMS, None
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
        )
        return self.code_hash(recipient.user_pk, "sign_in", code)
