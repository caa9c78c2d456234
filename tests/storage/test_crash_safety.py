"""Crash safety: a server killed with SIGKILL in the middle of a write-heavy load, then
started again on the same database, on SQLite and PostgreSQL.

Every request that was answered with success is still there after the restart; nothing is
half-written (a user that exists has every attribute it was created with, every group
member is an existing user, SQLite's integrity and foreign-key checks pass); and the
outbox resumes: the emails queued before the kill are delivered after the restart, each
exactly once.

The SMTP server is down while the load runs (its port is reserved but nothing listens),
so the queued emails wait in the outbox and the kill cannot land between an SMTP server's
"accepted" and the outbox recording it (that window makes delivery at-least-once: a
message a killed process was handing over when it died is sent again once its lease
runs out). The sink comes up with the restarted server.
"""

from __future__ import annotations

import itertools
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import make_client
from tests.support.cluster import shared_database
from tests.support.server import CognateServer, free_port, start_server
from tests.support.smtp_sink import SmtpSink

PASSWORD = "Crash-Pr00f-Passw0rd!"
GROUPS = ("admins", "editors", "viewers")
ENOUGH = {"created": 40, "signed_up": 15, "joined": 25}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with shared_database(request.param, tmp_path) as url:
        yield url


def created_attributes(username: str, domain: str) -> dict[str, str]:
    """What AdminCreateUser gives `username` (every value derived from the name)."""
    return {
        "email": f"{username}@{domain}",
        "email_verified": "true",
        "name": f"Name of {username}",
        "given_name": f"Given {username}",
        "family_name": f"Family {username}",
        "custom:tier": f"tier-{username}",
    }


def signed_up_attributes(username: str, domain: str) -> dict[str, str]:
    """What SignUp gives `username`."""
    return {
        "email": f"{username}@{domain}",
        "name": f"Name of {username}",
        "custom:tier": f"tier-{username}",
    }


@dataclass
class Load:
    """What the load's threads were told: successes, and requests with no answer."""

    created: list[str] = field(default_factory=list)
    signed_up: list[str] = field(default_factory=list)
    joined: list[tuple[str, str]] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enough(self) -> bool:
        with self.lock:
            return (
                len(self.created) >= ENOUGH["created"]
                and len(self.signed_up) >= ENOUGH["signed_up"]
                and len(self.joined) >= ENOUGH["joined"]
            )


