"""The `cognate` pytest plugin, run as its users run it: a separate pytest process
(pytester) that finds the plugin through the installed package's `pytest11` entry point.
The README's example (examples/pytest) is one of the suites run, so it is kept working.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest"


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    for name in ("accounts.py", "test_accounts.py"):
        shutil.copy(EXAMPLE / name, pytester.path / name)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=6)


ISOLATION = """
import base64
import json

import pytest

SEEN = {}


def test_first(cognate):
    pool = cognate.create_pool("mine")
    SEEN["pool"] = pool["Id"]
    SEEN["region"] = cognate.region
    assert pool["Id"].startswith(cognate.region + "_")
    assert cognate.clock.advance(hours=2) == 7200
    cognate.fault("ListUserPools", "TooManyRequestsException")
    with pytest.raises(Exception, match="TooManyRequestsException"):
        cognate.client.list_user_pools(MaxResults=10)


def test_second_starts_clean(cognate):
    assert cognate.region != SEEN["region"]
    assert cognate.client.list_user_pools(MaxResults=10)["UserPools"] == []  # no fault
    assert cognate.clock.offset == 0
    assert cognate.faults() == []


def test_helpers(cognate):
    pool = cognate.create_pool()
    client = cognate.create_client(pool, secret=True)
    assert client["ClientSecret"]
    user = cognate.create_user(pool, "uma", "Passw0rd!!x", {"email": "uma@example.com"})
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # AdminCreateUser's answer
    got = cognate.client.admin_get_user(UserPoolId=pool["Id"], Username="uma")
    assert got["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]
    with pytest.raises(LookupError):
        cognate.last_code(pool, "uma")
    result = cognate.client.admin_initiate_auth(
        UserPoolId=pool["Id"],
        ClientId=cognate.create_client(pool)["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "uma", "PASSWORD": "Passw0rd!!x"},
    )["AuthenticationResult"]
    payload = result["IdToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"].startswith("https://cognito-idp.")  # cognate_settings: issuer=aws
    cognate.client.admin_reset_user_password(UserPoolId=pool["Id"], Username="uma")
    assert len(cognate.last_code(pool, "uma")) == 6
    assert cognate.messages(pool, "uma")[-1]["kind"]
"""


@pytest.mark.parametrize("mode", ["subprocess", "in-process"])
def test_each_test_gets_a_clean_handle(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_isolation=ISOLATION)
    pytester.makeini("[pytest]\ncognate_settings =\n    issuer=aws\n")
    args = ["-p", "no:cacheprovider", *(["--cognate-in-process"] if mode == "in-process" else [])]
    result = pytester.runpytest_subprocess(*args, timeout=600)
    result.assert_outcomes(passed=3)


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_off="def test_needs_it(cognate):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:cognate")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'cognate' not found*"])


def test_the_readme_quick_start_test_passes(pytester: pytest.Pytester) -> None:
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    section = readme.split("**CI with the pytest plugin.**", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "def test_" in snippet
    pytester.makepyfile(test_quick_start=snippet)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=1)
