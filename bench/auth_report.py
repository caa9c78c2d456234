"""The report of the authentication benchmark (bench/auth.py): tables, ceilings and targets.

Result holds what bench/auth.py measured for one server, Ceilings the per-core cost of the
cryptography every login cannot avoid; report() renders them as Markdown: a table per server,
a comparison table, the ceilings table and the project's targets for Cognate with verdicts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from dataclasses import dataclass, field

from harness import MAX_FOREIGN_CPU, WARMUP_SECONDS, Run, environment

PASSWORD, SRP, REFRESH, GET_USER = (
    "USER_PASSWORD_AUTH",
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "GetUser",
)
OPERATIONS = (PASSWORD, SRP, REFRESH, GET_USER)
LABELS = {
    PASSWORD: "InitiateAuth USER_PASSWORD_AUTH",
    SRP: "USER_SRP_AUTH login (InitiateAuth + RespondToAuthChallenge), logins/s",
    REFRESH: "InitiateAuth REFRESH_TOKEN_AUTH",
    GET_USER: "GetUser (access token)",
}
# What each flow cannot avoid: (3072-bit modular exponentiations, RS256 signatures).
WORK = {PASSWORD: (1, 2), SRP: (3, 2), REFRESH: (0, 2)}
TITLES = {"cognate": "Cognate", "moto": "moto"}
CEILING_SHARE = 0.5  # targets: at least half of the per-core ceiling
GET_USER_RATIO = 8.0  # target: GetUser requests/s, Cognate / moto
SATURATED = 0.90  # core 1 busier than this during an SRP run: the generator may be the limit


@dataclass
class Ceilings:
    """Seconds per primitive, measured pinned to core 0 (best of several batches)."""

    pow_s: float  # 3072-bit modexp, 256-bit exponent, Python's pow
    gmpy2_s: float  # the same with gmpy2.powmod
    rs256_s: float  # one RS256 signature (RSA-2048, PKCS#1 v1.5, SHA-256), cryptography
    table_s: float  # g^e, 256-bit e, from Cognate's fixed-base table (srp.g_pow): for reference
    foreign_cpu: float = 0.0  # other processes' share of core 0 meanwhile

    def rate(self, operation: str, engine: str) -> float:
        """The flow's per-core ceiling in logins (requests) per second."""
        modexps, signatures = WORK[operation]
        modexp = self.gmpy2_s if engine == "gmpy2" else self.pow_s
        return 1.0 / (modexps * modexp + signatures * self.rs256_s)


@dataclass
class Result:
    """One server's runs (keyed by OPERATIONS), problems (errors) and notes."""

    name: str
    users: int = 0
    idle_rss_kib: int = 0
    runs: dict[str, Run] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB" if kib else "-"


def saturated(run: Run) -> bool:
    return float(run.extra.get("core1_busy", 0.0)) > SATURATED


def flag(run: Run | None, text: str) -> str:
    """A cell with the run's warnings appended."""
    if run is None:
        return "-"
    text += " **⚠ ERRORS**" if run.bad or run.extra.get("wrong") else ""
    text += " **⚠ CORE 1 SATURATED**" if saturated(run) else ""
    return text + (" (contended)" if run.foreign_cpu > MAX_FOREIGN_CPU else "")


def generator_line(run: Run, users: int) -> str:
    """What the SRP load generator itself used of core 1, and whether core 1 was saturated."""
    share, busy = float(run.extra["gen_cpu"]), float(run.extra["core1_busy"])
    capacity = f"about {run.rps / share:,.0f} logins/s" if share > 0 else "-"
    verdict = (
        f"**core 1 was saturated ({busy:.0%} busy): the generator may have been the limit**"
        if saturated(run)
        else f"core 1 was not saturated ({busy:.0%} busy)"
    )
    return (
        f"SRP load generator: {share:.0%} of core 1, other work {max(0.0, busy - share):.0%}; "
        f"at 100% of a core it would drive {capacity}; g^x computed "
        f"{run.extra.get('gx_computed', '?')} times for {users} users (cached per user and "
        f"salt); {verdict}."
    )


