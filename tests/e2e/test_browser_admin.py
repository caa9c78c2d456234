"""The admin console in a real browser: Chromium (Debian's /usr/bin/chromium, driven by
Playwright) against a server started with an admin password.

Without a cookie /admin leads to the sign-in page; a wrong password is refused; then the
console lists the pools of every region, opens a pool (its app client, group and users,
filtered by username prefix) and a user whose MFA (a verified TOTP authenticator,
preferred), remembered device, group and auth events were made through boto3 first; it
creates a user, shows Cognito's error for a second user of the same name, resets the
password, sets a permanent one, disables and deletes the user, and signs out. Every result
is checked through boto3 as well, and every page is screenshotted and checked
(tests/support/screenshots.py).

Needs Chromium at /usr/bin/chromium and the Python `playwright` package; skipped without.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BACKENDS, make_client
from tests.support.admin_console import ADMIN_PASSWORD, admin_server
from tests.support.auth import new_client, new_pool, new_user, sign_in
from tests.support.browser import launch_chromium
from tests.support.clock import ShiftedClock
from tests.support.devices import Setup, new_device, set_up_totp
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

pytestmark = pytest.mark.browser

NEW_PASSWORD = "N3w-Permanent-Pass!"


@pytest.fixture(params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    with admin_server(request.param, tmp_path) as started:
        yield started


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser.new_context(viewport={"width": 1280, "height": 900}).new_page()


def pool_with_a_user(cognito: Any, clock: ShiftedClock) -> Setup:
    """A pool with threat protection (auth events), remembered devices and TOTP MFA; an app
    client; a group; alice in it with a confirmed device, a verified and preferred TOTP
    authenticator, and sign-ins in her event history."""
    pool_id = new_pool(
        cognito,
        "admin-demo",
        UserPoolTier="PLUS",
        UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"},
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": False,
            "DeviceOnlyRememberedOnUserPrompt": False,
        },
    )
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "alice", attributes={"email": "alice@example.com"})
    new_user(cognito, pool_id, "bob", attributes={"email": "bob@example.com"})
    cognito.create_group(UserPoolId=pool_id, GroupName="staff", Description="The staff")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="staff")
    setup = Setup(pool_id, client_id)
    new_device(cognito, setup, "alice's laptop")
    set_up_totp(cognito, setup, clock)
    return setup


def flash(page: Any) -> str:
    return str(page.inner_text("#flash")).strip()


def test_admin_console_in_chromium(
    browser_page: Any,
    console: tuple[CognateServer, ShiftedClock],
    region: str,
    request: pytest.FixtureRequest,
) -> None:
    server, clock = console
    cognito = make_client(server.endpoint, region)
    setup = pool_with_a_user(cognito, clock)
    pool_id = setup.pool_id
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    device_key = cognito.admin_list_devices(UserPoolId=pool_id, Username="alice")["Devices"][0][
        "DeviceKey"
    ]
    events = cognito.admin_list_user_auth_events(UserPoolId=pool_id, Username="alice")
    assert events["AuthEvents"], "the sign-ins should be in alice's event history"
    page = browser_page
    shots = Screenshots(request, page)
    base = server.endpoint

    # No cookie: the console sends the browser to its sign-in page.
    page.goto(f"{base}/admin")
    assert page.url == f"{base}/admin/login"
    shots.take(page, "sign-in", heading="Sign in")
    page.fill("#password", "not-the-password")
    page.click("#sign-in")
    shots.take(page, "wrong-password", heading="Sign in", text="Incorrect password.")
    assert page.url == f"{base}/admin/login"
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#sign-in")

    # The pools, by region.
    assert page.url == f"{base}/admin"
    section = page.locator(f"section.region[data-region='{region}']")
    assert "admin-demo" in section.inner_text()
    assert pool_id in section.inner_text()
    shots.take(page, "pools", heading="User pools", text=pool_id)

    # A pool: summary, app client, group, users (and the prefix filter).
    section.locator("a", has_text="admin-demo").click()
    assert page.url == f"{base}/admin/pools/{pool_id}"
    assert setup.client_id in page.inner_text("#clients")
    assert "The staff" in page.inner_text("#groups")
    listed = page.inner_text("#user-list")
    assert "alice" in listed
    assert "bob" in listed
    assert "OPTIONAL" in page.inner_text("#pool-summary")
    shots.take(page, "pool", heading="admin-demo", text="alice@example.com")
    page.fill("#prefix", "ali")
    page.click("#filter")
    listed = page.inner_text("#user-list")
    assert "alice" in listed
    assert "bob" not in listed
    shots.take(page, "pool-filtered", heading="admin-demo", text="alice")

    # A user: attributes, MFA, device, group, auth events.
    page.locator("#user-list a", has_text="alice").click()
    assert page.inner_text("#status") == "CONFIRMED"
    assert "alice@example.com" in page.inner_text("#attributes")
    mfa = page.inner_text("#mfa")
    assert "SOFTWARE_TOKEN_MFA" in mfa
    assert "configured (phone)" in mfa
    devices = page.inner_text("#devices")
    assert device_key in devices
    assert "alice's laptop" in devices
    assert "staff" in page.inner_text("#groups")
    shown_events = page.inner_text("#events")
    assert "SignIn" in shown_events
    assert "Pass" in shown_events
    shots.take(page, "user", heading="alice", text=device_key)

    # Create a user with a temporary password.
    page.goto(f"{base}/admin/pools/{pool_id}")
    page.fill("#new-username", "dave")
    page.fill("#new-email", "dave@example.com")
    page.check("#new-email-verified")
    page.fill("#new-password", "Temp0rary-Pass!")
    page.click("#create")
    assert flash(page) == "User dave created."
    shots.take(page, "created", heading="dave", text="FORCE_CHANGE_PASSWORD")
    dave = cognito.admin_get_user(UserPoolId=pool_id, Username="dave")
    assert dave["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {"Name": "email_verified", "Value": "true"} in dave["UserAttributes"]

    # The same name again: Cognito's error, on the pool's page.
    page.goto(f"{base}/admin/pools/{pool_id}")
    page.fill("#new-username", "dave")
    page.click("#create")
    assert flash(page) == "UsernameExistsException: User account already exists"
    shots.take(page, "create-refused", heading="admin-demo", text="UsernameExistsException")

    # Reset the password (AdminResetUserPassword: a code goes to the verified email).
    page.locator("#user-list a", has_text="dave").click()
    page.click("#reset-password")
    assert flash(page).startswith("Password of dave reset")
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="dave")["UserStatus"] == (
        "RESET_REQUIRED"
    )
    shots.take(page, "reset", heading="dave", text="RESET_REQUIRED")

    # A new permanent password: dave can sign in with it.
    page.fill("#set-password-value", NEW_PASSWORD)
    page.check("#set-password-permanent")
    page.click("#set-password")
    assert flash(page) == "New permanent password set for dave."
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="dave")["UserStatus"] == (
        "CONFIRMED"
    )
    assert sign_in(cognito, setup.client_id, "dave", NEW_PASSWORD)["AccessToken"]
    shots.take(page, "password-set", heading="dave", text="CONFIRMED")

    # Disable, then delete.
    page.click("#disable")
    assert flash(page) == "User dave disabled."
    assert page.inner_text("#enabled") == "disabled"
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="dave")["Enabled"] is False
    shots.take(page, "disabled", heading="dave", text="disabled")
    page.check("#delete-confirm")
    page.click("#delete")
    assert flash(page) == "User dave deleted."
    assert page.url == f"{base}/admin/pools/{pool_id}"
    with pytest.raises(ClientError) as missing:
        cognito.admin_get_user(UserPoolId=pool_id, Username="dave")
    assert missing.value.response["Error"]["Code"] == "UserNotFoundException"
    assert "dave" not in page.inner_text("#user-list")
    shots.take(page, "deleted", heading="admin-demo", text="User dave deleted.")

    # Signing out ends the session.
    page.click("#sign-out")
    assert page.url == f"{base}/admin/login"
    page.goto(f"{base}/admin/pools/{pool_id}")
    assert page.url == f"{base}/admin/login"
    shots.take(page, "signed-out", heading="Sign in")
