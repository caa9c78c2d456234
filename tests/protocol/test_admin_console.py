"""The admin console over plain HTTP (httpx): off without an admin password, the sign-in
and its cookie, CSRF refusal of every POST without the page's token, and no console on a
pool domain's Host. The browser walk through the console is tests/e2e/test_browser_admin.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, make_client
from tests.support.admin_console import ADMIN_PASSWORD, admin_server, csrf_of, signed_in
from tests.support.auth import new_pool, new_user
from tests.support.server import CognateServer

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module", params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    workdir: Path = tmp_path_factory.mktemp(f"admin-{request.param}")
    with admin_server(request.param, workdir) as (srv, _clock):
        yield srv


@pytest.fixture
def cognito(console: CognateServer, region: str) -> Any:
    return make_client(console.endpoint, region)


def test_console_is_off_without_a_password(server: CognateServer) -> None:
    for method, path in (
        ("GET", "/admin"),
        ("GET", "/admin/login"),
        ("POST", "/admin/login"),
        ("GET", "/admin/pools/us-east-1_abc"),
    ):
        answer = httpx.request(method, server.endpoint + path, data={"password": "x"})
        assert answer.status_code == 404, (method, path, answer.text)
    assert "admin     off" in server.log()


def test_sign_in_cookie_and_sign_out(console: CognateServer) -> None:
    assert f"{console.endpoint}/admin (password: COGNATE_ADMIN_PASSWORD)" in console.log()
    anonymous = httpx.Client(base_url=console.endpoint, follow_redirects=False)
    for path in ("/admin", "/admin/pools/us-east-1_abc"):
        answer = anonymous.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/admin/login"), path
    page = anonymous.get("/admin/login")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    token = csrf_of(page.text)
    wrong = anonymous.post("/admin/login", data={"_csrf": token, "password": "nope"})
    assert wrong.status_code == 401
    assert "Incorrect password." in wrong.text
    assert "cognate_admin=" not in wrong.headers.get("set-cookie", "")
    right = anonymous.post("/admin/login", data={"_csrf": token, "password": ADMIN_PASSWORD})
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("cognate_admin=")
    for attribute in ("HttpOnly", "Path=/admin", "SameSite=strict", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower(), cookie
    assert anonymous.get("/admin").status_code == 200
    # A session cookie that is not the server's is no session.
    value = anonymous.cookies["cognate_admin"]
    forged = httpx.Client(base_url=console.endpoint, follow_redirects=False)
    forged.cookies.set("cognate_admin", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert forged.get("/admin").status_code == 303
    out = anonymous.post("/admin/logout", data={"_csrf": token})
    assert (out.status_code, out.headers["location"]) == (303, "/admin/login")
    assert anonymous.get("/admin").status_code == 303


def test_posts_without_the_csrf_token_are_refused(console: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito, "admin-csrf")
    new_user(cognito, pool_id, "alice")
    client, token = signed_in(console)
    actions = [
        (f"/admin/pools/{pool_id}/user/delete", {"username": "alice", "confirm": "on"}),
        (f"/admin/pools/{pool_id}/user/disable", {"username": "alice"}),
        (f"/admin/pools/{pool_id}/users", {"username": "mallory", "password": "Passw0rd!Long"}),
    ]
    for path, form in actions:
        for given in ({}, {"_csrf": "not-the-token"}, {"_csrf": token + "x"}):
            answer = client.post(path, data={**form, **given})
            assert answer.status_code == 403, (path, given, answer.text)
            assert "CSRF check failed" in answer.text
    # Without the cookie half of the pair (another site's form), the right token is refused.
    stranger = httpx.Client(base_url=console.endpoint, follow_redirects=False)
    stranger.cookies.set("cognate_admin", client.cookies["cognate_admin"])
    answer = stranger.post(actions[0][0], data={**actions[0][1], "_csrf": token})
    assert answer.status_code == 403
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert user["Enabled"] is True
    users = cognito.list_users(UserPoolId=pool_id)["Users"]
    assert [u["Username"] for u in users] == ["alice"]
    # With the token, the same action works, and its page says so after the redirect.
    done = client.post(actions[1][0], data={**actions[1][1], "_csrf": token})
    assert done.status_code == 303
    assert "User alice disabled." in client.get(done.headers["location"]).text
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="alice")["Enabled"] is False


def test_the_sign_in_form_needs_its_token(console: CognateServer) -> None:
    client = httpx.Client(base_url=console.endpoint, follow_redirects=False)
    answer = client.post("/admin/login", data={"password": ADMIN_PASSWORD})
    assert answer.status_code == 403
    assert "cognate_admin=" not in answer.headers.get("set-cookie", "")


def test_no_console_on_a_pool_domain(console: CognateServer, cognito: Any) -> None:
    pool_id = new_pool(cognito, "admin-domains")
    prefix = f"adm-{uuid.uuid4().hex[:10]}"
    cognito.create_user_pool_domain(Domain=prefix, UserPoolId=pool_id)
    custom = f"auth-{uuid.uuid4().hex[:8]}.example.com"
    cognito.create_user_pool_domain(
        Domain=custom, UserPoolId=pool_id, CustomDomainConfig={"CertificateArn": CERT_ARN}
    )
    region = pool_id.rsplit("_", 1)[0]
    for host in (f"{prefix}.auth.{region}.localhost", custom):
        answer = httpx.get(f"{console.endpoint}/admin/login", headers={"Host": host})
        assert answer.status_code == 404, (host, answer.text)
    assert httpx.get(f"{console.endpoint}/admin/login").status_code == 200
