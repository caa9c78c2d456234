"""User-population benchmark (`bench/run.py --users`): Cognate and moto with growing pools.

For each server, one at a time (Cognate on a fresh SQLite database, then moto's server; each
started pinned to core 0 and stopped before the next one starts), one user pool is grown to each
of --sizes users in turn.  Each step is an AdminCreateUser run of wrk (pinned to core 1, one
thread, --connections connections, bench/wrk/users.lua): usernames u<N> with email
u<N>@example.com, numbered on from the previous step and never sent twice; the script stops
after enough successful responses and the population rate is successes per second of the run.
The pool's real size is then read back (DescribeUserPool's EstimatedNumberOfUsers, which moto
counts exactly too); users missing from the end of the numbering (requests abandoned when wrk
stopped, and the one number wrk takes up before its run to check the request) are created from
Python, so that every u<1..count> exists.

At each size: AdminGetUser of a random u<i>, and ListUsers with Filter email = "u<i>@example.com"
(Limit 10; a few are first checked from Python to return exactly that one user, and the Lua
script counts responses that do not hold exactly one user), each a short warm-up then a run of
--duration seconds; then the server's VmRSS and VmHWM.  After each wrk run we wait until the
server has finished the requests wrk abandoned (moto's ListUsers scans the whole pool).

Non-2xx responses, socket errors, wrong pool sizes and wrong ListUsers answers are flagged
loudly and make the exit status 1.  The report (bench/users_report.py: a table per server, a
comparison table and the project's targets) is printed and written to bench/results/users.md.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from pathlib import Path
from typing import Any

from harness import (
    AUTH,
    BENCH,
    WARMUP_SECONDS,
    HttpError,
    Run,
    Server,
    call,
    cpu_seconds,
    launch,
    memory,
    progress,
    run_wrk,
    stop,
    wait_ready,
)
from users_report import Step, report

LUA = BENCH / "wrk" / "users.lua"
RESULTS = BENCH / "results" / "users.md"
WRK_TIMEOUT = 30  # seconds per request: moto's filtered ListUsers is slow on big pools
MIN_POPULATE_RATE = 50  # users/s: bounds a population run at 60 s + need / this
MAX_POPULATE_ERRORS = 100  # a population run stops after this many non-2xx responses
LIST_CHECKS = 5  # ListUsers answers checked from Python at each size


def parse_sizes(text: str) -> list[int]:
    """Parse --sizes: comma-separated, strictly ascending positive integers."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or values[0] < 1 or any(a >= b for a, b in itertools.pairwise(values)):
        raise argparse.ArgumentTypeError(f"not ascending positive integers: {text!r}")
    return values


def user_body(pool_id: str, n: int) -> dict[str, Any]:
    """The AdminCreateUser body of user u<n>, as bench/wrk/users.lua builds it."""
    attributes = [
        {"Name": "email", "Value": f"u{n}@example.com"},
        {"Name": "given_name", "Value": f"Given{n}"},
    ]
    return {
        "UserPoolId": pool_id,
        "Username": f"u{n}",
        "TemporaryPassword": "Passw0rd!",
        "MessageAction": "SUPPRESS",
        "UserAttributes": attributes,
    }


def pool_size(server: Server) -> int:
    """The number of users in the server's pool (EstimatedNumberOfUsers)."""
    pool = call(server, "DescribeUserPool", {"UserPoolId": server.pool_id})["UserPool"]
    return int(pool["EstimatedNumberOfUsers"])


def wait_idle(server: Server, limit: float = 300.0) -> None:
    """Wait until the server stops using CPU: it may still serve requests wrk abandoned."""
    deadline, last = time.monotonic() + limit, cpu_seconds(server.proc.pid)[2]
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = cpu_seconds(server.proc.pid)[2]
        if now - last < 0.02:  # under 10% of a core
            return
        last = now
    progress(f"{server.name}: still busy {limit:.0f}s after the run; measuring anyway")


def fill(server: Server, numbers: list[int]) -> int:
    """Create those of users u<n> that do not exist; return how many were created."""
    created = 0
    for n in numbers:
        try:
            call(server, "AdminGetUser", {"UserPoolId": server.pool_id, "Username": f"u{n}"})
        except HttpError as exc:
            if "UserNotFoundException" not in exc.body:
                raise
            call(server, "AdminCreateUser", user_body(server.pool_id, n))
            created += 1
    return created


def loud(server: Server, step: Step, problem: str) -> None:
    """Record a problem of a step and print it at once."""
    step.problems.append(problem)
    progress(f"!!! {server.name} at {step.size:,} users: {problem}")


def check_run(server: Server, step: Step, name: str, run: Run) -> None:
    """Flag non-2xx responses, socket errors and wrong ListUsers answers of a run."""
    if run.bad:
        loud(
            server,
            step,
            f"{name}: {run.non2xx} NON-2XX responses and {run.socket_errors} socket errors in "
            f"{run.requests} requests; first error: {run.first_error or '-'}",
        )
    if run.extra.get("wrong"):
        loud(server, step, f"{name}: {run.extra['wrong']} answers without exactly one user")


