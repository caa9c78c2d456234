"""The report of the user-population benchmark (bench/users.py): tables and targets.

Step holds what bench/users.py measured for one server at one pool size; report() renders the
results of both servers as Markdown: a table per server, a comparison table (one row per size)
and the project's targets for Cognate, each with its verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
from dataclasses import dataclass, field

from harness import MAX_FOREIGN_CPU, WARMUP_SECONDS, Run, environment

# The project's targets (Cognate).
LIST_P50_GROWTH = 1.5  # ListUsers-with-filter p50 at the largest size / at the smallest
GET_RATIO = 8.0  # AdminGetUser requests/s, Cognate / moto, at each size
CREATE_RATE = 1_000  # AdminCreateUser users/s, every population step
RSS_LIMIT_MB = 150  # server VmRSS at the largest size (MB = 10^6 bytes)
TITLES = {"cognate": "Cognate", "moto": "moto"}


@dataclass
class Step:
    """One pool size of one server: the population run and the measurements at that size."""

    size: int  # the size asked for
    populate: Run | None = None  # None if the pool was already big enough
    users: int = 0  # EstimatedNumberOfUsers afterwards
    filled: int = 0  # missing users created from Python after the population run
    get_run: Run | None = None
    list_run: Run | None = None
    problems: list[str] = field(default_factory=list)
    rss_kib: int = 0
    hwm_kib: int = 0

    @property
    def rate(self) -> float:
        """Population rate: successful AdminCreateUser responses per second of the run."""
        run = self.populate
        return run.extra["ok"] / (run.extra["duration_us"] / 1e6) if run else 0.0

    def runs(self) -> list[tuple[str, Run]]:
        """The wrk runs of this step, named."""
        named = [("AdminCreateUser", self.populate), ("AdminGetUser", self.get_run)]
        named.append(("ListUsers", self.list_run))
        return [(name, run) for name, run in named if run is not None]


def mib(kib: int) -> str:
    """KiB as MiB for the tables."""
    return f"{kib / 1024:.1f} MiB" if kib else "-"


def flag(run: Run | None, text: str) -> str:
    """A cell with the run's warnings appended."""
    if run is None:
        return "-"
    text += " **⚠ ERRORS**" if run.bad or run.extra.get("wrong") else ""
    return text + (" (contended)" if run.foreign_cpu > MAX_FOREIGN_CPU else "")