def run_load(server: CognateServer, region: str, pool_id: str, client_id: str, domain: str) -> Load:
    """Six threads writing until the server is killed under them (once enough succeeded,
    at a random moment)."""
    load = Load()
    stop = threading.Event()

    def worker(kind: str, index: int) -> None:
        cognito = make_client(server.endpoint, region)
        rng = random.Random(f"{kind}{index}")
        for n in itertools.count():
            if stop.is_set():
                return
            username = f"{kind[0]}{index}-{n}"
            call: Callable[[], Any]
            if kind == "create":
                attributes = created_attributes(username, domain)
                call = partial(
                    cognito.admin_create_user,
                    UserPoolId=pool_id,
                    Username=username,
                    MessageAction="SUPPRESS",
                    TemporaryPassword=PASSWORD,
                    UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
                )
            elif kind == "sign-up":
                attributes = signed_up_attributes(username, domain)
                call = partial(
                    cognito.sign_up,
                    ClientId=client_id,
                    Username=username,
                    Password=PASSWORD,
                    UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
                )
            else:
                with load.lock:
                    candidates = list(load.created)
                if not candidates:
                    time.sleep(0.05)
                    continue
                username = rng.choice(candidates)
                group = rng.choice(GROUPS)
                call = partial(
                    cognito.admin_add_user_to_group,
                    UserPoolId=pool_id,
                    Username=username,
                    GroupName=group,
                )
            try:
                call()
            except ClientError as exc:
                with load.lock:
                    load.refused.append(f"{kind} {username}: {exc}")
                continue
            except BotoCoreError:  # the connection died with the server: no answer
                with load.lock:
                    load.unanswered.append(f"{kind} {username}")
                return
            with load.lock:
                if kind == "create":
                    load.created.append(username)
                elif kind == "sign-up":
                    load.signed_up.append(username)
                else:
                    load.joined.append((username, group))

    threads = [
        threading.Thread(target=worker, args=(kind, index))
        for kind in ("create", "sign-up", "join")
        for index in range(2)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 300
        while not load.enough():
            assert time.monotonic() < deadline, f"the load did too little: {load}"
            assert server.process is not None
            assert server.process.poll() is None, server.log()
            time.sleep(0.1)
        time.sleep(random.uniform(0, 0.5))
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    return load


def sqlite_checks(db: str) -> None:
    """SQLite's own checks of the file: structure and foreign keys."""
    path = db.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def all_users(cognito: Any, pool_id: str) -> dict[str, dict[str, str]]:
    users: dict[str, dict[str, str]] = {}
    token: dict[str, str] = {}
    while True:
        page = cognito.list_users(UserPoolId=pool_id, Limit=60, **token)
        for user in page["Users"]:
            users[user["Username"]] = {a["Name"]: a["Value"] for a in user["Attributes"]}
        if "PaginationToken" not in page:
            return users
        token = {"PaginationToken": page["PaginationToken"]}


def members(cognito: Any, pool_id: str, group: str) -> set[str]:
    found: set[str] = set()
    token: dict[str, str] = {}
    while True:
        page = cognito.list_users_in_group(UserPoolId=pool_id, GroupName=group, Limit=60, **token)
        found |= {user["Username"] for user in page["Users"]}
        if "NextToken" not in page:
            return found
        token = {"NextToken": page["NextToken"]}


def test_a_killed_server_loses_nothing_it_answered(tmp_path: Path, database_url: str) -> None:
    region = f"zz-{uuid.uuid4().hex[:10]}-1"
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    smtp_port = free_port()  # nothing listens there until the restart
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-security", "none"]
    with start_server(tmp_path, db=database_url, extra_args=smtp) as server:
        cognito = make_client(server.endpoint, region)
        pool_id = cognito.create_user_pool(
            PoolName="crash",
            AutoVerifiedAttributes=["email"],
            Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="app")[
            "UserPoolClient"
        ]["ClientId"]
        for group in GROUPS:
            cognito.create_group(UserPoolId=pool_id, GroupName=group)

        load = run_load(server, region, pool_id, client_id, domain)
        assert load.refused == []
        if database_url.startswith("sqlite"):
            sqlite_checks(database_url)  # the file exactly as the kill left it

        with SmtpSink(port=smtp_port) as sink:
            server.start()
            cognito = make_client(server.endpoint, region)
            users = all_users(cognito, pool_id)

            # every answered write is there, whole
            for username in load.created:
                user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
                assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
                attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
                assert attributes.items() >= created_attributes(username, domain).items()
            for username in load.signed_up:
                user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
                assert user["UserStatus"] == "UNCONFIRMED"
                attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
                assert attributes.items() >= signed_up_attributes(username, domain).items()
            for username, group in load.joined:
                groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)
                assert group in {g["GroupName"] for g in groups["Groups"]}

            # nothing half-written: whatever exists (answered or not) is complete
            for username, attributes in users.items():
                expected = (
                    created_attributes if username.startswith("c") else signed_up_attributes
                )(username, domain)
                assert attributes.items() >= expected.items(), username
                assert attributes["sub"]
            unanswered_users = {u.split()[1] for u in load.unanswered if "join" not in u}
            assert set(users) - set(load.created) - set(load.signed_up) <= unanswered_users
            for group in GROUPS:
                assert members(cognito, pool_id, group) <= set(users)

            # the outbox resumes: one verification email per sign-up (answered, or made
            # before the kill without its answer getting out), each delivered once
            signed_up = [u for u in users if u.startswith("s")]
            assert set(load.signed_up) <= set(signed_up)
            deadline = time.monotonic() + 240  # a message held by the dead process: 60 s
            while len(sink.messages) < len(signed_up):
                assert time.monotonic() < deadline, (len(sink.messages), len(signed_up))
                time.sleep(0.2)
            time.sleep(3)  # a duplicate would come now
            recipients = sorted(to for mail in sink.messages for to in mail.rcpt_tos)
            assert recipients == sorted(f"{u}@{domain}" for u in signed_up)
    if database_url.startswith("sqlite"):
        sqlite_checks(database_url)
