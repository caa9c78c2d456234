"""Shared machinery of the benchmarks (bench/run.py, bench/users.py): servers, wrk, /proc.

Servers are started pinned to CPU core 0 with taskset (which execs them, so the child pid is the
server itself, whose memory is read from /proc/PID/status); wrk runs pinned to core 1 with one
thread and a Lua script from bench/wrk/ that prints a `BENCH_RESULT {json}` line.  Requests are
AWS JSON 1.1 with a fake SigV4 Authorization header for us-east-1 (no server checks signatures).
"""

from __future__ import annotations

import functools
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
VENV_BIN = BENCH.parent / ".venv" / "bin"
WARMUP_SECONDS = 2
MAX_FOREIGN_CPU = 0.10
CLK = os.sysconf("SC_CLK_TCK")
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cognito-idp/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-target, Signature=" + "0" * 64
)
progress = functools.partial(print, file=sys.stderr, flush=True)


class BenchError(Exception):
    """The benchmark cannot go on (the message says why)."""


class HttpError(BenchError):
    """A call() answered with an HTTP error status."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status, self.body = status, body


@dataclass
class Run:
    """One wrk run: its numbers, its errors and the server's memory after it."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: int
    first_error: str
    foreign_cpu: float = 0.0  # share of core 0 or 1 used by other processes (worst of the two)
    rss_kib: int = 0
    hwm_kib: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # the script's whole BENCH_RESULT

    @property
    def bad(self) -> bool:
        return self.non2xx > 0 or self.socket_errors > 0


@dataclass
class Server:
    """A server process started by start(), with its user pool and results."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    pool_id: str = ""
    idle_rss_kib: int = 0
    runs: dict[str, Run] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


def start(name: str, argv: list[str], tmp: Path, env: dict[str, str]) -> Server:
    """Start a server pinned to core 0; taskset execs it, so the Popen pid is the server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["taskset", "-c", "0", *(a.replace("{port}", str(port)) for a in argv)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,  # Ctrl-C reaches only us; we stop the servers in order
        )
    return Server(name, proc, port, log)


def prepare(server: Server, ready: str, need_200: bool) -> None:
    """Wait until GET `ready` answers, check the pid is the server, create the user pool."""
    proc, deadline = server.proc, time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise BenchError(f"{server.name} exited ({proc.returncode}):\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"{server.name} not ready after 60s:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + ready, timeout=2) as resp:
                if resp.status == 200:
                    break
        except urllib.error.HTTPError:
            if not need_200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    # Memory is read from this pid: it must be the server itself, without worker processes.
    comm = Path(f"/proc/{proc.pid}/comm").read_text().strip()
    children = "".join(p.read_text() for p in Path(f"/proc/{proc.pid}/task").glob("*/children"))
    if comm == "taskset" or children.strip():
        raise BenchError(f"{server.name}: pid {proc.pid} ({comm}) is not the lone server process")
    server.pool_id = str(call(server, "CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"])
    progress(f"{server.name}: pid {proc.pid}, port {server.port}, pool {server.pool_id}")


def launch(name: str, tmp: Path) -> Server:
    """Start Cognate (on a fresh SQLite database in `tmp`) or moto's server, on core 0."""
    if name == "cognate":
        serve = [str(VENV_BIN / "python"), "-m", "cognate", "serve", "--port", "{port}"]
        serve += ["--db", f"sqlite:///{tmp}/cognate.db"]
        env = {"COGNATE_MASTER_KEY_FILE": f"{tmp}/master.key", "COGNATE_LOG_LEVEL": "warning"}
        return start("cognate", serve, tmp, env)
    return start("moto", [str(VENV_BIN / "moto_server"), "-p", "{port}"], tmp, {})


def wait_ready(server: Server) -> None:
    """Wait for a server started by launch() and give it its user pool."""
    cognate = server.name == "cognate"
    prepare(server, "_cognate/health" if cognate else "", need_200=cognate)


