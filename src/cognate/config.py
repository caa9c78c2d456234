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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cognate.domain.access_policy import AccessKey

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
    log_format: str = "text"
    """Server log lines: text, or json (one JSON object a line; logs.py)."""
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
    admin_password: str = ""
    """Password of the admin console at /admin (environment only: COGNATE_ADMIN_PASSWORD);
    empty and no admin_password_file = the console is off."""
    admin_password_file: str = ""
    """File holding the admin console's password (its first line), instead of
    COGNATE_ADMIN_PASSWORD."""
    smtp_from: str = "no-reply@verificationemail.com"
    """From address when a pool's EmailConfiguration names none (Cognito's default)."""
    sms_sender: str = "file"
    """How SMS go out: file (sms.jsonl beside the data), log, webhook, or none (held)."""
    sms_webhook_url: str = ""
    """URL that receives each SMS as a JSON POST (sms_sender = webhook)."""
    dev_outbox: str = "auto"
    """The developer outbox API: auto (on unless SMTP is configured or auth
    is secure), on or off."""
    test_controls: str = "auto"
    """Test controls (/_cognate/control/..., `cognate clock` / `cognate fault`: move the
    servers' clock, inject faults): auto (on unless SMTP is configured or auth is secure),
    on or off."""
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

    seed: str = ""
    """A seed file (YAML or JSON) applied at start, before serving: pools (with fixed ids),
    app clients (fixed ids and secrets), domains, groups, users with passwords, resource
    servers, identity providers. Idempotent: see "Declarative set-up" in the README.
    Empty = none."""

    auth: str = "open"
    """Authentication of the 119 operations Cognito authorizes with IAM: `open` (local
    default) accepts any credentials and checks no signature; `secure` requires an AWS
    SigV4 signature (service cognito-idp) by a key of access_keys_file and enforces the
    key's policy. The 34 public operations (SignUp, InitiateAuth...) never need one."""
    access_keys_file: str = ""
    """JSON file of the access keys secure mode accepts: a list of {name, access_key_id,
    secret_access_key or secret_access_key_env, actions, resources}; read at start."""

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
        if self.log_format not in ("text", "json"):
            raise ConfigError("log format must be text or json")
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
        if self.test_controls not in ("auto", "on", "off"):
            raise ConfigError("test controls must be auto, on or off")
        if not 0 < self.trigger_timeout_ms <= 300_000:
            raise ConfigError("trigger timeout must be 1-300000 ms")
        if self.admin_password and self.admin_password_file:
            raise ConfigError("set admin_password or admin_password_file, not both")
        if self.admin_password_file:
            self.admin_secret()  # readable and not empty, or ConfigError now
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
        if self.auth not in ("open", "secure"):
            raise ConfigError(f"auth must be open or secure, not {self.auth!r}")
        if self.auth == "secure":
            self.access_keys()
        from cognate.outbound.origins import OriginMap, OriginRuleError

        try:
            OriginMap.parse(self.federation_endpoints)
        except OriginRuleError as exc:
            raise ConfigError(str(exc)) from None
        return self

    def access_keys(self) -> tuple[AccessKey, ...]:
        """Secure mode's keys, read and checked from access_keys_file (ConfigError if bad)."""
        from cognate.domain.access_policy import AccessKeyError, load_access_keys
        from cognate.wire.model import operation_names

        if not self.access_keys_file:
            raise ConfigError("auth secure needs access_keys_file (a JSON list of access keys)")
        try:
            return load_access_keys(
                Path(self.access_keys_file), env=os.environ, operations=operation_names()
            )
        except AccessKeyError as exc:
            raise ConfigError(str(exc)) from None

    def data_dir(self) -> Path:
        """Where local files live: beside the SQLite file, or ./.cognate for PostgreSQL."""
        from cognate.storage.db import sqlite_path  # local: config must not import storage early

        path = sqlite_path(self.db)
        return path.parent if path is not None else Path(".cognate")

    def dev_outbox_enabled(self) -> bool:
        """`auto`: on in the local default set-up (no SMTP configured, auth open); a secure
        server does not hand out codes to whoever asks."""
        if self.dev_outbox == "auto":
            return not self.smtp_host and self.auth != "secure"
        return self.dev_outbox == "on"

    def test_controls_enabled(self) -> bool:
        """Test controls are for local development and CI: `auto` turns them on in the
        local default set-up (no SMTP configured, auth open)."""
        if self.test_controls == "auto":
            return not self.smtp_host and self.auth != "secure"
        return self.test_controls == "on"

    def base_url(self) -> str:
        """The URL this server is reached at, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def admin_secret(self) -> str:
        """The admin console's password ("" = the console is off): admin_password, or the
        first line of admin_password_file."""
        if not self.admin_password_file:
            return self.admin_password
        try:
            text = Path(self.admin_password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the admin password file {self.admin_password_file}: {exc}"
            ) from None
        secret = text.splitlines()[0].strip() if text.strip() else ""
        if not secret:
            raise ConfigError(f"the admin password file {self.admin_password_file} is empty")
        return secret

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
