"""A Cognate server for a test suite, and the per-test handle the pytest plugin hands out.

`TestServer` runs Cognate on a free port of 127.0.0.1 with a database of its own (SQLite in
a temporary directory unless told otherwise), with the developer outbox and the test
controls on: as a `python -m cognate serve` subprocess (the default, exactly as users run
it) or in this process (uvicorn in a thread: faster to start, and breakpoints in Cognate
work). `CognateHandle` is what a test works with: a ready boto3 client, helpers that
create pools, app clients and confirmed users, the last code sent to a user, the
server's clock and fault injection (see web/controls.py for the HTTP API underneath).
Nothing here needs pytest; boto3 is needed for `client` and the create helpers only.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 60.0
CREDENTIALS = {"aws_access_key_id": "cognate", "aws_secret_access_key": "cognate"}
DEFAULT_FLOWS = (
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ControlError(RuntimeError):
    """The server refused a test-control or outbox request (the message says why)."""


class TestServer:
    """One Cognate server for a test session. `settings` are `cognate serve` settings by
    name (`{"issuer": "aws"}`); `db` defaults to SQLite in `workdir`."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        workdir: Path,
        *,
        in_process: bool = False,
        db: str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.in_process = in_process
        self.db = db or f"sqlite:///{self.workdir / 'cognate.db'}"
        self.settings = {
            "dev_outbox": "on",
            "test_controls": "on",
            "master_key_file": str(self.workdir / "master.key"),
            **dict(settings or {}),
        }
        self.port = 0
        self.log_path = self.workdir / "cognate.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._uvicorn: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TestServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        if self.in_process:
            self._start_thread()
        else:
            self._start_process()
        self._wait_ready()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=30)
            self._thread = None

    def log(self) -> str:
        """The subprocess's output (empty in process: Cognate logs to this process)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _start_process(self) -> None:
        flags: list[str] = []
        for name, value in self.settings.items():
            flags += ["--" + name.replace("_", "-"), str(value)]
        # Only these settings: not the environment's COGNATE_* variables.
        env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "cognate",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--db",
                    self.db,
                    *flags,
                ],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _start_thread(self) -> None:
        import uvicorn

        from cognate.app import build_app, build_runtime
        from cognate.config import Settings, env_name
        from cognate.server import run_migrations

        values = {**self.settings, "host": "127.0.0.1", "port": self.port, "db": self.db}
        # Only these settings: not the environment's COGNATE_* variables.
        settings = Settings.from_env({env_name(k): str(v) for k, v in values.items()})
        run_migrations(settings)
        app = build_app(build_runtime(settings))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._uvicorn.run, name="cognate-test-server", daemon=True
        )
        self._thread.start()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"cognate exited early:\n{self.log()}")
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("the in-process cognate server stopped (see the log above)")
            try:
                health = f"{self.endpoint_url}/_cognate/health"
                with urllib.request.urlopen(health, timeout=1):  # noqa: S310 - http://127.0.0.1
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"cognate did not become ready:\n{self.log()}")

    # ---------------------------------------------------------------- the HTTP side

    def call(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        """A JSON request to the server's /_cognate API; its JSON answer."""
        url = f"{self.endpoint_url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1
        request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError):
                detail = json.loads(detail).get("message", detail)
            raise ControlError(f"{method} {path}: {exc.code} {detail}") from None


class ServerClock:
    """The server's clock (shared by every process on its database)."""

    def __init__(self, server: TestServer) -> None:
        self._server = server

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> float:
        """Move the clock forward; the new offset from real time, in seconds."""
        total = seconds + 60 * minutes + 3600 * hours + 86_400 * days
        view = self._server.call("POST", "/_cognate/control/clock/advance", {"seconds": total})
        return float(view["offset_seconds"])

    def reset(self) -> None:
        """Back to real time."""
        self._server.call("POST", "/_cognate/control/clock/reset", {})

    @property
    def offset(self) -> float:
        return float(self._server.call("GET", "/_cognate/control/clock")["offset_seconds"])

    def now(self) -> float:
        """The server's time, epoch seconds."""
        return float(self._server.call("GET", "/_cognate/control/clock")["now"])


class Fault:
    """An injected fault; `hits` and `remaining` are read from the server when asked."""

    def __init__(self, server: TestServer, operation: str) -> None:
        self._server = server
        self.operation = operation

    def _state(self) -> dict[str, Any]:
        for fault in self._server.call("GET", "/_cognate/control/faults")["faults"]:
            if fault["operation"] == self.operation:
                return dict(fault)
        return {"hits": 0, "remaining": 0}

    @property
    def hits(self) -> int:
        """How many calls the fault has struck so far."""
        return int(self._state()["hits"])

    @property
    def remaining(self) -> int | None:
        """Calls it will still strike (None: until cleared)."""
        value = self._state()["remaining"]
        return None if value is None else int(value)

    def clear(self) -> None:
        self._server.call("DELETE", "/_cognate/control/faults", operation=self.operation)

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.clear()