def call(server: Server, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """One cognito-idp call over plain HTTP; an HTTP error status raises HttpError."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        "Authorization": AUTH,
    }
    data = json.dumps(body).encode()
    request = urllib.request.Request(server.url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            result: dict[str, Any] = json.loads(resp.read() or b"{}")
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        message = f"{server.name} {operation}: HTTP {exc.code} {detail}"
        raise HttpError(message, exc.code, detail) from exc


def memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    status = dict(line.split(":", 1) for line in lines if ":" in line)
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> tuple[float, float, float, float]:
    """User+nice+system time of cores 0 and 1, of process `pid`, and of our reaped children."""
    stat = Path("/proc/stat").read_text()
    core = [sum(map(int, stat.split(f"\ncpu{n} ")[1].split()[:3])) / CLK for n in (0, 1)]
    proc = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return core[0], core[1], (int(proc[11]) + int(proc[12])) / CLK, kids.ru_utime + kids.ru_stime


def run_wrk(
    server: Server,
    lua: Path,
    env: dict[str, str],
    seconds: int,
    connections: int,
    *,
    timeout: int = 0,
    stop_file: Path | None = None,
) -> Run:
    """Run wrk (1 thread, pinned to core 1) with a Lua script that prints BENCH_RESULT.

    `timeout` (seconds, 0 for wrk's default of 2) is wrk's per-request timeout.  If the script
    creates `stop_file`, wrk is interrupted (SIGINT) at once instead of sleeping for the rest
    of `seconds`; the run then lasts as long as the script wanted.
    """
    argv = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    argv += [f"--timeout={timeout}s"] if timeout else []
    argv += ["-s", str(lua), "--latency", server.url]
    before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
    deadline, env = t0 + seconds + 60, {**os.environ, **env}
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as wrk:
        try:
            while stop_file and wrk.poll() is None and time.monotonic() < deadline:
                if stop_file.exists():
                    wrk.send_signal(signal.SIGINT)  # taskset execs wrk: this pid is wrk
                    break
                time.sleep(0.005)
            out, err = wrk.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish {seconds + 60}s after it started") from exc
        finally:
            if wrk.poll() is None:  # timed out, or we are stopping (SIGTERM, Ctrl-C)
                wrk.kill()
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    after, wall = cpu_seconds(server.proc.pid), time.monotonic() - t0
    found = re.search(r"^BENCH_RESULT (\{.*\})$", stdout, re.M)
    if wrk.returncode != 0 or found is None:
        raise BenchError(f"wrk failed ({wrk.returncode}):\n{stdout}\n{stderr}")
    data = json.loads(found.group(1))
    first = re.search(r"^BENCH_FIRST_ERROR ?(.*)$", stdout, re.M)
    # wrk's own summary lines, as a cross-check of what the Lua script counted.
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    sockets = re.search(r"Socket errors: (.*)", stdout)
    socket_errors = sum(int(n) for n in re.findall(r"\d+", sockets.group(1) if sockets else ""))
    delta = [b - a for a, b in zip(before, after, strict=True)]
    return Run(
        rps=float(data["rps"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        requests=int(data["requests"]),
        non2xx=max(int(data["non2xx"]), int(non2xx.group(1)) if non2xx else 0),
        socket_errors=max(int(data["socket_errors"]), socket_errors),
        first_error=first.group(1).strip() if first else "",
        foreign_cpu=max(0.0, delta[0] - delta[2], delta[1] - delta[3]) / wall,
        extra=data,
    )


def stop(server: Server) -> None:
    """Stop a server (SIGTERM, then SIGKILL after 10 s); does nothing if it has exited."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def environment() -> dict[str, str]:
    """Versions of Python, Cognate and moto (from the venv) and the CPU model."""
    code = "import json, platform, cognate, moto; print(json.dumps([platform.python_version(), "
    code += "cognate.__version__, moto.__version__]))"
    out = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True)
    versions = json.loads(out.stdout) if out.returncode == 0 else ["?"] * 3
    model = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    cpu = model.group(1).strip() if model else "unknown CPU"
    return dict(zip(("python", "cognate", "moto", "cpu"), [*versions, cpu], strict=True))
