"""Soak benchmark: a mixed sign-in workload for minutes, watching errors and server memory.

    .venv/bin/python bench/soak.py                          # 5 min on SQLite, then PostgreSQL
    .venv/bin/python bench/soak.py --duration 120 --backend sqlite
    .venv/bin/python bench/soak.py --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

Per backend, Cognate is started as users start it (`python -m cognate serve --workers 2`, a
fresh SQLite file or a scratch PostgreSQL database created through --postgres-url and dropped
afterwards, log level warning). One user pool gets an app client allowing USER_PASSWORD_AUTH,
USER_SRP_AUTH and REFRESH_TOKEN_AUTH and --users confirmed users. Then --clients threads,
each with its own keep-alive HTTP connection, run this mix until --duration seconds are up:

    SignUp 10% (a new user each time), password sign-in (InitiateAuth USER_PASSWORD_AUTH) 25%,
    SRP sign-in 15% (InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER, the
    client's arithmetic from bench/srp_client.py), refresh (REFRESH_TOKEN_AUTH) 20%, GetUser
    20%, ListUsers 10%.

The first --warmup seconds are not counted in throughput or latency (errors always are).
Every --sample seconds the resident memory (VmRSS) of every server process (the uvicorn
parent and its workers, found through /proc) is summed. The report gives per operation the
requests/s, p50 and p99 latency and the errors by type; and memory at the first sample after
the warm-up, at the end, its peak, and the slope of a least-squares line through the
post-warm-up samples in MiB per minute ("flat" when the fitted growth over the measured
window is under 5% of the start and under 16 MiB; no verdict under 60 s). Finally the
server's own /metrics request count is compared with the requests the clients made (it sums
both workers), and the server log is checked for tracebacks and ERROR lines. The SrpSignIn
row counts logins (two requests each), the others requests.

Any error (TooManyRequestsException included: rate limits are off), a metrics mismatch or a
bad log line makes the exit status 1. The Markdown report is printed and written to
bench/results/soak.md. The load generator runs on the same machine as the server (Python
threads: at high --clients it is itself a limit); numbers from a loaded machine are low.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import srp_client
from harness import BENCH, VENV_BIN, BenchError, progress

TARGET = "AWSCognitoIdentityProviderService."
PASSWORD = "Soak-Passw0rd!"
MIX = (
    ("SignUp", 10),
    ("PasswordSignIn", 25),
    ("SrpSignIn", 15),
    ("Refresh", 20),
    ("GetUser", 20),
    ("ListUsers", 10),
)
FLAT_SHARE, FLAT_MIB = 0.05, 16.0
MIN_VERDICT_SECONDS = 60


class CallError(Exception):
    def __init__(self, operation: str, error_type: str, detail: str) -> None:
        super().__init__(f"{operation}: {error_type} {detail}")
        self.operation, self.error_type = operation, error_type


class Connection:
    """One keep-alive connection; call() answers the JSON body or raises CallError."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._conn: http.client.HTTPConnection | None = None
        self.sent = 0

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + operation}
        self.sent += 1
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)
            self._conn.request("POST", "/", json.dumps(body), headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            raise CallError(operation, "socket", repr(exc)) from exc
        answer = json.loads(data or b"{}")
        if response.status != 200:
            kind = str(answer.get("__type", f"HTTP{response.status}")).split("#")[-1]
            raise CallError(operation, kind, str(answer.get("message", ""))[:200])
        return answer if isinstance(answer, dict) else {}


@dataclass
class Results:
    """Every thread's latencies (measured window only) and errors (whole run)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    requests: int = 0  # every HTTP request sent, warm-up included
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Pool:
    pool_id: str
    client_id: str
    users: list[str]


class Client(threading.Thread):
    """One simulated application: its own connection, its users' tokens."""

    def __init__(self, n: int, port: int, pool: Pool, run: dict[str, float], out: Results) -> None:
        super().__init__(name=f"soak-{n}", daemon=True)
        self.n, self.pool, self.run_window, self.out = n, pool, run, out
        self.conn = Connection(port)
        self.srp = srp_client.Client(pool.pool_id)
        self.tokens: dict[str, dict[str, str]] = {}
        self.rng = random.Random(n)  # a workload mix, not crypto
        self.signups = 0
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[tuple[str, str]] = Counter()
        self.first: list[str] = []

    def run(self) -> None:
        names = [name for name, _ in MIX]
        weights = [weight for _, weight in MIX]
        while time.monotonic() < self.run_window["end"]:
            kind = self.rng.choices(names, weights)[0]
            started = time.monotonic()
            try:
                getattr(self, "_" + kind.lower())()
            except CallError as exc:
                self.errors[(kind, exc.error_type)] += 1
                if len(self.first) < 3:
                    self.first.append(str(exc))
                continue
            if started >= self.run_window["measure_from"]:
                self.latencies.setdefault(kind, []).append(time.monotonic() - started)
        with self.out.lock:
            for kind, values in self.latencies.items():
                self.out.latencies.setdefault(kind, []).extend(values)
            self.out.errors.update(self.errors)
            self.out.first_errors.extend(self.first[: 5 - len(self.out.first_errors)])
            self.out.requests += self.conn.sent

    def _user(self) -> str:
        return self.rng.choice(self.pool.users)

    def _signup(self) -> None:
        self.signups += 1
        name = f"s{self.n}-{self.signups}-{uuid.uuid4().hex[:6]}"
        body = {"ClientId": self.pool.client_id, "Username": name, "Password": PASSWORD}
        self.conn.call("SignUp", body)

    def _passwordsignin(self) -> None:
        user = self._user()
        params = {"USERNAME": user, "PASSWORD": PASSWORD}
        body = {"ClientId": self.pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH"}
        result = self.conn.call("InitiateAuth", body | {"AuthParameters": params})
        self.tokens[user] = result["AuthenticationResult"]

    def _srpsignin(self) -> None:
        """Both steps (srp_client.login over this connection: its errors are CallErrors)."""
        user = self._user()
        try:
            result = srp_client.login(self.conn, self.srp, self.pool.client_id, user, PASSWORD)  # type: ignore[arg-type]
        except srp_client.LoginError as exc:
            raise CallError("SrpSignIn", exc.kind, exc.detail) from None
        self.tokens[user] = {**self.tokens.get(user, {}), **result["AuthenticationResult"]}

    def _signed_in(self) -> dict[str, str]:
        if not self.tokens:
            self._passwordsignin()
        return self.tokens[self.rng.choice(list(self.tokens))]

    def _refresh(self) -> None:
        tokens = self._signed_in()
        params = {"REFRESH_TOKEN": tokens["RefreshToken"]}
        body = {"ClientId": self.pool.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH"}
        result = self.conn.call("InitiateAuth", body | {"AuthParameters": params})
        tokens["AccessToken"] = result["AuthenticationResult"]["AccessToken"]

    def _getuser(self) -> None:
        self.conn.call("GetUser", {"AccessToken": self._signed_in()["AccessToken"]})

    def _listusers(self) -> None:
        self.conn.call("ListUsers", {"UserPoolId": self.pool.pool_id, "Limit": 20})


# ------------------------------------------------------------------------ server and memory


def start_server(
    backend: str, tmp: Path, workers: int, pg_url: str | None
) -> tuple[Any, int, Path]:
    port = _free_port()
    db = f"sqlite:///{tmp}/cognate.db" if backend == "sqlite" else str(pg_url)
    argv = [str(VENV_BIN / "python"), "-m", "cognate", "serve", "--port", str(port), "--db", db]
    argv += ["--workers", str(workers)]
    env = {**os.environ, "COGNATE_MASTER_KEY_FILE": f"{tmp}/master.key"}
    env["COGNATE_LOG_LEVEL"] = "warning"
    log = tmp / f"cognate-{backend}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"cognate exited:\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ready")
            if conn.getresponse().status == 200 and len(server_pids(proc.pid)) > workers:
                return proc, port, log
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("cognate did not become ready in 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_pids(root: int) -> list[int]:
    """The server process and all its descendants (uvicorn's workers, their helpers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def sampler(root: int, every: float, stop: threading.Event, out: list[tuple[float, int]]) -> None:
    while not stop.is_set():
        out.append((time.monotonic(), rss_kib(server_pids(root))))
        stop.wait(every)


# ------------------------------------------------------------------------ one backend


def set_up(port: int, users: int) -> Pool:
    conn = Connection(port)
    pool_id = conn.call("CreateUserPool", {"PoolName": "soak"})["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    body = {"UserPoolId": pool_id, "ClientName": "soak", "ExplicitAuthFlows": flows}
    client_id = conn.call("CreateUserPoolClient", body)["UserPoolClient"]["ClientId"]
    names = [f"u{n}" for n in range(users)]
    for name in names:
        conn.call(
            "AdminCreateUser",
            {"UserPoolId": pool_id, "Username": name, "MessageAction": "SUPPRESS"},
        )
        conn.call(
            "AdminSetUserPassword",
            {"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": True},
        )
    return Pool(pool_id, client_id, names)


def api_requests(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("cognate_api_requests_total{")
    )


def soak(backend: str, args: argparse.Namespace, pg_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cognate-soak-") as tmp_name:
        tmp = Path(tmp_name)
        proc, port, log = start_server(backend, tmp, args.workers, pg_url)
        try:
            progress(
                f"{backend}: server pid {proc.pid} on port {port}; creating {args.users} users"
            )
            pool = set_up(port, args.users)
            before = api_requests(port)
            now = time.monotonic()
            window = {"measure_from": now + args.warmup, "end": now + args.warmup + args.duration}
            results, samples, stop = Results(), [], threading.Event()
            watch = threading.Thread(
                target=sampler, args=(proc.pid, args.sample, stop, samples), daemon=True
            )
            watch.start()
            clients = [Client(n, port, pool, window, results) for n in range(args.clients)]
            for client in clients:
                client.start()
            progress(f"{backend}: {args.clients} clients for {args.warmup + args.duration:.0f} s")
            for client in clients:
                client.join()
            stop.set()
            watch.join()
            served = api_requests(port) - before  # (scrapes are not API requests)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        bad = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "Traceback" in line or " ERROR " in line
        ]
    return {
        "backend": backend,
        "results": results,
        "samples": samples,
        "measure_from": window["measure_from"],
        "served": served,
        "bad_log": bad[:5],
    }


# ------------------------------------------------------------------------ report


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def slope_mib_per_min(points: list[tuple[float, int]]) -> float:
    if len(points) < 2:
        return 0.0
    xs = [t / 60 for t, _ in points]
    ys = [kib / 1024 for _, kib in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def report_backend(run: dict[str, Any], args: argparse.Namespace) -> tuple[list[str], bool]:
    results: Results = run["results"]
    ok = True
    lines = [f"### {run['backend']} (`--workers {args.workers}`)", ""]
    lines += [
        "| operation | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    total = 0
    for kind, _ in MIX:
        values = results.latencies.get(kind, [])
        total += len(values)
        errors = sum(n for (k, _), n in results.errors.items() if k == kind)
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        rate = len(values) / args.duration
        lines.append(f"| {kind} | {len(values)} | {rate:.1f} | {p50:.1f} | {p99:.1f} | {errors} |")
    lines.append(
        f"| **all** | {total} | {total / args.duration:.1f} | | | {sum(results.errors.values())} |"
    )
    lines.append("")
    if results.errors:
        ok = False
        lines.append(
            "**⚠ ERRORS**: "
            + ", ".join(f"{k} {t}: {n}" for (k, t), n in sorted(results.errors.items()))
        )
        lines += [f"    {e}" for e in results.first_errors]
        lines.append("")
    samples = [(t, kib) for t, kib in run["samples"] if t >= run["measure_from"]]
    if samples:
        start, end = samples[0][1] / 1024, samples[-1][1] / 1024
        peak = max(kib for _, kib in samples) / 1024
        slope = slope_mib_per_min(samples)
        growth = slope * args.duration / 60
        flat = growth < FLAT_SHARE * start and growth < FLAT_MIB
        verdict = "flat" if flat else "GROWING"
        if args.duration < MIN_VERDICT_SECONDS:  # a smoke run: too short to judge a trend
            verdict, flat = f"too short to judge (under {MIN_VERDICT_SECONDS} s)", True
        lines.append(
            f"Server memory (RSS of all {args.workers + 1} processes, {len(samples)} samples): "
            f"start {start:.0f} MiB, end {end:.0f} MiB, peak {peak:.0f} MiB, slope "
            f"{slope:+.2f} MiB/min (fitted growth {growth:+.1f} MiB over the run): "
            f"**{verdict}**."
        )
        ok = ok and flat
    sent = results.requests
    match = abs(run["served"] - sent) < 0.5
    lines.append(
        f"Requests sent by the clients: {sent}; counted by the server's /metrics (summed over "
        f"workers): {run['served']:.0f}{'' if match else ' **⚠ MISMATCH**'}."
    )
    ok = ok and match
    if run["bad_log"]:
        ok = False
        lines.append("**⚠ server log**: " + " / ".join(run["bad_log"]))
    else:
        lines.append("Server log: no tracebacks, no ERROR lines.")
    lines.append("")
    return lines, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=float, default=300, help="measured seconds [300]")
    parser.add_argument("--warmup", type=float, default=20, help="uncounted seconds first [20]")
    parser.add_argument("--clients", type=int, default=12, help="concurrent clients [12]")
    parser.add_argument("--users", type=int, default=100, help="pre-created users [100]")
    parser.add_argument("--workers", type=int, default=2, help="server processes [2]")
    parser.add_argument("--sample", type=float, default=5, help="memory sample interval [5]")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "COGNATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an existing database to create the scratch database from",
    )
    parser.add_argument("--output", default=str(BENCH / "results" / "soak.md"))
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    lines = [
        "## Soak benchmark",
        "",
        f"Cognate {cognate_version()}, Python {platform.python_version()}, {cpu_model()} "
        f"({os.cpu_count()} cores); "
        f"{args.clients} clients, {args.users} users, {args.warmup:.0f} s warm-up + "
        f"{args.duration:.0f} s measured per backend; load generator on the same machine.",
        "",
    ]
    ok = True
    for backend in backends:
        if backend == "postgres":
            run = _with_scratch_database(args, lambda url: soak("postgres", args, url))
        else:
            run = soak("sqlite", args, None)
        section, good = report_backend(run, args)
        lines += section
        ok = ok and good
    text = "\n".join(lines)
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")
    return 0 if ok else 1


def cognate_version() -> str:
    code = "import cognate; print(cognate.__version__)"
    out = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def _with_scratch_database(args: argparse.Namespace, fn: Any) -> dict[str, Any]:
    import psycopg

    name = f"cognate_soak_{secrets.token_hex(6)}"
    admin = args.postgres_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        result: dict[str, Any] = fn(admin.rsplit("/", 1)[0] + "/" + name)
        return result
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
