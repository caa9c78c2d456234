"""How messages leave: SMTP for email; a file, the log or an HTTP webhook for SMS.

A transport's `send` either delivers or raises `DeliveryError` (the sender retries later);
it never swallows a failure. SMTP uses the standard library's smtplib with STARTTLS or
implicit TLS and a verifying TLS context. The SMS senders are stand-ins for a provider:
`file` appends JSON lines to a private file (the local default), `log` writes the text to
the server log (development only: it puts codes in the log), `webhook` POSTs JSON to a URL
(an adapter to any provider).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
_TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """A message could not be delivered now (the text says why; it holds no secrets)."""


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    from_address: str
    reply_to: str | None
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    body: str
    pool_id: str
    kind: str


class EmailTransport(Protocol):
    def send(self, email: Email) -> None: ...


class SmsTransport(Protocol):
    def send(self, sms: Sms) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls, ssl or none
    username: str
    password: str


class SmtpTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self._s = settings

    def send(self, email: Email) -> None:
        try:
            message = self._message(email)
        except (ValueError, TypeError) as exc:  # e.g. a header a newline would split
            raise DeliveryError(f"the message cannot be built: {exc}") from exc
        s = self._s
        context = ssl.create_default_context()
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=_TIMEOUT_SECONDS, context=context
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=_TIMEOUT_SECONDS)
            with client:
                if s.security == "starttls":
                    client.starttls(context=context)
                if s.username:
                    client.login(s.username, s.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _message(email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = email.from_address
        message["To"] = email.to
        if email.reply_to:
            message["Reply-To"] = email.reply_to
        # A subject is one line: line breaks in a template would split the header.
        message["Subject"] = " ".join(email.subject.splitlines())
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain="cognate.local")
        message.set_content(email.body)
        if "<" in email.body and ">" in email.body:  # Cognito templates may be HTML
            message.add_alternative(email.body, subtype="html")
        return message


class FileSmsSender:
    """Appends each SMS as a JSON line to a file only the server's user can read."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def send(self, sms: Sms) -> None:
        line = json.dumps(
            {"to": sms.to, "body": sms.body, "pool_id": sms.pool_id, "kind": sms.kind}
        )
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except OSError as exc:
            raise DeliveryError(f"SMS file {self._path}: {exc}") from exc


class LogSmsSender:
    """Writes each SMS to the server log (development only: codes end up in the log)."""

    def send(self, sms: Sms) -> None:
        log.info("SMS to %s (%s, pool %s): %s", sms.to, sms.kind, sms.pool_id, sms.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following it would turn the POST into a
    GET without the message."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class WebhookSmsSender:
    """POSTs each SMS as JSON {to, body, pool_id, kind}; any 2xx answer means delivered
    (redirects are not followed: they count as failures)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, sms: Sms) -> None:
        data = json.dumps(
            {"to": sms.to, "body": sms.body, "pool_id": sms.pool_id, "kind": sms.kind}
        ).encode()
        # The URL is configuration, checked to be http(s) by config.py.
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(self._url, data=data, method="POST", headers=headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=_TIMEOUT_SECONDS) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS webhook answered HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS webhook answered HTTP {exc.code}") from exc
        except OSError as exc:
            raise DeliveryError(f"SMS webhook: {type(exc).__name__}: {exc}") from exc
