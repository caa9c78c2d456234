"""bench/soak.py still runs: a few seconds of its mixed workload on SQLite with two workers.

Not the soak itself (a benchmark, run by hand for minutes): this only checks that the
script starts a server, drives every operation of its mix without an error, samples the
server's memory, cross-checks /metrics and writes its report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_soak_script_runs_briefly(tmp_path: Path) -> None:
    report = tmp_path / "soak.md"
    argv = [sys.executable, str(REPO / "bench" / "soak.py"), "--backend", "sqlite"]
    argv += ["--duration", "3", "--warmup", "0.5", "--clients", "2", "--users", "3"]
    argv += ["--sample", "0.5", "--output", str(report)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    text = report.read_text()
    for operation in ("SignUp", "PasswordSignIn", "SrpSignIn", "Refresh", "GetUser", "ListUsers"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {operation} |"))
        assert row.endswith("| 0 |"), row  # no errors
    assert "Server memory (RSS of all 3 processes" in text
    assert "Server log: no tracebacks" in text
    assert "MISMATCH" not in text
