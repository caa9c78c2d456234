"""`cognate export` and `cognate import`: their arguments and output (work: cognate/transfer)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from cognate.config import Settings

Flag = Callable[[argparse.ArgumentParser, str, type, str], None]

SECRETS_WARNING = (
    "THE FILE HOLDS THE POOL'S SECRETS (client secrets, TOTP secrets, password verifiers, "
    "private signing keys): it is written with mode 0600; keep it like a private key, "
    "encrypt it with --passphrase-file, and delete it after the import."
)


def add_parsers(commands: Any, flag: Flag) -> None:
    export = commands.add_parser(
        "export",
        help="write a user pool, with all its data and secrets, to a file (admin only)",
        description="Export one user pool from the database to a file that `cognate import` "
        "loads into another Cognate. " + SECRETS_WARNING,
    )
    flag(export, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    flag(export, "master_key_file", str, "file holding the master key [beside the data]")
    export.add_argument(
        "--pool", dest="transfer_pool", metavar="POOL_ID", required=True, help="the pool's id"
    )
    export.add_argument(
        "--out",
        dest="transfer_out",
        metavar="FILE",
        help="file to write, mode 0600 (- = stdout) [POOL_ID.cognate-export]",
    )
    export.add_argument(
        "--passphrase-file",
        dest="transfer_passphrase_file",
        metavar="FILE",
        help="encrypt the file with the passphrase in this file (scrypt, AES-256-GCM)",
    )
    load = commands.add_parser(
        "import",
        help="load a user pool written by `cognate export` into the database (admin only)",
        description="Import a user pool exported by `cognate export`, in one transaction; its "
        "secrets are sealed again with this database's master key. " + SECRETS_WARNING,
    )
    flag(load, "db", str, "database URL [sqlite:///.cognate/cognate.db]")
    flag(load, "master_key_file", str, "file holding the master key [beside the data]")
    load.add_argument("transfer_file", metavar="FILE", help="the export file")
    load.add_argument(
        "--replace",
        dest="transfer_replace",
        action="store_true",
        help="if the pool id exists here, delete that pool and all its data, and import the "
        "file in its place (restart running servers afterwards)",
    )
    load.add_argument(
        "--passphrase-file",
        dest="transfer_passphrase_file",
        metavar="FILE",
        help="the passphrase the file was encrypted with, in a file",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from cognate.transfer import run_export, run_import

    if args.command == "export":
        summary, path = run_export(
            settings, args.transfer_pool, args.transfer_out, args.transfer_passphrase_file
        )
        where = "stdout" if path == "-" else f"{path} (mode 0600)"
        print(
            f"exported {summary.pool_id}: {summary.total()} rows to {where}. The file holds "
            "the pool's secrets: keep it safe and delete it after the import.",
            file=sys.stderr,
        )
        return 0
    summary = run_import(
        settings,
        args.transfer_file,
        replace=args.transfer_replace,
        passphrase_file=args.transfer_passphrase_file,
    )
    print(f"imported {summary.pool_id} ({summary.region}): {summary.total()} rows")
    return 0
