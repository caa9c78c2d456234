"""Start and stop real `cognate serve` processes for tests, and scratch PostgreSQL databases."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Lines in a server log that mean a request was mishandled.
_BAD_LOG_MARKERS = ("Traceback", " ERROR ", "does not declare for it")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CognateServer:
    workdir: Path
    db: str
    port: int
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _logs: list[Path] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path = self.workdir / f"server-{len(self._logs)}.log"
        self._logs.append(self.log_path)
        env = dict(os.environ)
        env.update(
            COGNATE_MASTER_KEY_FILE=str(self.workdir / "master.key"),
            COGNATE_LOG_LEVEL="info",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cognate",
                    "serve",
                    "--port",
                    str(self.port),
                    "--db",
                    self.db,
                    *self.extra_args,
                ],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"cognate exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_cognate/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"cognate did not become ready:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self._logs if p.exists())

    def problems(self) -> list[str]:
        return [
            line
            for line in self.log().splitlines()
            if any(marker in line for marker in _BAD_LOG_MARKERS)
        ]


@contextlib.contextmanager
def start_server(
    workdir: Path,
    *,
    db: str,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[CognateServer]:
    server = CognateServer(workdir, db, free_port(), list(extra_args or []), dict(env or {}))
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.stop()
        problems = server.problems()
        assert not problems, "the server logged problems:\n" + "\n".join(problems)


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test session; dropped afterwards."""
    import psycopg

    name = f"cognate_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = conninfo.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