def server_table(name: str, steps: list[Step]) -> list[str]:
    """The Markdown table of one server."""
    lines = [
        f"### {TITLES.get(name, name)}",
        "",
        "| Users | Populate users/s | AdminGetUser req/s | p50 ms | p99 ms "
        "| ListUsers filter req/s | p50 ms | p99 ms | RSS | Peak RSS |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in steps:
        g, li = s.get_run, s.list_run
        cells = [f"{s.users:,}"]
        cells.append(flag(s.populate, f"{s.rate:,.0f}"))
        for run in (g, li):
            cells.append(flag(run, f"{run.rps:,.1f}") if run else "-")
            cells += [f"{run.p50_ms:.2f}", f"{run.p99_ms:.2f}"] if run else ["-", "-"]
        lines.append("| " + " | ".join([*cells, mib(s.rss_kib), mib(s.hwm_kib)]) + " |")
    return lines


def cells(step: Step | None) -> dict[str, str]:
    """The comparison-table cells of one server at one size."""
    if step is None:
        return dict.fromkeys(("create", "get", "list", "list_rps", "rss"), "-")
    g, li = step.get_run, step.list_run
    return {
        "create": flag(step.populate, f"{step.rate:,.0f}"),
        "get": flag(g, f"{g.rps:,.0f}") if g else "-",
        "list": flag(li, f"{li.p50_ms:.2f} / {li.p99_ms:.2f}") if li else "-",
        "list_rps": f"{li.rps:,.1f}" if li else "-",
        "rss": mib(step.rss_kib),
    }


def comparison(results: dict[str, list[Step]]) -> list[str]:
    """The comparison table: one row per size."""
    lines = [
        "| Users | Populate users/s Cognate | Populate users/s moto | AdminGetUser req/s Cognate "
        "| AdminGetUser req/s moto | AdminGetUser Cognate/moto | ListUsers p50 / p99 ms Cognate "
        "| ListUsers req/s Cognate | ListUsers p50 / p99 ms moto | ListUsers req/s moto "
        "| RSS Cognate | RSS moto |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for c, m in itertools.zip_longest(results.get("cognate", []), results.get("moto", [])):
        size = c.size if c else m.size if m else 0
        cg, mg = c.get_run if c else None, m.get_run if m else None
        ratio = f"{cg.rps / mg.rps:.1f}x" if cg and mg and mg.rps else "-"
        a, b = cells(c), cells(m)
        row = [f"{size:,}", a["create"], b["create"], a["get"], b["get"], ratio]
        row += [a["list"], a["list_rps"], b["list"], b["list_rps"], a["rss"], b["rss"]]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def targets(results: dict[str, list[Step]]) -> list[str]:
    """The project's targets for Cognate, each with its verdict."""
    cog, moto = results.get("cognate", []), results.get("moto", [])
    if not cog:
        return ["Targets: not evaluated (Cognate was not measured)."]

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("**met**" if ok else "**NOT MET**")

    first, last = cog[0], cog[-1]
    lines = ["Targets (Cognate):", ""]
    fl, ll = first.list_run, last.list_run
    growth = ll.p50_ms / fl.p50_ms if fl and ll and fl.p50_ms and len(cog) > 1 else None
    lines.append(
        f"- ListUsers-with-filter p50 at {last.size:,} users within {LIST_P50_GROWTH}x its p50 "
        f"at {first.size:,} users: "
        + (f"{ll.p50_ms:.2f} / {fl.p50_ms:.2f} ms = {growth:.2f}x" if growth and fl and ll else "-")
        + f" → {verdict(None if growth is None else growth <= LIST_P50_GROWTH)}"
    )
    ratios = [
        (c.size, c.get_run.rps / m.get_run.rps)
        for c, m in zip(cog, moto, strict=False)
        if c.get_run and m.get_run and m.get_run.rps
    ]
    lines.append(
        f"- AdminGetUser ≥ {GET_RATIO:.0f}x moto's requests/s at each size: "
        + (", ".join(f"{size:,}: {r:.1f}x" for size, r in ratios) or "-")
        + f" → {verdict(all(r >= GET_RATIO for _, r in ratios) if ratios else None)}"
    )
    rates = [(s.size, s.rate) for s in cog if s.populate]
    lines.append(
        f"- AdminCreateUser ≥ {CREATE_RATE:,} users/s at every step up to {last.size:,}: "
        + (", ".join(f"{size:,}: {r:,.0f}/s" for size, r in rates) or "-")
        + f" → {verdict(all(r >= CREATE_RATE for _, r in rates) if rates else None)}"
    )
    mb = last.rss_kib * 1024 / 1e6
    lines.append(
        f"- Server RSS at {last.size:,} users ≤ {RSS_LIMIT_MB} MB: {mb:.1f} MB "
        f"({mib(last.rss_kib)}; peak {mib(last.hwm_kib)}) "
        f"→ {verdict(mb <= RSS_LIMIT_MB if last.rss_kib else None)}"
    )
    if (first.size, last.size) != (1_000, 100_000):
        lines.append(
            f"- (The targets are set for 1,000 → 100,000 users; this run used {first.size:,} → "
            f"{last.size:,}, so the verdicts are only indicative.)"
        )
    return lines


def report(results: dict[str, list[Step]], args: argparse.Namespace) -> str:
    """The whole Markdown report."""
    lines = ["## User-population benchmark", ""]
    for name, steps in results.items():
        lines += [*server_table(name, steps), ""]
    lines += ["### Comparison", "", *comparison(results), "", *targets(results), ""]
    info = environment()
    lines += [
        f"- Machine: {info['cpu']}, {os.cpu_count()} cores (servers on core 0, wrk on core 1)",
        f"- Python {info['python']}, Cognate {info['cognate']} (SQLite), moto {info['moto']}; "
        f"wrk 1 thread, {args.connections} connections; AdminGetUser and ListUsers "
        f"{args.duration}s per run after a {WARMUP_SECONDS}s warm-up",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    named = [(n, s, o, r) for n, st in results.items() for s in st for o, r in s.runs()]
    if busy := [
        f"{n} {s.size:,} {o} ({r.foreign_cpu:.0%})"
        for n, s, o, r in named
        if r.foreign_cpu > MAX_FOREIGN_CPU
    ]:
        lines.append(
            f"- Contended (other processes busy on the benchmark cores): {', '.join(busy)}"
        )
    if problems := [
        f"- {n} at {s.size:,} users: {p}"
        for n, st in results.items()
        for s in st
        for p in s.problems
    ]:
        warning = ["**WARNING: problems below; the numbers they touch are meaningless.**"]
        lines = [*warning, *problems, "", *lines, "", *warning, *problems]
    return "\n".join(lines) + "\n"
