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

With --users, the user-population benchmark of bench/users.py runs instead (pools grown to
--sizes users; AdminCreateUser, AdminGetUser and ListUsers with a filter; report in
bench/results/users.md).  With --auth, the authentication benchmark of bench/auth.py runs
instead (USER_PASSWORD_AUTH, full USER_SRP_AUTH logins, REFRESH_TOKEN_AUTH and GetUser, against
the machine's per-core crypto ceilings; report in bench/results/auth.md).  The shared machinery
(servers, wrk, /proc) is in bench/harness.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import auth
import users
from harness import (
    AUTH,
    BENCH,
    MAX_FOREIGN_CPU,
    WARMUP_SECONDS,
    BenchError,
    Run,
    Server,
    call,
    environment,
    launch,
    memory,
    progress,
    run_wrk,
    stop,
    wait_ready,
)

LUA = BENCH / "wrk" / "cognito.lua"
RESULTS = BENCH / "results" / "latest.md"
TARGET_RATIO = 5.0
OPERATIONS = ("DescribeUserPool", "CreateUserPoolClient", "ListUserPools")


def body_for(operation: str, pool_id: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "DescribeUserPool": {"UserPoolId": pool_id},
        "CreateUserPoolClient": {"UserPoolId": pool_id, "ClientName": "bench"},
        "ListUserPools": {"MaxResults": 10},
    }
    return bodies[operation]


def wrk(server: Server, operation: str, seconds: int, connections: int) -> Run:
    body = json.dumps(body_for(operation, server.pool_id))
    env = {"BENCH_TARGET": operation, "BENCH_BODY": body, "BENCH_AUTH": AUTH}
    return run_wrk(server, LUA, env, seconds, connections)


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
    parser.add_argument(
        "--users", action="store_true", help="run the user-population benchmark (bench/users.py)"
    )
    parser.add_argument(
        "--auth", action="store_true", help="run the authentication benchmark (bench/auth.py)"
    )
    parser.add_argument(
        "--sizes",
        type=users.parse_sizes,
        default=[1_000, 10_000, 100_000],
        help="--users: pool sizes to grow to, ascending [1000,10000,100000]",
    )
    args = parser.parse_args()
    if args.users and args.auth:
        parser.error("--users and --auth are separate runs: choose one")
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
        if args.users:
            return users.run(args, tmp, servers)
        if args.auth:
            return auth.run(args, tmp, servers)
        for name in ("cognate", "moto"):
            if args.only in (None, name):
                servers[name] = launch(name, tmp)
        for server in servers.values():
            wait_ready(server)
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
