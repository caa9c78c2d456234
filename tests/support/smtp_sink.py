"""An SMTP server for tests that keeps every message it receives (aiosmtpd).

    with SmtpSink() as sink:                       # 127.0.0.1, a free port
        ... start Cognate with --smtp-host 127.0.0.1 --smtp-port {sink.port} --smtp-security none
        (mail,) = sink.wait_for(1)                 # the parsed messages, or AssertionError
        mail.to, mail.from_, mail.subject, mail.reply_to, mail.text

`SmtpSink(port=N)` listens on a chosen port (to bring a "down" SMTP server up later);
`SmtpSink(credentials=("user", "secret"))` demands SMTP AUTH (LOGIN or PLAIN) with that
user and password, over plain text (auth_require_tls=False), refuses MAIL FROM until the
client logged in, and records who did (`mail.login`) and the failed attempts.

`SmtpSink(tls="starttls" | "ssl", certificate=make_certificates(dir))` speaks TLS with a
certificate for 127.0.0.1 issued by a throwaway CA: STARTTLS (required before MAIL) or
implicit TLS. A client trusts that CA when its process has SSL_CERT_FILE=<the CA file>
(OpenSSL's default verify paths, which ssl.create_default_context() loads).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import free_port


@dataclass(frozen=True)
class Certificate:
    ca_file: Path
    """The issuing CA's certificate (PEM): what a client must trust."""
    cert_file: Path
    key_file: Path


def make_certificates(directory: Path) -> Certificate:
    """A throwaway CA, and a server certificate it issued for 127.0.0.1 and localhost."""
    now = dt.datetime.now(dt.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("Cognate test CA", "Cognate test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("127.0.0.1", "Cognate test CA", key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    files = Certificate(directory / "ca.pem", directory / "smtp.pem", directory / "smtp.key")
    files.ca_file.write_bytes(ca.public_bytes(pem))
    files.cert_file.write_bytes(cert.public_bytes(pem))
    files.key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink received it: the SMTP envelope and the parsed headers/body."""

    mail_from: str
    rcpt_tos: list[str]
    from_: str
    to: str
    reply_to: str | None
    subject: str
    text: str
    """The text/plain body, without the final line break the MIME encoding adds."""
    html: str | None
    """The text/html alternative, when the message has one."""
    login: str | None
    """The user the client authenticated as (None: no SMTP AUTH)."""
    tls_version: str | None
    """The TLS version of the connection that carried the message (None: plain text)."""
    message: EmailMessage = field(repr=False)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        plain = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        text = plain.get_content() if plain is not None else ""
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        self._sink._add(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                from_=str(parsed["From"]),
                to=str(parsed["To"]),
                reply_to=str(parsed["Reply-To"]) if parsed["Reply-To"] is not None else None,
                subject=str(parsed["Subject"]),
                text=text[:-1] if text.endswith("\n") else text,
                html=html.get_content() if html is not None and html is not plain else None,
                login=login,
                tls_version=tls.version() if tls is not None else None,
                message=parsed,
            )
        )
        return "250 Message accepted for delivery"

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        # Demanding AUTH here rather than with aiosmtpd's auth_required, which warns
        # (UserWarning) when AUTH is allowed without TLS.
        if self._sink.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"


class SmtpSink:
    def __init__(
        self,
        *,
        port: int | None = None,
        credentials: tuple[str, str] | None = None,
        tls: str | None = None,
        certificate: Certificate | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port()
        self.credentials = credentials
        self.failed_logins: list[str] = []
        self._messages: list[ReceivedMail] = []
        self._changed = threading.Condition()
        options: dict[str, Any] = {}
        if credentials is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        if tls is not None:
            assert tls in ("starttls", "ssl"), tls
            assert certificate is not None, "TLS needs a certificate"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificate.cert_file, certificate.key_file)
            if tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        self.tls = tls
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)

    # --- context manager ------------------------------------------------------------------

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what was received ----------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._changed:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least `count` messages arrived; return them all (oldest first)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the SMTP sink received {len(self._messages)} message(s) within "
                        f"{timeout} s, expected {count}: {self._messages!r}"
                    )
                self._changed.wait(left)
            return list(self._messages)

    def wait_for_message_to(self, address: str, timeout: float = 10.0) -> ReceivedMail:
        """The newest message to `address`, waiting for one if there is none yet."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in reversed(self._messages):
                    if address in mail.rcpt_tos:
                        return mail
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no message to {address} within {timeout} s")
                self._changed.wait(left)

    def _add(self, mail: ReceivedMail) -> None:
        with self._changed:
            self._messages.append(mail)
            self._changed.notify_all()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if (user, password) == self.credentials:
                return AuthResult(success=True, auth_data=auth_data)
            self.failed_logins.append(f"{mechanism}:{user}")
        return AuthResult(success=False, handled=False)