def _pool_id(pool: str | Mapping[str, Any]) -> str:
    return pool if isinstance(pool, str) else str(pool["Id"])


class CognateHandle:
    """What a test gets: a server, a region of its own, a client and helpers."""

    def __init__(self, server: TestServer, region: str | None = None) -> None:
        self.server = server
        self.region = region or f"test-{uuid.uuid4().hex[:10]}-1"
        self.clock = ServerClock(server)
        self._client: Any = None

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `boto3.client("cognito-idp", **...)` in the app under test."""
        return {"endpoint_url": self.endpoint_url, "region_name": self.region, **CREDENTIALS}

    @property
    def client(self) -> Any:
        """A boto3 cognito-idp client for this test's region (no retries: faults show)."""
        if self._client is None:
            try:
                import boto3  # type: ignore[import-untyped]
                from botocore.config import Config
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise RuntimeError(
                    "the cognate fixture's client needs boto3: pip install boto3"
                ) from exc
            self._client = boto3.client(
                "cognito-idp",
                config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
                **self.client_kwargs,
            )
        return self._client

    def create_pool(self, name: str | None = None, **params: Any) -> dict[str, Any]:
        """CreateUserPool (by default emails are auto-verified, so sign-up sends a code);
        the `UserPool`."""
        params.setdefault("AutoVerifiedAttributes", ["email"])
        response = self.client.create_user_pool(
            PoolName=name or f"test-{uuid.uuid4().hex[:8]}", **params
        )
        return dict(response["UserPool"])

    def create_client(
        self,
        pool: str | Mapping[str, Any],
        name: str | None = None,
        *,
        secret: bool = False,
        **params: Any,
    ) -> dict[str, Any]:
        """CreateUserPoolClient (password, SRP, refresh and admin flows allowed by
        default); the `UserPoolClient`, with its `ClientSecret` when `secret`."""
        params.setdefault("ExplicitAuthFlows", list(DEFAULT_FLOWS))
        response = self.client.create_user_pool_client(
            UserPoolId=_pool_id(pool),
            ClientName=name or "test-client",
            GenerateSecret=secret,
            **params,
        )
        return dict(response["UserPoolClient"])

    def create_user(
        self,
        pool: str | Mapping[str, Any],
        username: str,
        password: str,
        attributes: Mapping[str, str] | None = None,
        *,
        verified: bool = True,
        **params: Any,
    ) -> dict[str, Any]:
        """A CONFIRMED user with a permanent password (nothing is sent). With `verified`,
        an email or phone number given is marked verified. The `User` of AdminCreateUser."""
        values = dict(attributes or {})
        if verified:
            for name in ("email", "phone_number"):
                if name in values:
                    values.setdefault(f"{name}_verified", "true")
        pool_id = _pool_id(pool)
        response = self.client.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[{"Name": k, "Value": v} for k, v in values.items()],
            MessageAction="SUPPRESS",
            **params,
        )
        self.client.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
        return dict(response["User"])

    def last_code(self, pool: str | Mapping[str, Any], user: str) -> str:
        """The newest code (or temporary password) sent to the user (by username, the
        name the message used, or the address); LookupError when there is none."""
        try:
            answer = self.server.call(
                "GET", "/_cognate/outbox/last-code", pool_id=_pool_id(pool), username=user
            )
        except ControlError as exc:
            raise LookupError(f"no code was sent to {user!r} in {_pool_id(pool)}") from exc
        return str(answer["code"])

    def messages(
        self, pool: str | Mapping[str, Any], user: str | None = None
    ) -> list[dict[str, Any]]:
        """The messages sent in the pool (to one user, when given), oldest first."""
        query = {"pool_id": _pool_id(pool), **({"username": user} if user else {})}
        found = self.server.call("GET", "/_cognate/outbox", **query)["messages"]
        return list(found)

    def fault(
        self,
        operation: str,
        error: str | None = None,
        *,
        times: int | None = None,
        latency_ms: int = 0,
        message: str | None = None,
    ) -> Fault:
        """Make the next `times` calls of `operation` (every call until cleared, when None)
        wait `latency_ms` and/or fail with `error`; replaces the operation's fault."""
        body: dict[str, Any] = {"operation": operation, "latency_ms": latency_ms}
        for key, value in (("error", error), ("times", times), ("message", message)):
            if value is not None:
                body[key] = value
        self.server.call("POST", "/_cognate/control/faults", body)
        return Fault(self.server, operation)

    def faults(self) -> list[dict[str, Any]]:
        return list(self.server.call("GET", "/_cognate/control/faults")["faults"])

    def clear_faults(self) -> None:
        self.server.call("DELETE", "/_cognate/control/faults")

    def reset(self) -> None:
        """Clear every fault and put the clock back to real time (done after each test)."""
        self.clear_faults()
        if self.clock.offset:
            self.clock.reset()


@contextlib.contextmanager
def running_server(
    workdir: Path,
    *,
    in_process: bool = False,
    db: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[TestServer]:
    """A started TestServer, stopped on exit."""
    server = TestServer(workdir, in_process=in_process, db=db, settings=settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