def populate(
    server: Server, step: Step, next_n: int, args: argparse.Namespace, done_file: Path
) -> int:
    """Grow the pool to step.size users; return the next unused username number."""
    step.users = pool_size(server)
    need = step.size - step.users
    if need <= 0:
        return next_n
    done_file.unlink(missing_ok=True)
    env = {"BENCH_MODE": "create", "BENCH_POOL": server.pool_id, "BENCH_AUTH": AUTH}
    env |= {"BENCH_START": str(next_n), "BENCH_NEED": str(need)}
    env |= {"BENCH_MAX_ERRORS": str(MAX_POPULATE_ERRORS), "BENCH_DONE_FILE": str(done_file)}
    progress(f"{server.name}: AdminCreateUser u{next_n}.. until {need:,} more users")
    seconds = 60 + need // MIN_POPULATE_RATE
    run = run_wrk(
        server, LUA, env, seconds, args.connections, timeout=WRK_TIMEOUT, stop_file=done_file
    )
    step.populate, first = run, next_n
    next_n += int(run.extra["sent"])
    wait_idle(server)
    check_run(server, step, "AdminCreateUser", run)
    if run.extra["ok"] < need:
        loud(server, step, f"population stopped after {run.extra['ok']:,} of {need:,} users")
    step.users = pool_size(server)
    if step.users < next_n - 1:
        # Candidates: the number wrk's request check took up, the requests abandoned at the end.
        tail = range(max(first + 1, next_n - 4 * args.connections), next_n)
        step.filled = fill(server, [first, *tail])
        step.users = pool_size(server)
    if step.users != next_n - 1:
        loud(server, step, f"the pool has {step.users:,} users, expected {next_n - 1:,}")
    progress(
        f"  {step.rate:,.0f} users/s, {run.extra['sent']:,} sent, {run.extra['ok']:,} created, "
        f"{step.filled} filled in; pool now {step.users:,} users"
    )
    return next_n


def check_list(server: Server, step: Step, count: int) -> None:
    """Check that ListUsers with an email filter returns exactly that one user."""
    numbers = [1, count, *(random.randint(1, count) for _ in range(LIST_CHECKS - 2))]
    for n in numbers:
        body = {"UserPoolId": server.pool_id, "Filter": f'email = "u{n}@example.com"', "Limit": 10}
        names = [user.get("Username") for user in call(server, "ListUsers", body)["Users"]]
        if names != [f"u{n}"]:
            loud(server, step, f"ListUsers email = u{n}@example.com returned {names}")


def measure_ops(server: Server, step: Step, count: int, args: argparse.Namespace) -> None:
    """AdminGetUser and ListUsers-with-filter runs at this size, then the server's memory."""
    for n in (1, count):
        call(server, "AdminGetUser", {"UserPoolId": server.pool_id, "Username": f"u{n}"})
    check_list(server, step, count)
    env = {"BENCH_POOL": server.pool_id, "BENCH_AUTH": AUTH, "BENCH_COUNT": str(count)}
    for mode, name in (("get", "AdminGetUser"), ("list", "ListUsers")):
        progress(f"{server.name}: {name}: warm-up {WARMUP_SECONDS}s, run {args.duration}s")
        env["BENCH_MODE"] = mode
        for seconds in (WARMUP_SECONDS, args.duration):
            run = run_wrk(server, LUA, env, seconds, args.connections, timeout=WRK_TIMEOUT)
            wait_idle(server)
        check_run(server, step, name, run)
        progress(
            f"  {run.rps:,.1f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
            f"other load {run.foreign_cpu:.0%}"
        )
        if mode == "get":
            step.get_run = run
        else:
            step.list_run = run
    step.rss_kib, step.hwm_kib = memory(server.proc.pid)


def measure_server(
    name: str, args: argparse.Namespace, tmp: Path, servers: dict[str, Server]
) -> list[Step]:
    """Start one server, grow its pool through args.sizes measuring each size, stop it."""
    server = servers[name] = launch(name, tmp)
    wait_ready(server)
    steps, next_n = [], 1
    for size in args.sizes:
        step = Step(size)
        steps.append(step)
        next_n = populate(server, step, next_n, args, tmp / f"{name}.populated")
        measure_ops(server, step, next_n - 1, args)
    stop(server)
    return steps


def run(args: argparse.Namespace, tmp: Path, servers: dict[str, Server]) -> int:
    """The --users mode of bench/run.py; `servers` collects the servers for the caller to stop."""
    results: dict[str, list[Step]] = {}
    for name in ("cognate", "moto"):
        if args.only in (None, name):
            results[name] = measure_server(name, args, tmp, servers)
    text = report(results, args)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    progress(f"written to {RESULTS}")
    return 1 if any(s.problems for steps in results.values() for s in steps) else 0
