"""Load generator for full USER_SRP_AUTH logins (bench/auth.py runs it pinned to core 1).

wrk cannot do the client's big-number arithmetic, so this script does Cognito's client side of
SRP-6a in Python, as amazon-cognito-identity-js and pycognito do, and drives one server with
--connections threads, each with its own keep-alive HTTP connection (http.client).  A login is
two requests: InitiateAuth USER_SRP_AUTH (USERNAME, SRP_A) and RespondToAuthChallenge
PASSWORD_VERIFIER (PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP, PASSWORD_CLAIM_SIGNATURE); its latency
runs from the first request's start to the second answer's end.

The client's arithmetic (cognate.domain.srp is reused for the shared parts only: N, g, k,
pad_hex, the hashes and x):

* a: 256 random bits per login; A = g^a mod N from a fixed-base table built at start-up
  (g is fixed: 32 multiplications instead of ~256 squarings);
* u = H(pad_hex(A) || pad_hex(B)); x = H(pad_hex(salt) || H(poolName + userId + ":" + password));
  g^x is cached per (user id, salt), which is constant per user (moto sends a random salt
  every time, so against moto it is recomputed, from the same table);
* S = (B - k*g^x)^(a + u*x) mod N (gmpy2.powmod: the one real exponentiation per login);
* key = HKDF: the first 16 bytes of HMAC(HMAC(pad_hex(u), pad_hex(S)), "Caldera Derived Key" 1);
* PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(key, poolName || USER_ID_FOR_SRP ||
  base64-decoded SECRET_BLOCK || TIMESTAMP)), TIMESTAMP as "%a %b %-d %H:%M:%S UTC %Y" in
  English (rendered from fixed day and month names, so the locale does not matter).

Run: `srp_client.py CONFIG.json --warmup 2 --duration 10 --connections 16`, where CONFIG holds
url, client_id, pool_id, users ([username, password] pairs) and expect_tokens (whether a 2xx
answer to step 2 must hold an AuthenticationResult: moto's answers hold none).  Logins that end
within the measured window (after the warm-up) are counted; errors are counted over the whole
run.  The process's own CPU time and core 1's busy time over the window are measured, so that
the report can say whether the generator (rather than the server) was the limit.  The last
line of output is `BENCH_RESULT {json}`, like the wrk scripts' (plus BENCH_FIRST_ERROR).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import resource
import secrets
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gmpy2

from cognate.domain.srp import G, K, N, compute_x, hex_hash, pad_hex, pool_name

TARGET = "AWSCognitoIdentityProviderService."
INFO = b"Caldera Derived Key\x01"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WINDOW_BITS, WINDOWS = 8, 32  # fixed-base table for exponents below 2**256


def _table() -> list[list[Any]]:
    """rows[j][d] = g^(d * 256^j) mod N."""
    rows, base = [], G
    for _ in range(WINDOWS):
        row = [gmpy2.mpz(1), base]
        for _digit in range(2, 1 << WINDOW_BITS):
            row.append(row[-1] * base % N)
        rows.append(row)
        base = row[-1] * base % N
    return rows


ROWS = _table()


def g_pow(exponent: int) -> Any:
    """g^exponent mod N for 0 <= exponent < 2**256, from the fixed-base table."""
    result, mask = gmpy2.mpz(1), (1 << WINDOW_BITS) - 1
    for row in ROWS:
        if not exponent:
            break
        if digit := exponent & mask:
            result = result * row[digit] % N
        exponent >>= WINDOW_BITS
    return result


def timestamp(now: float | None = None) -> str:
    """Cognito's TIMESTAMP: "%a %b %-d %H:%M:%S UTC %Y" in English, e.g. Tue Mar 3 09:05:00."""
    t = time.gmtime(now)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{DAYS[t.tm_wday]} {MONTHS[t.tm_mon - 1]} {t.tm_mday} {clock} UTC {t.tm_year}"


