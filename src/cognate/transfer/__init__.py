"""`cognate export` and `cognate import`: move a whole user pool between Cognate instances.

An administrator's operation on the databases themselves (like `cognate rotate-keys`),
not an API. The file holds everything that is the pool's (tables.py), including its
secrets: client secrets, TOTP secrets, password verifiers and private signing keys (so
that tokens issued before the move stay valid after it). It is written readable by its
owner only (0600) and, with a passphrase, encrypted (fileformat.py).
"""

from __future__ import annotations

from pathlib import Path

from cognate import logs
from cognate.app import check_master_key, master_key
from cognate.config import Settings
from cognate.domain.secretbox import SecretBox
from cognate.storage import migrate
from cognate.storage.db import Database
from cognate.transfer import fileformat
from cognate.transfer.fileformat import TransferError
from cognate.transfer.rows import Summary, export_pool, import_pool

__all__ = ["Summary", "TransferError", "run_export", "run_import"]


def _open(settings: Settings) -> tuple[Database, SecretBox]:
    db = Database(settings.db, pool_size=2)
    try:
        migrate.require_current(db)
        box = SecretBox(master_key(settings))
        check_master_key(db, box)
    except BaseException:
        db.dispose()
        raise
    return db, box


def run_export(
    settings: Settings, pool_id: str, out: str | None, passphrase_file: str | None
) -> tuple[Summary, str]:
    """Export `pool_id` to `out` (default `<pool id>.cognate-export`); (summary, path)."""
    logs.configure(settings.log_level)
    passphrase = fileformat.read_passphrase(passphrase_file)
    path = out or f"{pool_id}.cognate-export"
    db, box = _open(settings)
    try:
        writer = fileformat.Writer(path, passphrase)
        try:
            summary = export_pool(db, box, pool_id, writer)
        except BaseException:
            writer.close()
            if path != "-":
                Path(path).unlink(missing_ok=True)  # no half-written file with secrets
            raise
        writer.close()
        return summary, path
    finally:
        db.dispose()


def run_import(
    settings: Settings, path: str, *, replace: bool, passphrase_file: str | None
) -> Summary:
    logs.configure(settings.log_level)
    passphrase = fileformat.read_passphrase(passphrase_file)
    db, box = _open(settings)
    try:
        return import_pool(db, box, path, passphrase, replace=replace)
    finally:
        db.dispose()