def server_table(result: Result) -> list[str]:
    lines = [
        f"### {TITLES.get(result.name, result.name)}",
        "",
        "| Operation | Requests/s | p50 ms | p99 ms | RSS after | Peak RSS |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for op in OPERATIONS:
        run = result.runs.get(op)
        cells = [LABELS[op], flag(run, f"{run.rps:,.1f}") if run else "-"]
        cells += [f"{run.p50_ms:.2f}", f"{run.p99_ms:.2f}"] if run else ["-", "-"]
        cells += [mib(run.rss_kib), mib(run.hwm_kib)] if run else ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"{result.users} users; RSS after set-up {mib(result.idle_rss_kib)}."]
    if SRP in result.runs:
        lines += ["", generator_line(result.runs[SRP], result.users)]
    return lines


def comparison(results: dict[str, Result]) -> list[str]:
    lines = [
        "| Operation | Cognate /s | moto /s | Cognate/moto | Cognate p50 / p99 ms "
        "| moto p50 / p99 ms | RSS Cognate | RSS moto |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for op in OPERATIONS:
        c, m = (results[s].runs.get(op) if s in results else None for s in ("cognate", "moto"))
        ratio = f"{c.rps / m.rps:.1f}x" if c and m and m.rps else "-"
        row = [op, flag(c, f"{c.rps:,.0f}") if c else "-", flag(m, f"{m.rps:,.0f}") if m else "-"]
        row += [ratio] + [f"{r.p50_ms:.2f} / {r.p99_ms:.2f}" if r else "-" for r in (c, m)]
        row += [mib(r.rss_kib) if r else "-" for r in (c, m)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def ceilings_table(ceil: Ceilings, results: dict[str, Result]) -> list[str]:
    lines = [
        "| Primitive (one core) | Time | Per second |",
        "|---|--:|--:|",
    ]
    for name, seconds in (
        ("3072-bit modexp, 256-bit exponent, Python pow", ceil.pow_s),
        ("3072-bit modexp, 256-bit exponent, gmpy2.powmod", ceil.gmpy2_s),
        ("RS256 signature (RSA-2048, cryptography)", ceil.rs256_s),
        ("For reference: g^e, 256-bit e, fixed-base table (Cognate's srp.g_pow)", ceil.table_s),
    ):
        lines.append(f"| {name} | {seconds * 1e6:,.0f} µs | {1 / seconds:,.0f} |")
    lines += [
        "",
        "| Flow | Unavoidable work | Ceiling, pow /s | Ceiling, gmpy2 /s | Cognate /s "
        "| % of gmpy2 ceiling | % of pow ceiling |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    cog = results.get("cognate")
    for op, (modexps, signatures) in WORK.items():
        work = f"{modexps} modexp + {signatures} signatures" if modexps else "2 signatures"
        low, high = ceil.rate(op, "pow"), ceil.rate(op, "gmpy2")
        run = cog.runs.get(op) if cog else None
        rps = [f"{run.rps:,.0f}", f"{run.rps / high:.0%}", f"{run.rps / low:.0%}"] if run else []
        row = [op, work, f"{low:,.0f}", f"{high:,.0f}", *(rps or ["-", "-", "-"])]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "The model counts every exponentiation as a general one. Powers of the fixed generator g "
        "(the verifier g^x that USER_PASSWORD_AUTH recomputes, the server's g^b in SRP) can come "
        "from a precomputed table, as Cognate does, at the cost of the reference row: a server "
        "can then beat a ceiling's modexp share.",
    ]
    return lines


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**NOT MET**")


def targets(ceil: Ceilings, results: dict[str, Result]) -> list[str]:
    cog, moto = results.get("cognate"), results.get("moto")
    if cog is None:
        return ["Targets: not evaluated (Cognate was not measured)."]
    lines = ["Targets (Cognate):", ""]
    for op, what in (
        (PASSWORD, "USER_PASSWORD_AUTH requests/s"),
        (SRP, "USER_SRP_AUTH logins/s"),
    ):
        run, high, low = cog.runs.get(op), ceil.rate(op, "gmpy2"), ceil.rate(op, "pow")
        text = (
            f"{run.rps:,.1f}/s = {run.rps / high:.0%} of the gmpy2 ceiling {high:,.0f}/s "
            f"({run.rps / low:.0%} of the pow ceiling {low:,.0f}/s)"
            if run
            else "-"
        )
        modexps, signatures = WORK[op]
        lines.append(
            f"- {what} ≥ {CEILING_SHARE:.0%} of the gmpy2 ceiling 1 / ({modexps} modexp + "
            f"{signatures} signatures): {text} → "
            f"{verdict(run.rps >= CEILING_SHARE * high if run else None)}"
        )
    run, ceiling = cog.runs.get(REFRESH), ceil.rate(REFRESH, "gmpy2")
    lines.append(
        f"- REFRESH_TOKEN_AUTH requests/s ≥ {CEILING_SHARE:.0%} of the two-signature ceiling "
        f"{ceiling:,.0f}/s: "
        + (f"{run.rps:,.1f}/s = {run.rps / ceiling:.0%}" if run else "-")
        + f" → {verdict(run.rps >= CEILING_SHARE * ceiling if run else None)}"
    )
    c, m = cog.runs.get(GET_USER), moto.runs.get(GET_USER) if moto else None
    ratio = c.rps / m.rps if c and m and m.rps else None
    lines.append(
        f"- GetUser ≥ {GET_USER_RATIO:.0f}x moto's requests/s: "
        + (f"{c.rps:,.0f} / {m.rps:,.0f} = {ratio:.1f}x" if c and m and ratio else "-")
        + f" → {verdict(None if ratio is None else ratio >= GET_USER_RATIO)}"
    )
    return lines


def report(results: dict[str, Result], ceil: Ceilings, args: argparse.Namespace) -> str:
    """The whole Markdown report."""
    lines = ["## Authentication benchmark", ""]
    for result in results.values():
        lines += [*server_table(result), ""]
    lines += ["### Comparison", "", *comparison(results), ""]
    lines += ["### Per-core crypto ceilings", "", *ceilings_table(ceil, results), ""]
    lines += [*targets(ceil, results), ""]
    info = environment()
    lines += [
        f"- Machine: {info['cpu']}, {os.cpu_count()} cores (servers and the ceilings on core 0, "
        "wrk and the SRP load generator on core 1)",
        f"- Python {info['python']}, Cognate {info['cognate']} (SQLite), moto {info['moto']}; "
        f"{args.connections} connections (wrk 1 thread; SRP generator 1 thread per connection), "
        f"{args.duration}s per run after a {WARMUP_SECONDS}s warm-up",
        "- Ceilings: best of several batches; modexp with a random base below N (RFC 5054 "
        "3072-bit group) and a random 256-bit exponent",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    named = [(r.name, op, run) for r in results.values() for op, run in r.runs.items()]
    busy = [
        f"{n} {op} ({run.foreign_cpu:.0%})"
        for n, op, run in named
        if run.foreign_cpu > MAX_FOREIGN_CPU
    ]
    if ceil.foreign_cpu > MAX_FOREIGN_CPU:
        busy.append(f"ceilings ({ceil.foreign_cpu:.0%})")
    if busy:
        lines.append(
            f"- Contended (other processes busy on the benchmark cores): {', '.join(busy)}"
        )
    for result in results.values():
        lines += [f"- {TITLES.get(result.name, result.name)}: {note}" for note in result.notes]
    if problems := [f"- {r.name}: {p}" for r in results.values() for p in r.problems]:
        warning = ["**WARNING: problems below; the numbers they touch are meaningless.**"]
        lines = [*warning, *problems, "", *lines, "", *warning, *problems]
    return "\n".join(lines) + "\n"
