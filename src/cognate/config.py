"""Settings: every option, its default and its environment variable, and nowhere else.

Precedence: built-in default < environment variable `COGNATE_<NAME>` < command-line flag.
`Settings.from_env()` reads the environment; the CLI overlays its flags and, before
starting worker processes, writes the result back with `to_env()` so every worker builds
the same settings. No other module reads `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_PORT = 9230
DEFAULT_DB = "sqlite:///.cognate/cognate.db"


class ConfigError(ValueError):
    """A setting has a value Cognate cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = DEFAULT_PORT
    """TCP port to listen on."""
    db: str = DEFAULT_DB
    """Database URL: sqlite:///PATH (embedded default) or postgresql://USER@HOST/DB."""
    workers: int = 1
    """Number of server processes sharing the database."""
    region: str = "us-east-1"
    """Region for requests that do not name one (unsigned, no pool id)."""
    account_id: str = "000000000000"
    """AWS account id used in ARNs."""
    master_key: str = ""
    """Base64 of 32 random bytes sealing secrets at rest; empty = use master_key_file."""
    master_key_file: str = ""
    """File holding the master key; empty = `master.key` beside the SQLite file, or
    ./.cognate/master.key for PostgreSQL. Created on first start if missing."""
    threads: int = 40
    """Worker threads per process for request handling (and database connections)."""
    public_host: str = "localhost"
    """Host name under which this server's web endpoints are reachable by browsers."""
    auth_domain_base: str = "localhost"
    """Pool domains are also reached by Host `<prefix>.auth.<region>.<this>` (and by
    `/_cognate/domains/<domain>/...` on any host)."""
    public_url: str = ""
    """Base URL clients reach this server at (token issuer, JWKS, discovery); empty =
    http://<host>:<port>, with 127.0.0.1 for a wildcard host."""
    issuer: str = "local"
    """Token issuer: `local` = <public URL>/<poolId>; `aws` =
    https://cognito-idp.<region>.amazonaws.com/<poolId> (for verifiers that insist on it)."""
    log_level: str = "info"
    """debug, info, warning or error."""
    smtp_host: str = ""
    """SMTP server that delivers email; empty = none (email waits in the developer outbox)."""
    smtp_port: int = 587
    """SMTP port."""
    smtp_security: str = "starttls"
    """starttls, ssl (implicit TLS) or none."""
    smtp_username: str = ""
    """SMTP user name, if the server wants one."""
    smtp_password: str = ""
    """SMTP password (environment only: COGNATE_SMTP_PASSWORD)."""
    smtp_from: str = "no-reply@verificationemail.com"
    """From address when a pool's EmailConfiguration names none (Cognito's default)."""
    sms_sender: str = "file"
    """How SMS go out: file (sms.jsonl beside the data), log, webhook, or none (held)."""
    sms_webhook_url: str = ""
    """URL that receives each SMS as a JSON POST (sms_sender = webhook)."""
    dev_outbox: str = "auto"
    """The developer outbox API: auto (on unless SMTP is configured), on or off."""
    triggers: str = ""
    """Where Lambda trigger functions run: whitespace-separated ARN=TARGET rules (ARN may use
    * wildcards; TARGET is an http(s) URL, python:module:function, or lambda[:ENDPOINT];
    {function} in TARGET stands for the function's name)."""
    trigger_timeout_ms: int = 5000
    """How long a trigger function may take (Cognito: 5 seconds)."""
    outbound_ca_bundle: str = ""
    """PEM file of certificate authorities trusted for outbound HTTPS (identity providers,
    client metadata documents) besides the system's; empty = the system's only."""
    federation_endpoints: str = ""
    """Stand-ins for identity providers at fixed endpoints (Google, Facebook, Login with
    Amazon, Sign in with Apple): whitespace-separated ORIGIN=ORIGIN rules, e.g.
    `https://accounts.google.com=http://127.0.0.1:8081`; a URL at a rule's first origin is
    reached at its second instead (path and query kept), for every outbound call and for
    the browser's redirect to the provider's sign-in page. Empty = the real endpoints."""
    sender_key_file: str = ""
    """File holding the AES-256 key that encrypts codes for the CustomEmailSender and
    CustomSMSSender triggers (in place of KMS); empty = sender.key beside the data, created
    on first use."""
    breached_passwords_file: str = ""
    """Threat protection's compromised-credentials list: a text file, one entry a line,
    each either a SHA-1 hex digest of a password (optionally followed by `:count`, the
    format of the Have I Been Pwned downloads) or a password in plain text. Passwords in it
    count as compromised at sign-in, sign-up and password change in pools with
    AdvancedSecurityMode AUDIT or ENFORCED. Read again when it changes; empty = none."""
    rate_limits: str = "off"
    """API request-rate limits per Cognito category (TooManyRequestsException past them):
    `off`, or `cognito` for Cognito's default quotas (raised per category by
    UpdateProvisionedLimit), held across every process sharing the database. `cognito*N`
    multiplies every default by N (an account with raised quotas, or load tests)."""
    log_destinations: str = ""
    """Where exported user pool logs (SetLogDeliveryConfiguration) go: whitespace-separated
    ARN=TARGET rules matching the LogGroupArn / BucketArn / StreamArn (`*` wildcards; the
    first match wins). TARGET is `file:/path/dir` (JSON lines appended to
    `<dir>/<log group, bucket or stream name>.jsonl`) or an http(s) URL (each record POSTed
    as JSON), e.g. `arn:aws:logs:*=file:/var/log/cognate`. Unmapped logs are dropped."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(env_name(field.name))
            if raw is not None and raw != "":
                values[field.name] = _coerce(field.name, field.type, raw)
        return cls(**values).validated()

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes).validated()  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        return {env_name(f.name): str(getattr(self, f.name)) for f in fields(self)}

    def validated(self) -> Settings:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be 1-65535, not {self.port}")
        if self.workers < 1:
            raise ConfigError("workers must be at least 1")
        if self.threads < 1:
            raise ConfigError("threads must be at least 1")
        if not re.fullmatch(r"[a-z0-9-]{1,32}", self.region) or "_" in self.region:
            raise ConfigError(f"region {self.region!r} is not a region name like us-east-1")
        if not re.fullmatch(r"[0-9]{12}", self.account_id):
            raise ConfigError("account id must be 12 digits")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError("log level must be debug, info, warning or error")
        if self.issuer not in ("local", "aws"):
            raise ConfigError("issuer must be local or aws")
        if self.public_url and not re.fullmatch(r"https?://[^/\s]+(/[^\s]*)?", self.public_url):
            raise ConfigError(f"public URL {self.public_url!r} is not an http(s) URL")
        if self.smtp_security not in ("starttls", "ssl", "none"):
            raise ConfigError("SMTP security must be starttls, ssl or none")
        if not 0 < self.smtp_port < 65536:
            raise ConfigError(f"SMTP port must be 1-65535, not {self.smtp_port}")
        if self.sms_sender not in ("file", "log", "webhook", "none"):
            raise ConfigError("SMS sender must be file, log, webhook or none")
        if self.sms_sender == "webhook" and not re.fullmatch(r"https?://\S+", self.sms_webhook_url):
            raise ConfigError("the webhook SMS sender needs an http(s) sms_webhook_url")
        if self.dev_outbox not in ("auto", "on", "off"):
            raise ConfigError("dev outbox must be auto, on or off")
        if not 0 < self.trigger_timeout_ms <= 300_000:
            raise ConfigError("trigger timeout must be 1-300000 ms")
        from cognate.functions.router import RuleError, parse_rules  # local: keep config light

        try:
            parse_rules(self.triggers)
        except RuleError as exc:
            raise ConfigError(str(exc)) from None
        if not re.fullmatch(r"off|cognito(\*[1-9][0-9]{0,5})?", self.rate_limits):
            raise ConfigError(
                f"rate limits must be off, cognito or cognito*N, not {self.rate_limits!r}"
            )
        from cognate.delivery.log_export import DestinationError, parse_destinations

        try:
            parse_destinations(self.log_destinations)
        except DestinationError as exc:
            raise ConfigError(str(exc)) from None
        from cognate.outbound.origins import OriginMap, OriginRuleError

        try:
            OriginMap.parse(self.federation_endpoints)
        except OriginRuleError as exc:
            raise ConfigError(str(exc)) from None
        return self

    def data_dir(self) -> Path:
        """Where local files live: beside the SQLite file, or ./.cognate for PostgreSQL."""
        from cognate.storage.db import sqlite_path  # local: config must not import storage early

        path = sqlite_path(self.db)
        return path.parent if path is not None else Path(".cognate")

    def dev_outbox_enabled(self) -> bool:
        if self.dev_outbox == "auto":
            return not self.smtp_host
        return self.dev_outbox == "on"

    def base_url(self) -> str:
        """The URL this server is reached at, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def key_file(self) -> Path:
        if self.master_key_file:
            return Path(self.master_key_file)
        return self.data_dir() / "master.key"


def env_name(field: str) -> str:
    return "COGNATE_" + field.upper()


def _coerce(name: str, kind: object, raw: str) -> object:
    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{env_name(name)} must be an integer, not {raw!r}") from None
    return raw
