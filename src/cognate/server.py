"""`cognate serve` and `cognate migrate`: prepare the database, then run uvicorn.

The parent process migrates the database (creating it on first start), makes sure the
master key exists and matches the database, prints where the server listens and where
its data lives, then hands over to uvicorn, which runs `--workers` processes that each
build the app from the same settings (passed through the environment). uvicorn handles
SIGINT/SIGTERM: it stops accepting connections and finishes requests in flight.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from cognate import __version__, logs
from cognate.app import build_runtime, check_master_key, master_key
from cognate.config import Settings
from cognate.domain.secretbox import SecretBox
from cognate.storage import migrate
from cognate.storage.db import Database, describe

GRACEFUL_SHUTDOWN_SECONDS = 30


def run_migrations(settings: Settings) -> tuple[str | None, str]:
    db = Database(settings.db, pool_size=1)
    try:
        return migrate.upgrade(db)
    finally:
        db.dispose()


def serve(settings: Settings) -> int:
    logs.configure(settings.log_level)
    before, after = run_migrations(settings)
    db = Database(settings.db, pool_size=1)
    try:
        check_master_key(db, SecretBox(master_key(settings)))
    finally:
        db.dispose()
    os.environ.update(settings.to_env())
    _banner(settings, before, after)
    uvicorn.run(
        "cognate.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    return 0


def _banner(settings: Settings, before: str | None, after: str) -> None:
    schema = (
        f"created (revision {after})"
        if before is None
        else (f"migrated {before} -> {after}" if before != after else f"revision {after}")
    )
    lines = [
        f"Cognate {__version__}: Amazon Cognito user pools API",
        f"  endpoint  http://{settings.host}:{settings.port}",
        f"  data      {describe(settings.db)} (schema {schema})",
        f"  key       {'COGNATE_MASTER_KEY' if settings.master_key else settings.key_file()}",
        f"  region    {settings.region}  account {settings.account_id}  workers {settings.workers}",
        "  auth      open: any AWS credentials are accepted and signatures are not checked",
    ]
    print("\n".join(lines), flush=True)
    sys.stdout.flush()


def rotate_keys(settings: Settings, pool_ids: list[str] | None) -> list[tuple[str, list[str]]]:
    """`cognate rotate-keys`: new token signing keys for the named pools (default: all)."""
    logs.configure(settings.log_level)
    runtime = build_runtime(settings.replace(threads=2))
    try:
        rotated = []
        for pool_pk, pool_id in runtime.services.pools.all_pool_ids(pool_ids):
            rotated.append((pool_id, runtime.services.token_keys.rotate(pool_pk, pool_id)))
        return rotated
    finally:
        runtime.db.dispose()
