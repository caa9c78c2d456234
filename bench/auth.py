"""Authentication benchmark (`bench/run.py --auth`): Cognate's and moto's sign-in flows.

First the machine's per-core ceiling for the cryptography a login cannot avoid is measured, in
a subprocess pinned to core 0 (`auth.py --ceilings`) before any server runs: one 3072-bit
modular exponentiation with a 256-bit exponent (RFC 5054 group N, random base) with Python's
pow and with gmpy2.powmod, and one RS256 signature (RSA-2048, PKCS#1 v1.5, SHA-256) with the
cryptography package; each the best of several batches.

Then each server, one at a time (Cognate on a fresh SQLite database, then moto's server; each
started pinned to core 0 and stopped before the next one starts), gets one user pool, one app
client with ExplicitAuthFlows USER_PASSWORD_AUTH, USER_SRP_AUTH and REFRESH_TOKEN_AUTH, and
USERS confirmed users u1..uN (AdminCreateUser with MessageAction SUPPRESS, then
AdminSetUserPassword Permanent); one USER_PASSWORD_AUTH sign-in per user, from Python, gives
the refresh and access tokens the later runs use.  The client-side SRP arithmetic of
bench/srp_client.py is checked first: a login with the right password must succeed and one
with a wrong password must fail (moto checks no SRP proof: that is noted, not flagged).

Four measurements per server, each a 2 s warm-up and then --duration seconds over
--connections connections, the load generator pinned to core 1:

1. InitiateAuth USER_PASSWORD_AUTH (wrk, bench/wrk/auth.lua: a random user per request);
2. full USER_SRP_AUTH logins (InitiateAuth then RespondToAuthChallenge PASSWORD_VERIFIER) from
   bench/srp_client.py, a Python generator (wrk cannot do the client's big-number arithmetic)
   that also measures its own share of core 1; a run during which core 1 was saturated is
   flagged (the generator, not the server, may have been the limit);
3. InitiateAuth REFRESH_TOKEN_AUTH (wrk, each user's refresh token);
4. GetUser (wrk, each user's access token).

Bodies for wrk are prebuilt by this module, one JSON body per user per line, in a file the Lua
script reads.  After each run the server's VmRSS and VmHWM are read.  Non-2xx responses, socket
errors, 2xx answers without the expected result and failed checks are flagged loudly and make
the exit status 1; runs during which other processes used more than 10% of core 0 or 1 are
marked contended.  The report (bench/auth_report.py) is printed and written to
bench/results/auth.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import srp_client
from auth_report import GET_USER, PASSWORD, REFRESH, SRP, Ceilings, Result, report
from harness import (
    BENCH,
    VENV_BIN,
    WARMUP_SECONDS,
    BenchError,
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
from users import wait_idle

LUA = BENCH / "wrk" / "auth.lua"
SRP_CLIENT = BENCH / "srp_client.py"
RESULTS = BENCH / "results" / "auth.md"
USERS = 300
USER_PASSWORD = "Bench-Passw0rd!"
WRONG_PASSWORD = "Wrong-Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
WRK_TIMEOUT = 10  # seconds per request
WRK_RUNS = {  # operation -> (X-Amz-Target, text every 2xx answer must hold)
    PASSWORD: ("InitiateAuth", '"AccessToken"'),
    REFRESH: ("InitiateAuth", '"AccessToken"'),
    GET_USER: ("GetUser", '"Username"'),
}
CEILING_BATCHES = 5
CEILING_BATCH_SECONDS = 0.3


# ----------------------------------------------------------------------------- ceilings


def best_time(fn: Callable[[int], object]) -> float:
    """Seconds per call of fn(i): the best of CEILING_BATCHES batches of ~0.3 s each."""
    fn(0)  # warm (g_pow builds its table on first use)
    t0 = time.perf_counter()
    fn(1)
    fn(2)
    count = max(5, int(CEILING_BATCH_SECONDS / ((time.perf_counter() - t0) / 2)))
    best = math.inf
    for _ in range(CEILING_BATCHES):
        t0 = time.perf_counter()
        for i in range(count):
            fn(i)
        best = min(best, (time.perf_counter() - t0) / count)
    return best


def primitives() -> dict[str, float]:
    """Time the primitives in this process (`auth.py --ceilings`, run pinned to core 0)."""
    import gmpy2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from cognate.domain.srp import N, g_pow

    n = int(N)
    bases = [secrets.randbelow(n - 2) + 2 for _ in range(64)]
    exponents = [secrets.randbits(256) | 1 << 255 for _ in range(64)]
    mpz_bases = [gmpy2.mpz(b) for b in bases]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = secrets.token_urlsafe(600).encode()  # about an access token's signing input
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    return {
        "pow_s": best_time(lambda i: pow(bases[i % 64], exponents[i % 64], n)),
        "gmpy2_s": best_time(lambda i: gmpy2.powmod(mpz_bases[i % 64], exponents[i % 64], N)),
        "rs256_s": best_time(lambda i: key.sign(message, pkcs1, sha256)),
        "table_s": best_time(lambda i: g_pow(exponents[i % 64])),
    }


def measure_ceilings() -> Ceilings:
    """Run primitives() in a subprocess pinned to core 0; note other load on core 0."""
    progress("ceilings: 3072-bit modexp (pow, gmpy2.powmod) and RS256, pinned to core 0")
    argv = ["taskset", "-c", "0", str(VENV_BIN / "python"), str(Path(__file__)), "--ceilings"]
    before, t0 = cpu_seconds(os.getpid()), time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    after, wall = cpu_seconds(os.getpid()), time.monotonic() - t0
    if out.returncode != 0:
        raise BenchError(f"ceilings failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    foreign = max(0.0, (after[0] - before[0]) - (after[3] - before[3])) / wall
    ceil = Ceilings(data["pow_s"], data["gmpy2_s"], data["rs256_s"], data["table_s"], foreign)
    progress(
        f"  pow {ceil.pow_s * 1e6:,.0f} µs, gmpy2 {ceil.gmpy2_s * 1e6:,.0f} µs, "
        f"RS256 {ceil.rs256_s * 1e6:,.0f} µs, fixed-base g^e {ceil.table_s * 1e6:,.0f} µs, "
        f"other load on core 0 {foreign:.0%}"
    )
    return ceil


# ----------------------------------------------------------------------------- set-up


def prepare(server: Server) -> tuple[str, list[dict[str, Any]]]:
    """The app client and USERS confirmed users; returns the client id and each user's tokens."""
    body = {"UserPoolId": server.pool_id, "ClientName": "auth", "ExplicitAuthFlows": FLOWS}
    client_id = str(call(server, "CreateUserPoolClient", body)["UserPoolClient"]["ClientId"])
    progress(f"{server.name}: client {client_id}; creating {USERS} users and signing each in")
    tokens = []
    for n in range(1, USERS + 1):
        user = {"UserPoolId": server.pool_id, "Username": f"u{n}"}
        email = [{"Name": "email", "Value": f"u{n}@example.com"}]
        call(
            server,
            "AdminCreateUser",
            {**user, "MessageAction": "SUPPRESS", "UserAttributes": email},
        )
        call(server, "AdminSetUserPassword", user | {"Password": USER_PASSWORD, "Permanent": True})
        params = {"USERNAME": f"u{n}", "PASSWORD": USER_PASSWORD}
        sign_in = {"AuthFlow": PASSWORD, "ClientId": client_id, "AuthParameters": params}
        answer = call(server, "InitiateAuth", sign_in)
        if "RefreshToken" not in (answer.get("AuthenticationResult") or {}):
            raise BenchError(f"{server.name}: u{n}'s sign-in answered {str(answer)[:300]}")
        tokens.append(answer["AuthenticationResult"])
    return client_id, tokens


def check_srp(server: Server, result: Result, client_id: str) -> None:
    """The generator's SRP arithmetic: the right password signs in, a wrong one does not."""
    conn, client = srp_client.Connection(server.url), srp_client.Client(server.pool_id)
    wrong = ""
    try:
        srp_client.login(conn, client, client_id, "u1", WRONG_PASSWORD)
    except srp_client.LoginError as exc:
        wrong = exc.detail
    try:
        srp_client.login(conn, client, client_id, "u1", USER_PASSWORD)
    except srp_client.LoginError as exc:
        loud(server, result, f"SRP check: a login with the right password failed: {exc.detail}")
    conn.close()
    if not wrong and server.name == "cognate":
        loud(server, result, "SRP check: a login with a wrong password succeeded")
    elif not wrong:
        result.notes.append(
            "accepts SRP logins with a wrong password (it does not check "
            "PASSWORD_CLAIM_SIGNATURE), so its SRP numbers cost it no SRP arithmetic."
        )
    elif "NotAuthorizedException" not in wrong:
        loud(server, result, f"SRP check: a wrong password failed unexpectedly: {wrong}")
    else:
        progress(f"{server.name}: SRP check passed (right password signs in, wrong one refused)")


def write_bodies(path: Path, bodies: list[dict[str, Any]]) -> Path:
    """One compact JSON body per line, for bench/wrk/auth.lua."""
    path.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies))
    return path


# ----------------------------------------------------------------------------- runs


def loud(server: Server, result: Result, problem: str) -> None:
    """Record a problem and print it at once."""
    result.problems.append(problem)
    progress(f"!!! {server.name}: {problem}")


def finish(server: Server, result: Result, operation: str, run: Run) -> None:
    """Record a run: the server's memory now, its errors, a progress line."""
    run.rss_kib, run.hwm_kib = memory(server.proc.pid)
    result.runs[operation] = run
    if run.bad or run.extra.get("wrong"):
        loud(
            server,
            result,
            f"{operation}: {run.non2xx} NON-2XX responses, {run.socket_errors} socket errors and "
            f"{run.extra.get('wrong', 0)} wrong answers in {run.requests} requests; first error: "
            f"{run.first_error or '-'}",
        )
    progress(
        f"  {run.rps:,.1f}/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
        f"other load {run.foreign_cpu:.0%}, RSS {run.rss_kib / 1024:.1f} MiB"
    )


def measure_wrk(
    server: Server, result: Result, operation: str, bodies: Path, args: argparse.Namespace
) -> None:
    """A wrk warm-up and measured run of one operation over the prebuilt bodies."""
    target, expect = WRK_RUNS[operation]
    call(server, target, json.loads(bodies.read_text().splitlines()[0]))  # fail early, clearly
    env = {"BENCH_TARGET": target, "BENCH_BODIES": str(bodies), "BENCH_EXPECT": expect}
    progress(f"{server.name}: {operation}: warm-up {WARMUP_SECONDS}s, run {args.duration}s")
    for seconds in (WARMUP_SECONDS, args.duration):
        run = run_wrk(server, LUA, env, seconds, args.connections, timeout=WRK_TIMEOUT)
        wait_idle(server)
    finish(server, result, operation, run)


def measure_srp(
    server: Server, result: Result, client_id: str, args: argparse.Namespace, tmp: Path
) -> None:
    """Full SRP logins from bench/srp_client.py, pinned to core 1 (warm-up included)."""
    users = [[f"u{n}", USER_PASSWORD] for n in range(1, USERS + 1)]
    config: dict[str, Any] = {"url": server.url, "client_id": client_id}
    config |= {"pool_id": server.pool_id, "users": users, "expect_tokens": True}
    path = tmp / f"{server.name}-srp.json"
    path.write_text(json.dumps(config))
    argv = ["taskset", "-c", "1", str(VENV_BIN / "python"), str(SRP_CLIENT), str(path)]
    argv += ["--warmup", str(WARMUP_SECONDS), "--duration", str(args.duration)]
    argv += ["--connections", str(args.connections)]
    progress(f"{server.name}: {SRP} logins: warm-up {WARMUP_SECONDS}s, run {args.duration}s")
    before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
    limit = WARMUP_SECONDS + args.duration + 120
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"srp_client.py did not finish within {limit}s") from exc
    after, wall = cpu_seconds(server.proc.pid), time.monotonic() - t0
    found = re.search(r"^BENCH_RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or found is None:
        raise BenchError(f"srp_client.py failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(found.group(1))
    first = re.search(r"^BENCH_FIRST_ERROR ?(.*)$", out.stdout, re.M)
    delta = [b - a for a, b in zip(before, after, strict=True)]
    run = Run(
        rps=float(data["rps"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        requests=int(data["requests"]),
        non2xx=int(data["non2xx"]),
        socket_errors=int(data["socket_errors"]),
        first_error=first.group(1).strip() if first else "",
        foreign_cpu=max(0.0, delta[0] - delta[2], delta[1] - delta[3]) / wall,
        extra=data,
    )
    wait_idle(server)
    finish(server, result, SRP, run)
    progress(
        f"  generator: {data['gen_cpu']:.0%} of core 1, core 1 busy {data['core1_busy']:.0%}, "
        f"g^x computed {data['gx_computed']} times"
    )


def measure_server(
    name: str, args: argparse.Namespace, tmp: Path, servers: dict[str, Server]
) -> Result:
    """Start one server, set it up, run the four measurements, stop it."""
    server = servers[name] = launch(name, tmp)
    wait_ready(server)
    result = Result(name, users=USERS)
    client_id, tokens = prepare(server)
    result.idle_rss_kib = memory(server.proc.pid)[0]
    check_srp(server, result, client_id)
    login = [
        {"AuthFlow": PASSWORD, "ClientId": client_id, "AuthParameters": params}
        for params in (
            {"USERNAME": f"u{n}", "PASSWORD": USER_PASSWORD} for n in range(1, USERS + 1)
        )
    ]
    refresh = [
        {
            "AuthFlow": REFRESH,
            "ClientId": client_id,
            "AuthParameters": {"REFRESH_TOKEN": t["RefreshToken"]},
        }
        for t in tokens
    ]
    get_user = [{"AccessToken": t["AccessToken"]} for t in tokens]
    measure_wrk(server, result, PASSWORD, write_bodies(tmp / f"{name}-password.txt", login), args)
    measure_srp(server, result, client_id, args, tmp)
    measure_wrk(server, result, REFRESH, write_bodies(tmp / f"{name}-refresh.txt", refresh), args)
    measure_wrk(server, result, GET_USER, write_bodies(tmp / f"{name}-getuser.txt", get_user), args)
    stop(server)
    return result


def run(args: argparse.Namespace, tmp: Path, servers: dict[str, Server]) -> int:
    """The --auth mode of bench/run.py; `servers` collects the servers for the caller to stop."""
    ceil = measure_ceilings()
    results: dict[str, Result] = {}
    for name in ("cognate", "moto"):
        if args.only in (None, name):
            results[name] = measure_server(name, args, tmp, servers)
    text = report(results, ceil, args)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    progress(f"written to {RESULTS}")
    return 1 if any(r.problems for r in results.values()) else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--ceilings"]:
        sys.exit("usage: auth.py --ceilings (the benchmark itself is bench/run.py --auth)")
    print(json.dumps(primitives()))