class Client:
    """The client side of Cognito's SRP for one pool, with g^x cached per user."""

    def __init__(self, pool_id: str) -> None:
        self.group = pool_name(pool_id)
        self._gx: dict[tuple[str, int, str], tuple[int, Any]] = {}
        self.computed = 0  # g^x computations (cache misses)

    def _x(self, user_id: str, salt: int, password: str) -> tuple[int, Any]:
        key = (user_id, salt, password)
        found = self._gx.get(key)
        if found is None:
            x = compute_x(self.group, user_id, password, salt)
            found = self._gx[key] = (x, g_pow(x))
            self.computed += 1
        return found

    @staticmethod
    def ephemeral() -> tuple[int, Any]:
        """A fresh secret a (256 bits) and the public A = g^a mod N."""
        a = secrets.randbits(256) | 1
        return a, g_pow(a)

    def signature(
        self, a: int, big_a: Any, password: str, params: dict[str, str], stamp: str
    ) -> str:
        """PASSWORD_CLAIM_SIGNATURE for a PASSWORD_VERIFIER challenge."""
        big_b, salt = gmpy2.mpz(params["SRP_B"], 16), int(params["SALT"], 16)
        user_id = params["USER_ID_FOR_SRP"]
        if big_b % N == 0:
            raise ValueError("SRP_B mod N is zero")
        u = int(hex_hash(pad_hex(int(big_a)) + pad_hex(int(big_b))), 16)
        if u == 0:
            raise ValueError("u is zero")
        x, gx = self._x(user_id, salt, password)
        s = gmpy2.powmod((big_b - K * gx) % N, a + u * x, N)
        prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(int(s))), hashlib.sha256)
        key = hmac.new(prk.digest(), INFO, hashlib.sha256).digest()[:16]
        block = base64.b64decode(params["SECRET_BLOCK"])
        message = self.group.encode() + user_id.encode() + block + stamp.encode()
        return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class LoginError(Exception):
    """A login failed: `kind` is non2xx, wrong (2xx but not the expected answer) or socket."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


class Connection:
    """One keep-alive HTTP connection to the server, reopened after a socket error."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._conn: http.client.HTTPConnection | None = None

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + operation}
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
            self._conn.request("POST", "/", json.dumps(body), headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise LoginError("socket", f"{operation}: {exc!r}") from exc
        if not 200 <= response.status <= 299:
            text = data[:300].decode(errors="replace")
            raise LoginError("non2xx", f"{operation}: {response.status} {text}")
        answer = json.loads(data or b"{}")
        return answer if isinstance(answer, dict) else {"_answer": answer}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def login(
    conn: Connection,
    client: Client,
    client_id: str,
    username: str,
    password: str,
    *,
    expect_tokens: bool = True,
) -> dict[str, Any]:
    """One full SRP login; returns the answer to step 2, or raises LoginError."""
    a, big_a = client.ephemeral()
    params = {"USERNAME": username, "SRP_A": format(int(big_a), "x")}
    body = {"AuthFlow": "USER_SRP_AUTH", "ClientId": client_id, "AuthParameters": params}
    first = conn.call("InitiateAuth", body)
    challenge = first.get("ChallengeParameters") or {}
    if first.get("ChallengeName") != "PASSWORD_VERIFIER" or "SRP_B" not in challenge:
        raise LoginError("wrong", f"InitiateAuth answered {json.dumps(first)[:300]}")
    stamp = timestamp()
    try:
        signature = client.signature(a, big_a, password, challenge, stamp)
    except ValueError as exc:
        raise LoginError("wrong", f"bad challenge: {exc}") from exc
    responses = {
        "USERNAME": challenge.get("USERNAME") or challenge["USER_ID_FOR_SRP"],
        "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
        "TIMESTAMP": stamp,
        "PASSWORD_CLAIM_SIGNATURE": signature,
    }
    body = {"ChallengeName": "PASSWORD_VERIFIER", "ClientId": client_id}
    body |= {"ChallengeResponses": responses}
    if first.get("Session"):
        body["Session"] = first["Session"]
    second = conn.call("RespondToAuthChallenge", body)
    if expect_tokens and "AccessToken" not in (second.get("AuthenticationResult") or {}):
        raise LoginError("wrong", f"RespondToAuthChallenge answered {json.dumps(second)[:300]}")
    return second


@dataclass
class Worker:
    """One thread's results: (end time, latency) per login, and its errors."""

    done: list[tuple[float, float]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: {"non2xx": 0, "wrong": 0, "socket": 0})
    first_error: str = ""


def work(
    worker: Worker, config: dict[str, Any], client: Client, stop: threading.Event, seed: int
) -> None:
    conn, pick = Connection(config["url"]), random.Random(seed)
    users, expect = config["users"], bool(config["expect_tokens"])
    while not stop.is_set():
        username, password = pick.choice(users)
        started = time.perf_counter()
        try:
            login(conn, client, config["client_id"], username, password, expect_tokens=expect)
        except LoginError as exc:
            worker.errors[exc.kind] += 1
            worker.first_error = worker.first_error or exc.detail
            if exc.kind == "socket":
                time.sleep(0.01)
            continue
        ended = time.perf_counter()
        worker.done.append((ended, ended - started))
    conn.close()


def busy_core1() -> tuple[int, int]:
    """(busy, total) clock ticks of core 1 (busy: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\ncpu1 ")[1].split()[:8]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run(config: dict[str, Any], warmup: float, duration: float, connections: int) -> dict[str, Any]:
    """Drive the server; return the BENCH_RESULT fields."""
    client, stop = Client(config["pool_id"]), threading.Event()
    workers = [Worker() for _ in range(connections)]
    threads = [
        threading.Thread(target=work, args=(w, config, client, stop, n), daemon=True)
        for n, w in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    t0, cpu0, core0 = time.perf_counter(), own_cpu(), busy_core1()
    time.sleep(duration)
    t1, cpu1, core1 = time.perf_counter(), own_cpu(), busy_core1()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    latencies = [lat for w in workers for end, lat in w.done if t0 <= end <= t1]
    errors = {kind: sum(w.errors[kind] for w in workers) for kind in ("non2xx", "wrong", "socket")}
    wall, ticks = t1 - t0, max(1, core1[1] - core0[1])
    return {
        "requests": len(latencies),
        "duration_us": int(wall * 1e6),
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "non2xx": errors["non2xx"],
        "wrong": errors["wrong"],
        "socket_errors": errors["socket"],
        "gen_cpu": (cpu1 - cpu0) / wall,
        "core1_busy": (core1[0] - core0[0]) / ticks,
        "gx_computed": client.computed,
        "first_error": next((w.first_error for w in workers if w.first_error), ""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, help="JSON: url, client_id, pool_id, users, ...")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    config = json.loads(args.config.read_text())
    result = run(config, args.warmup, args.duration, args.connections)
    first = result.pop("first_error").replace("\n", " ")
    print(f"BENCH_FIRST_ERROR {first}\nBENCH_RESULT {json.dumps(result)}", flush=True)
    os._exit(0)  # do not wait for threads stuck on a dead server (they are daemons anyway)


if __name__ == "__main__":
    sys.exit(main())
