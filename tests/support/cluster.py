"""Several `cognate serve` processes as one deployment, for the multi-process tests.

    with cluster(root, db, 3, env={"COGNATE_PUBLIC_URL": URL}) as servers:
        ...                     # three processes, ports of their own, one database

Each process runs in a directory of its own (`root/a`, `root/b`, ...: its log and, on
PostgreSQL, its local data directory) with the one master key file `root/master.key`, as
processes on separate machines behind a load balancer would. `race` releases calls
together across the processes; `run_cognate` runs another `cognate` command (migrate,
rotate-keys) the way an operator would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import POSTGRES_URL, make_client
from tests.support.server import CognateServer, postgres_database, start_server

OK = ("ok", "")


@contextlib.contextmanager
def shared_database(backend: str, root: Path) -> Iterator[str]:
    """A fresh database for a cluster: a SQLite file under `root`, or a scratch PostgreSQL
    database (the test is skipped without COGNATE_TEST_POSTGRES_URL)."""
    if backend == "sqlite":
        yield f"sqlite:///{root}/shared.db"
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES_URL) as url:
        yield url


def key_env(root: Path) -> dict[str, str]:
    """The environment that gives a process the cluster's master key."""
    return {"COGNATE_MASTER_KEY_FILE": str(root / "master.key")}


@contextlib.contextmanager
def cluster(
    root: Path,
    db: str,
    count: int,
    *,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    first_args: Sequence[str] = (),
) -> Iterator[list[CognateServer]]:
    """`count` server processes on `db` sharing one master key (and `env`); the first
    also gets `first_args`. Each one's log is checked when it stops."""
    shared = {**key_env(root), **(env or {})}
    with contextlib.ExitStack() as stack:
        servers = []
        for index in range(count):
            workdir = root / "abcdefgh"[index]
            workdir.mkdir(exist_ok=True)
            args = [*extra_args, *(first_args if index == 0 else ())]
            servers.append(
                stack.enter_context(start_server(workdir, db=db, env=shared, extra_args=args))
            )
        yield servers


def race(
    servers: Sequence[CognateServer],
    region: str,
    calls: list[Callable[[Any], Any]],
) -> list[tuple[str, str]]:
    """Run each call in its own thread with its own client, going round the servers in
    turn, released together; each outcome is OK or (error code, message)."""
    clients = [
        make_client(servers[index % len(servers)].endpoint, region) for index in range(len(calls))
    ]
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, str]] = [("not run", "")] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=60)
        try:
            calls[index](clients[index])
        except ClientError as exc:
            outcomes[index] = (exc.response["Error"]["Code"], exc.response["Error"]["Message"])
        else:
            outcomes[index] = OK

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def run_cognate(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m cognate ARGS` to completion (migrate, rotate-keys, serve that refuses)."""
    return subprocess.run(
        [sys.executable, "-m", "cognate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )
