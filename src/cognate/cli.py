"""The `cognate` command line: argument parsing only; the work is in server.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from cognate import __version__
from cognate.config import ConfigError, Settings, env_name
from cognate.transfer_cli import add_parsers as add_transfer_parsers


def _flag(parser: argparse.ArgumentParser, name: str, kind: type, help_text: str) -> None:
    parser.add_argument(
        "--" + name.replace("_", "-"),
        dest=name,
        type=kind,
        default=None,
        help=f"{help_text} (env {env_name(name)})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cognate", description="Amazon Cognito user pools API server."
    )
    parser.add_argument("--version", action="version", version=f"cognate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (migrating the database first)")
    _flag(serve, "host", str, "address to listen on [127.0.0.1]")
    _flag(serve, "port", int, "port to listen on [9230]")
    _flag(
        serve,
        "db",
        str,
        "database URL: sqlite:///PATH or postgresql://... [sqlite:///.cognate/cognate.db]",
    )
    _flag(serve, "workers", int, "server processes sharing the database [1]")
    _flag(serve, "region", str, "default region [us-east-1]")
    _flag(serve, "account_id", str, "account id used in ARNs [000000000000]")
    _flag(serve, "threads", int, "request threads per process [40]")
    _flag(serve, "master_key_file", str, "file holding the master key [beside the data]")
    _flag(serve, "public_host", str, "host name browsers reach this server by [localhost]")
    _flag(serve, "public_url", str, "base URL clients reach this server at [http://HOST:PORT]")
    _flag(serve, "auth_domain_base", str, "pool domains' Host: PREFIX.auth.REGION.THIS [localhost]")
    _flag(serve, "issuer", str, "token issuer: local (PUBLIC_URL/POOL) or aws [local]")
    _flag(serve, "log_level", str, "debug, info, warning or error [info]")
    _flag(serve, "log_format", str, "server log lines: text or json [text]")
    _flag(serve, "smtp_host", str, "SMTP server for email [none: email waits in the outbox]")
    _flag(serve, "smtp_port", int, "SMTP port [587]")
    _flag(serve, "smtp_security", str, "starttls, ssl or none [starttls]")
    _flag(serve, "smtp_username", str, "SMTP user name (password: COGNATE_SMTP_PASSWORD)")
    _flag(serve, "admin_password_file", str, "admin console password file [none: /admin off]")
    _flag(serve, "smtp_from", str, "default From address [no-reply@verificationemail.com]")
    _flag(serve, "sms_sender", str, "file, log, webhook or none [file]")
    _flag(serve, "sms_webhook_url", str, "URL receiving SMS as JSON POSTs (sms_sender webhook)")
    _flag(serve, "dev_outbox", str, "developer outbox API: auto, on or off [auto]")
    _flag(serve, "test_controls", str, "test controls (clock, faults): auto, on or off [auto]")
    _flag(serve, "triggers", str, "trigger functions: 'ARN=TARGET ...' (URL, python:, lambda)")
    _flag(serve, "trigger_timeout_ms", int, "how long a trigger function may take [5000]")
    _flag(serve, "sender_key_file", str, "key for custom sender triggers' codes [beside data]")
    _flag(serve, "breached_passwords_file", str, "compromised passwords: SHA-1 or plain lines")
    _flag(serve, "rate_limits", str, "API rate limits: off, cognito or cognito*N [off]")
    _flag(serve, "log_destinations", str, "exported pool logs: 'ARN=file:DIR|URL ...' [none]")
    _flag(serve, "auth", str, "admin API authentication: open or secure (SigV4) [open]")
    _flag(serve, "access_keys_file", str, "JSON file of access keys and policies (auth secure)")
    _flag(serve, "outbound_ca_bundle", str, "extra CAs (PEM) for outbound HTTPS [system only]")
    _flag(
        serve,
        "federation_endpoints",
        str,
        "stand-ins for fixed IdP endpoints: 'ORIGIN=ORIGIN ...' [none]",
    )

    _flag(serve, "seed", str, "YAML/JSON file of pools, clients, users... to create at start")

    migrate = commands.add_parser("migrate", help="apply database schema migrations")
    _flag(migrate, "db", str, "database URL [sqlite:///.cognate/cognate.db]")

    rotate = commands.add_parser(
        "rotate-keys",
        help="give user pools new token signing keys (old ones stay in the JWKS until their "
        "tokens expire)",
    )
    _flag(rotate, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    _flag(rotate, "master_key_file", str, "file holding the master key [beside the data]")
    rotate.add_argument(
        "--pool-id",
        dest="pool_ids",
        action="append",
        default=None,
        help="rotate only this pool's keys (repeatable); default: every pool",
    )

    outbox = commands.add_parser(
        "outbox", help="print the messages Cognate sent or holds, with their codes"
    )
    _flag(outbox, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    _flag(outbox, "master_key_file", str, "file holding the master key [beside the data]")
    outbox.add_argument("--pool", dest="outbox_pool", help="only this user pool's messages")
    outbox.add_argument(
        "--user", dest="outbox_user", help="only messages to this user (name, username or address)"
    )
    outbox.add_argument(
        "--last-code",
        dest="outbox_last_code",
        action="store_true",
        help="print only the newest code (exit 1 if there is none)",
    )
    outbox.add_argument(
        "--follow", dest="outbox_follow", action="store_true", help="keep printing new messages"
    )
    outbox.add_argument(
        "--limit", dest="outbox_limit", type=int, default=20, help="messages to print [20]"
    )

    _control_parsers(commands)
    add_transfer_parsers(commands, _flag)
    commands.add_parser("operations", help="print the operation table (Markdown)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        overrides = {
            k: v
            for k, v in vars(args).items()
            if k not in ("command", "pool_ids")
            and not k.startswith(("outbox_", "control_", "transfer_"))
            and v is not None
        }
        settings = settings.replace(**overrides)
    except ConfigError as exc:
        print(f"cognate: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from cognate.server import serve

        return _guarded(lambda: serve(settings))
    if args.command == "migrate":
        from cognate.server import run_migrations

        def migrate() -> int:
            before, after = run_migrations(settings)
            print(f"schema: {before or 'empty'} -> {after}")
            return 0

        return _guarded(migrate)
    if args.command == "rotate-keys":
        from cognate.server import rotate_keys

        def rotate() -> int:
            for pool_id, kids in rotate_keys(settings, args.pool_ids):
                print(f"{pool_id}: new keys {', '.join(kids)}")
            return 0

        return _guarded(rotate)
    if args.command == "outbox":
        from cognate.outbox_cli import run

        return _guarded(
            lambda: run(
                settings,
                pool_id=args.outbox_pool,
                username=args.outbox_user,
                last_code=args.outbox_last_code,
                follow=args.outbox_follow,
                limit=args.outbox_limit,
            )
        )
    if args.command in ("clock", "fault"):
        from cognate.controls_cli import run as run_control

        control = {
            k[len("control_") :]: v for k, v in vars(args).items() if k.startswith("control_")
        }
        return _guarded(lambda: run_control(settings, args.command, control))
    if args.command in ("export", "import"):
        from cognate.transfer_cli import run as run_transfer

        return _guarded(lambda: run_transfer(settings, args))
    if args.command == "operations":
        from cognate.operation_table import markdown

        print(markdown())
        return 0
    return 2


def _control_parsers(commands: Any) -> None:
    """`cognate clock ...` and `cognate fault ...` (controls_cli.py)."""
    clock = commands.add_parser(
        "clock",
        help="show or move the servers' clock (test controls)",
        description="show | advance DURATION (3600, 90s, 15m, 2h, 1d12h) | reset",
    )
    _flag(clock, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    clock.add_argument(
        "control_action", nargs="?", default="show", choices=("show", "advance", "reset")
    )
    clock.add_argument("control_duration", metavar="DURATION", nargs="?", default=None)

    fault = commands.add_parser(
        "fault",
        help="inject faults into API operations (test controls)",
        description="list | set OPERATION [--error E] [--times N] [--latency-ms MS] | "
        "clear [OPERATION]",
    )
    _flag(fault, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    fault.add_argument(
        "control_action", nargs="?", default="list", choices=("list", "set", "clear")
    )
    fault.add_argument("control_operation", metavar="OPERATION", nargs="?", default=None)
    fault.add_argument(
        "--error", dest="control_error", help="error to answer, e.g. TooManyRequestsException"
    )
    fault.add_argument("--message", dest="control_message", help="the error's message")
    fault.add_argument(
        "--times", dest="control_times", type=int, help="for this many calls [until cleared]"
    )
    fault.add_argument(
        "--latency-ms", dest="control_latency_ms", type=int, help="wait before answering [0]"
    )


def _guarded(fn: Callable[[], int]) -> int:
    from cognate.api.errors import ServiceError
    from cognate.domain.secretbox import MasterKeyError
    from cognate.seed.document import SeedError
    from cognate.storage.db import DatabaseUrlError
    from cognate.storage.migrate import SchemaError
    from cognate.transfer.fileformat import TransferError

    try:
        return fn()
    except (SchemaError, MasterKeyError, DatabaseUrlError, SeedError, TransferError) as exc:
        print(f"cognate: {exc}", file=sys.stderr)
        return 1
    except ServiceError as exc:  # e.g. rotate-keys naming a pool that does not exist
        print(f"cognate: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
