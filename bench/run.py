"""Throughput benchmark: Cognate against moto's server on three cognito-idp operations.

What it measures: requests per second and p50/p99 latency of DescribeUserPool,
CreateUserPoolClient and ListUserPools, sent as AWS JSON 1.1 requests (`POST /` with an
X-Amz-Target header and a fake SigV4 Authorization header for us-east-1; neither server checks
signatures), and each server's memory (VmRSS, and the peak VmHWM, from /proc) after each run.

How: Cognate (`python -m cognate serve`, one uvicorn process, a fresh SQLite database in a
temporary directory) and `moto_server` are both started pinned to CPU core 0, and each gets one
user pool.  wrk, pinned to core 1, then drives one server at a time (they never compete): per
operation a short warm-up, then a measured run of --duration seconds over --connections
connections on one wrk thread.  bench/wrk/cognito.lua builds the request from the environment
and prints a machine-readable result line; non-2xx responses and socket errors are taken from
both that line and wrk's own summary.  A run with any of them is flagged loudly (its numbers are
meaningless) and the exit status is then 1.  A run during which other processes used more than
10% of core 0 or core 1 is flagged as contended (its numbers are too low).

The Markdown report is printed and also written to bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
VENV_BIN = BENCH.parent / ".venv" / "bin"
LUA = BENCH / "wrk" / "cognito.lua"
RESULTS = BENCH / "results" / "latest.md"
WARMUP_SECONDS = 2
TARGET_RATIO = 5.0
MAX_FOREIGN_CPU = 0.10
CLK = os.sysconf("SC_CLK_TCK")
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cognito-idp/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-target, Signature=" + "0" * 64
)
OPERATIONS = ("DescribeUserPool", "CreateUserPoolClient", "ListUserPools")
progress = functools.partial(print, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


@dataclass
class Run:
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

    @property
    def bad(self) -> bool:
        return self.non2xx > 0 or self.socket_errors > 0


@dataclass
class Server:
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


def body_for(operation: str, pool_id: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "DescribeUserPool": {"UserPoolId": pool_id},
        "CreateUserPoolClient": {"UserPoolId": pool_id, "ClientName": "bench"},
        "ListUserPools": {"MaxResults": 10},
    }
    return bodies[operation]


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


def call(server: Server, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        "Authorization": AUTH,
    }
    data = json.dumps(body).encode()
    request = urllib.request.Request(server.url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            result: dict[str, Any] = json.loads(resp.read() or b"{}")
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise BenchError(f"{server.name} {operation}: HTTP {exc.code} {detail}") from exc


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


def wrk(server: Server, operation: str, seconds: int, connections: int) -> Run:
    body = json.dumps(body_for(operation, server.pool_id))
    env = {**os.environ, "BENCH_TARGET": operation, "BENCH_BODY": body, "BENCH_AUTH": AUTH}
    argv = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    argv += ["-s", str(LUA), "--latency", server.url]
    before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    after, wall = cpu_seconds(server.proc.pid), time.monotonic() - t0
    found = re.search(r"^BENCH_RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or found is None:
        raise BenchError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(found.group(1))
    first = re.search(r"^BENCH_FIRST_ERROR ?(.*)$", out.stdout, re.M)
    # wrk's own summary lines, as a cross-check of what the Lua script counted.
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    sockets = re.search(r"Socket errors: (.*)", out.stdout)
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
    )


def measure(server: Server, args: argparse.Namespace) -> None:
    server.idle_rss_kib = memory(server.proc.pid)[0]
    for operation in OPERATIONS:
        call(server, operation, body_for(operation, server.pool_id))  # fail early and clearly
        progress(f"{server.name}: {operation}: warm-up {WARMUP_SECONDS}s, run {args.duration}s")
        wrk(server, operation, WARMUP_SECONDS, args.connections)
        run = wrk(server, operation, args.duration, args.connections)
        run.rss_kib, run.hwm_kib = memory(server.proc.pid)
        server.runs[operation] = run
        progress(
            f"  {run.rps:,.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
            f"other load {run.foreign_cpu:.0%}, non-2xx {run.non2xx}, errors {run.socket_errors}"
        )


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def environment() -> dict[str, str]:
    code = "import json, platform, cognate, moto; print(json.dumps([platform.python_version(), "
    code += "cognate.__version__, moto.__version__]))"
    out = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True)
    versions = json.loads(out.stdout) if out.returncode == 0 else ["?"] * 3
    model = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    cpu = model.group(1).strip() if model else "unknown CPU"
    return dict(zip(("python", "cognate", "moto", "cpu"), [*versions, cpu], strict=True))


def report(servers: dict[str, Server], args: argparse.Namespace) -> str:
    def cells(run: Run | None) -> list[str]:
        if run is None:
            return ["-", "-", "-"]
        flag = " **⚠ NON-2XX/ERRORS**" if run.bad else ""
        flag += " (contended)" if run.foreign_cpu > MAX_FOREIGN_CPU else ""
        return [f"{run.rps:,.0f}{flag}", f"{run.p50_ms:.2f}", f"{run.p99_ms:.2f}"]

    def mib(kib: int) -> str:
        return f"{kib / 1024:.1f} MiB"

    lines = [
        "| Operation | Cognate req/s | p50 ms | p99 ms | moto req/s | p50 ms | p99 ms "
        "| Cognate/moto |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for op in OPERATIONS:
        c, m = (servers[s].runs.get(op) if s in servers else None for s in ("cognate", "moto"))
        ratio = f"{c.rps / m.rps:.1f}x" if c and m and m.rps > 0 else "-"
        ratio += " (below target)" if c and m and c.rps < TARGET_RATIO * m.rps else ""
        lines.append("| " + " | ".join([op, *cells(c), *cells(m), ratio]) + " |")
    lines += ["", f"Target: Cognate >= {TARGET_RATIO:.0f}x moto's requests/s.", ""]
    lines += ["| Server | RSS idle | " + " | ".join(f"after {o}" for o in OPERATIONS) + " | peak |"]
    lines += ["|---|--:|--:|--:|--:|--:|"]
    for s in servers.values():
        after = [mib(s.runs[o].rss_kib) if o in s.runs else "-" for o in OPERATIONS]
        peak = mib(max((r.hwm_kib for r in s.runs.values()), default=0))
        lines.append(f"| {s.name} | {mib(s.idle_rss_kib)} | {' | '.join(after)} | {peak} |")
    info = environment()
    lines += [
        "",
        f"- Machine: {info['cpu']}, {os.cpu_count()} cores (servers on core 0, wrk on core 1)",
        f"- Python {info['python']}, Cognate {info['cognate']} (SQLite), moto {info['moto']}; "
        f"wrk 1 thread, {args.connections} connections, {args.duration}s per run after a "
        f"{WARMUP_SECONDS}s warm-up",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    runs = [(s.name, o, r) for s in servers.values() for o, r in s.runs.items()]
    if busy := [
        f"{n} {o} ({r.foreign_cpu:.0%})" for n, o, r in runs if r.foreign_cpu > MAX_FOREIGN_CPU
    ]:
        lines.append(
            f"- Contended (other processes busy on the benchmark cores): {', '.join(busy)}"
        )
    if bad := [(n, o, r) for n, o, r in runs if r.bad]:
        warning = ["**WARNING: errors during the runs below; their numbers are meaningless.**"]
        warning += [
            f"- {n} {o}: {r.non2xx} non-2xx responses and {r.socket_errors} socket errors in "
            f"{r.requests} requests; first error: {r.first_error or '-'}"
            for n, o, r in bad
        ]
        lines = [*warning, "", *lines, "", *warning]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run [10]")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections [16]")
    parser.add_argument("--only", choices=["cognate", "moto"], help="benchmark one server")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install wrk", file=sys.stderr)
        return 2
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        print("bench: needs taskset (util-linux) and at least 2 CPU cores", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still run the clean-up below
    tmp = Path(tempfile.mkdtemp(prefix="cognate-bench-"))
    servers: dict[str, Server] = {}
    try:
        if args.only in (None, "cognate"):
            serve = [str(VENV_BIN / "python"), "-m", "cognate", "serve", "--port", "{port}"]
            serve += ["--db", f"sqlite:///{tmp}/cognate.db"]
            env = {"COGNATE_MASTER_KEY_FILE": f"{tmp}/master.key", "COGNATE_LOG_LEVEL": "warning"}
            servers["cognate"] = start("cognate", serve, tmp, env)
        if args.only in (None, "moto"):
            servers["moto"] = start(
                "moto", [str(VENV_BIN / "moto_server"), "-p", "{port}"], tmp, {}
            )
        for server in servers.values():
            cognate = server.name == "cognate"
            prepare(server, "_cognate/health" if cognate else "", need_200=cognate)
        for server in servers.values():
            measure(server, args)
        text = report(servers, args)
        print(text)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        progress(f"written to {RESULTS}")
        return 1 if any(r.bad for s in servers.values() for r in s.runs.values()) else 0
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for server in servers.values():
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
