"""Helpers for the admin console's tests: a `cognate serve` with an admin password (and a
clock the test can move, for TOTP set-up), on either backend, and an httpx session
signed in to the console the way a browser is (the sign-in form's CSRF token, then the
password).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.support.clock import ShiftedClock
from tests.support.server import CognateServer, postgres_database, start_server

ADMIN_PASSWORD = "Adm1n-console-pass!"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@contextlib.contextmanager
def admin_server(backend: str, workdir: Path) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    """A server whose admin console is on (COGNATE_ADMIN_PASSWORD), with a shifted clock."""
    clock = ShiftedClock(workdir)
    env = {**clock.env(), "COGNATE_ADMIN_PASSWORD": ADMIN_PASSWORD}
    if backend == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", env=env) as srv:
            yield srv, clock
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url, env=env) as srv:
        yield srv, clock


def csrf_of(html: str) -> str:
    """The CSRF token in a console page's forms."""
    found = _CSRF.search(html)
    assert found is not None, html
    return found.group(1)


def signed_in(server: CognateServer, password: str = ADMIN_PASSWORD) -> tuple[httpx.Client, str]:
    """An httpx client (redirects not followed) signed in to the console, and the CSRF
    token its forms carry."""
    client = httpx.Client(base_url=server.endpoint, follow_redirects=False, timeout=30)
    token = csrf_of(client.get("/admin/login").text)
    answer = client.post("/admin/login", data={"_csrf": token, "password": password})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/admin"
    return client, token
