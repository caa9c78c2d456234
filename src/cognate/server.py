"""`cognate serve` and `cognate migrate`: prepare the database, then run uvicorn.

The parent process migrates the database (creating it on first start), makes sure the
master key exists and matches the database, prints where the server listens and where
its data lives, then hands over to uvicorn, which runs `--workers` processes that each
build the app from the same settings (passed through the environment). uvicorn handles
SIGINT/SIGTERM: it stops accepting connections and finishes requests in flight.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

import uvicorn

from cognate import __version__, logs
from cognate.app import build_runtime, check_master_key, master_key
from cognate.config import Settings
from cognate.domain.secretbox import SecretBox
from cognate.storage import migrate
from cognate.storage.db import Database, describe

GRACEFUL_SHUTDOWN_SECONDS = 30


def _metrics_dir(settings: Settings) -> str | None:
    """With several workers: a fresh, empty directory for prometheus_client's per-process
    files (PROMETHEUS_MULTIPROC_DIR, inherited by the workers, which import
    prometheus_client after it is set), so /metrics sums every worker (metrics.py)."""
    if settings.workers < 2:
        return None
    path = tempfile.mkdtemp(prefix="cognate-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def run_migrations(settings: Settings) -> tuple[str | None, str]:
    db = Database(settings.db, pool_size=1)
    try:
        return migrate.upgrade(db)
    finally:
        db.dispose()


def serve(settings: Settings) -> int:
    logs.configure(settings.log_level, settings.log_format)
    before, after = run_migrations(settings)
    db = Database(settings.db, pool_size=1)
    try:
        check_master_key(db, SecretBox(master_key(settings)))
    finally:
        db.dispose()
    seeded = None
    if settings.seed:  # here, once, before any worker starts (see cognate/seed)
        from cognate.seed import run_seed

        seeded = run_seed(settings)
    os.environ.update(settings.to_env())
    metrics_dir = _metrics_dir(settings)
    _banner(settings, before, after)
    if seeded is not None:
        if settings.log_format == "json":
            logging.getLogger("cognate.server").info("seed %s: %s", settings.seed, seeded)
        else:
            print(f"  seed      {settings.seed}: {seeded}", flush=True)
    try:
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
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
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
        _auth_line(settings),
        _admin_line(settings),
    ]
    if settings.log_format == "json":  # every line of the output is then a JSON record
        logging.getLogger("cognate.server").info("%s", "; ".join(line.strip() for line in lines))
    else:
        print("\n".join(lines), flush=True)
    sys.stdout.flush()


def _admin_line(settings: Settings) -> str:
    if not settings.admin_secret():
        return "  admin     off (COGNATE_ADMIN_PASSWORD or --admin-password-file turns /admin on)"
    source = settings.admin_password_file or "COGNATE_ADMIN_PASSWORD"
    return f"  admin     {settings.base_url()}/admin (password: {source})"


def _auth_line(settings: Settings) -> str:
    if settings.auth == "secure":
        count = len(settings.access_keys())
        return (
            f"  auth      secure: SigV4 required for administrative operations; {count} access "
            f"key{'s' if count != 1 else ''} loaded from {settings.access_keys_file}"
        )
    ignored = " (access_keys_file ignored: set auth secure)" if settings.access_keys_file else ""
    return f"  auth      open: any AWS credentials accepted, signatures not checked{ignored}"


def rotate_keys(settings: Settings, pool_ids: list[str] | None) -> list[tuple[str, list[str]]]:
    """`cognate rotate-keys`: new token signing keys for the named pools (default: all)."""
    logs.configure(settings.log_level, settings.log_format)
    runtime = build_runtime(settings.replace(threads=2))
    try:
        rotated = []
        for pool_pk, pool_id in runtime.services.pools.all_pool_ids(pool_ids):
            rotated.append((pool_id, runtime.services.token_keys.rotate(pool_pk, pool_id)))
        return rotated
    finally:
        runtime.db.dispose()
