"""Import 100,000 generated users through a CSV user import job on a live server.

Starts `cognate serve` (one process, a fresh SQLite database in a temporary directory, or
the PostgreSQL database given with --db), creates a pool, streams a generated CSV of
`--rows` users to the job's pre-signed URL (the body is generated as it is sent), starts
the job and waits for it to end. Prints the job's rows per second (StartDate to
CompletionDate) and the server process's peak resident memory (VmHWM from
/proc/<pid>/status) before the upload and after the import, so the growth the import
caused is visible.

    .venv/bin/python bench/import_100k.py [--rows 100000] [--db postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import requests
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/CognitoImportLogs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_cognate/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def generate(header: list[str], rows: int) -> Iterator[bytes]:
    """The CSV, a few hundred rows per piece, made as it is sent."""
    yield (",".join(header) + "\n").encode()
    piece: list[str] = []
    for i in range(rows):
        values = {
            "cognito:username": f"user{i:07d}",
            "cognito:mfa_enabled": "false",
            "email": f"user{i:07d}@example.com",
            "email_verified": "true",
            "given_name": f"Given{i}",
            "family_name": "Family\\, Jr",
            "locale": "en-GB",
        }
        piece.append(",".join(values.get(name, "") for name in header))
        if len(piece) == 500:
            yield ("\n".join(piece) + "\n").encode()
            piece = []
    if piece:
        yield ("\n".join(piece) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="", help="database URL (default: fresh SQLite)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cognate-import-bench-"))
    db = args.db or f"sqlite:///{workdir}/cognate.db"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    env = dict(os.environ, COGNATE_MASTER_KEY_FILE=str(workdir / "master.key"))
    command = [sys.executable, "-m", "cognate", "serve", "--port", str(port), "--db", db]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=out)
    try:
        wait_ready(endpoint, process, log)
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        pool_id = cognito.create_user_pool(
            PoolName="bench-import", AutoVerifiedAttributes=["email"]
        )["UserPool"]["Id"]
        header = cognito.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        job = cognito.create_user_import_job(
            JobName="bench", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE
        )["UserImportJob"]
        before = memory_kib(process.pid, "VmHWM")

        began = time.monotonic()
        uploaded = requests.put(job["PreSignedUrl"], data=generate(header, args.rows), timeout=600)
        uploaded.raise_for_status()
        upload_seconds = time.monotonic() - began

        cognito.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        while True:
            done = cognito.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])[
                "UserImportJob"
            ]
            if done["Status"] in ("Succeeded", "Failed", "Stopped", "Expired"):
                break
            time.sleep(0.5)
        peak = memory_kib(process.pid, "VmHWM")
        seconds = (done["CompletionDate"] - done["StartDate"]).total_seconds()
        print(f"database          {'PostgreSQL' if args.db else 'SQLite'}")
        print(f"rows              {args.rows}")
        print(f"upload            {upload_seconds:.1f} s")
        print(
            f"job               {done['Status']}: imported {done['ImportedUsers']}, "
            f"skipped {done['SkippedUsers']}, failed {done['FailedUsers']}"
        )
        print(f"import            {seconds:.1f} s, {done['ImportedUsers'] / seconds:,.0f} rows/s")
        print(f"server VmHWM      {before / 1024:.1f} MiB before upload")
        print(f"server VmHWM      {peak / 1024:.1f} MiB after import")
    finally:
        process.terminate()
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
